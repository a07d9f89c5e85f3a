//! Route-by-route tests of the HTTP API, with the Socket.IO endpoint off (emits reach nobody);
//! delivery to clients is tested with the official client in `protocol-tests/`.

use super::*;
use crate::store::{Store, TempDir, test_dir};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

struct Fixture {
    api: Api,
    metrics: Metrics,
    _dir: TempDir,
}

fn fixture(tag: &str) -> Fixture {
    let dir = test_dir(tag);
    let keys = Arc::new(Keys::load(Store::open(&dir.0).unwrap(), Some("G".into())).unwrap());
    let metrics = Metrics::new().unwrap();
    let hub = Hub::disabled(metrics.clone());
    let api = Api::new(
        keys,
        hub,
        metrics.clone(),
        Some("http://gw".into()),
        1024,
        Origins::Any,
    );
    Fixture {
        api,
        metrics,
        _dir: dir,
    }
}

async fn call(
    api: &Api,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(k) = key {
        req = req.header("apikey", k);
    }
    let req = req.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
    let res = api.handle(req).await;
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::String(
        String::from_utf8_lossy(&bytes).into_owned(),
    ));
    (status, json)
}

const EVENT: &str = r#"{"event":"messages.upsert","instance":"shop","data":{"x":1}}"#;

#[tokio::test]
async fn health_needs_no_key() {
    let f = fixture("api-health");
    let (status, body) = call(&f.api, "GET", "/healthz", None, "").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn metrics_need_the_global_key_in_header_or_query() {
    let f = fixture("api-metrics");
    assert_eq!(call(&f.api, "GET", "/metrics", None, "").await.0, 401);
    assert_eq!(call(&f.api, "GET", "/metrics", Some("x"), "").await.0, 401);
    assert_eq!(
        call(&f.api, "POST", "/webhook", Some("G"), EVENT).await.0,
        202
    );
    let (status, text) = call(&f.api, "GET", "/metrics?apikey=G", None, "").await;
    assert_eq!(status, 200);
    assert!(
        text.as_str()
            .unwrap_or("")
            .contains("sio_gateway_events_in_total")
    );
}

#[tokio::test]
async fn webhook_keys() {
    let f = fixture("api-webhook-keys");
    f.api.keys.put("shop", "T-shop").await.unwrap();
    f.api.keys.put("bar", "T-bar").await.unwrap();

    let (status, body) = call(&f.api, "POST", "/webhook", None, EVENT).await;
    assert_eq!((status, body["error"].is_string()), (401, true));
    assert_eq!(
        call(&f.api, "POST", "/webhook", Some("nope"), EVENT)
            .await
            .0,
        401
    );
    assert_eq!(
        call(&f.api, "POST", "/webhook", Some("G"), EVENT).await.0,
        202
    );
    assert_eq!(
        call(&f.api, "POST", "/webhook?apikey=G", None, EVENT)
            .await
            .0,
        202
    );
    assert_eq!(
        call(&f.api, "POST", "/webhook", Some("T-shop"), EVENT)
            .await
            .0,
        202
    );
    let (status, body) = call(&f.api, "POST", "/webhook", Some("T-bar"), EVENT).await;
    assert_eq!(status, 403);
    assert!(body["error"].as_str().unwrap().contains("bar"));
    // The key in the path, as the Evolution API's global webhook sends it.
    assert_eq!(
        call(&f.api, "POST", "/webhook/key/G", None, EVENT).await.0,
        202
    );
    assert_eq!(
        call(
            &f.api,
            "POST",
            "/webhook/key/T-shop/messages-upsert",
            None,
            EVENT
        )
        .await
        .0,
        202
    );
    assert_eq!(
        call(
            &f.api,
            "POST",
            "/webhook/key/wrong/messages-upsert",
            None,
            EVENT
        )
        .await
        .0,
        401
    );
}

#[tokio::test]
async fn webhook_answers_name_the_problem() {
    let f = fixture("api-webhook-bad");
    let cases = [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        (r#"{"instance":"shop"}"#, "`event`"),
        (r#"{"event":"connect","instance":"shop"}"#, "reserved"),
        (r#"{"event":"e"}"#, "`instance`"),
        (r#"{"event":"e","instance":"a b"}"#, "`instance`"),
    ];
    for (body, needle) in cases {
        let (status, answer) = call(&f.api, "POST", "/webhook", Some("G"), body).await;
        assert_eq!(status, 400, "{body}");
        let msg = answer["error"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let big = format!(
        r#"{{"event":"e","instance":"i","data":"{}"}}"#,
        "x".repeat(2000)
    );
    assert_eq!(
        call(&f.api, "POST", "/webhook", Some("G"), &big).await.0,
        413
    );
    // The path supplies the event only when the body has none.
    let (status, body) = call(
        &f.api,
        "POST",
        "/webhook/messages-update",
        Some("G"),
        r#"{"instance":"i"}"#,
    )
    .await;
    assert_eq!(
        (status, body["event"].as_str()),
        (202, Some("messages-update"))
    );
    let (_, body) = call(&f.api, "POST", "/webhook/messages-update", Some("G"), EVENT).await;
    assert_eq!(body["event"], "messages.upsert");

    let text = f.metrics.render();
    assert!(
        text.contains("sio_gateway_ingest_rejections_total{reason=\"not_json\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("sio_gateway_ingest_rejections_total{reason=\"too_large\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn emit_needs_the_global_key() {
    let f = fixture("api-emit");
    f.api.keys.put("shop", "T-shop").await.unwrap();
    let body = r#"{"namespace":"/shop","event":"hello","args":[1]}"#;
    assert_eq!(
        call(&f.api, "POST", "/emit", Some("T-shop"), body).await.0,
        403
    );
    assert_eq!(call(&f.api, "POST", "/emit", Some("G"), body).await.0, 202);
    assert_eq!(
        call(
            &f.api,
            "POST",
            "/emit",
            Some("G"),
            r#"{"namespace":"x","event":"e"}"#
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn instance_management() {
    let f = fixture("api-instances");
    let put = |name: &'static str, token: &'static str| {
        let api = f.api.clone();
        async move {
            call(
                &api,
                "PUT",
                &format!("/instances/{name}"),
                Some("G"),
                &format!(r#"{{"token":"{token}"}}"#),
            )
            .await
            .0
        }
    };
    assert_eq!(put("shop", "t1").await, 201);
    assert_eq!(put("shop", "t2").await, 200);
    assert_eq!(put("shop", "t2").await, 200);
    assert_eq!(put("bar", "t2").await, 409);
    assert_eq!(put("bad%20name", "t3").await, 400);
    assert_eq!(put("bar", "G").await, 400);
    assert_eq!(
        call(
            &f.api,
            "PUT",
            "/instances/bar",
            Some("G"),
            r#"{"token":""}"#
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(&f.api, "PUT", "/instances/bar", Some("G"), r#"{"tok":"x"}"#)
            .await
            .0,
        400
    );
    assert_eq!(
        call(
            &f.api,
            "PUT",
            "/instances/bar",
            Some("t2"),
            r#"{"token":"x"}"#
        )
        .await
        .0,
        403
    );

    let (status, list) = call(&f.api, "GET", "/instances", Some("G"), "").await;
    assert_eq!(status, 200);
    assert_eq!(list, serde_json::json!({ "instances": ["shop"] }));
    assert!(!list.to_string().contains("t2"), "tokens are never listed");

    assert_eq!(
        call(&f.api, "DELETE", "/instances/shop", Some("G"), "")
            .await
            .0,
        200
    );
    assert_eq!(
        call(&f.api, "DELETE", "/instances/shop", Some("G"), "")
            .await
            .0,
        404
    );
    assert_eq!(f.api.keys.resolve("t2"), None);
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let f = fixture("api-routes");
    assert_eq!(call(&f.api, "GET", "/nothing", None, "").await.0, 404);
    assert_eq!(call(&f.api, "GET", "/webhook", Some("G"), "").await.0, 405);
    assert_eq!(call(&f.api, "OPTIONS", "/webhook", None, "").await.0, 204);
}
