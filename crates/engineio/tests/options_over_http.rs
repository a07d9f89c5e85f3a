//! Engine options seen from a real HTTP client on loopback: the access check,
//! the session cookie, CORS, the transports offered, the payload limit and the
//! initial packet. Each test starts its own engine on a free port.

use std::net::SocketAddr;
use std::time::Duration;

use engineio::{CookieConfig, CorsConfig, CorsOrigins, EngineConfig, Message, TransportKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

/// Serves an echo engine with `config`; returns its address.
async fn start(config: EngineConfig) -> SocketAddr {
    common::start_echo(config).await.0
}

/// A response: status, lower-cased headers, body.
struct Res {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Res {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
async fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Res {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Res {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn open_sid(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    json["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn access_check_refuses_with_403_and_its_message() {
    let addr = start(EngineConfig {
        allow_request: Some(std::sync::Arc::new(
            |parts: &http::request::Parts, _| match parts.headers.get("x-token") {
                Some(v) if v == "good" => Ok(()),
                _ => Err("no token".to_owned()),
            },
        )),
        ..EngineConfig::default()
    })
    .await;
    let refused = http(addr, "GET", "/engine.io/?EIO=4&transport=polling", &[], "").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body, r#"{"code":4,"message":"no token"}"#);
    let allowed = http(
        addr,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[("x-token", "good")],
        "",
    )
    .await;
    assert_eq!(allowed.status, 200);
    assert!(allowed.body.starts_with(r#"0{"sid":""#));
}

#[tokio::test]
async fn session_cookie_is_set_on_the_handshake() {
    let addr = start(EngineConfig {
        cookie: Some(CookieConfig::default()),
        ..EngineConfig::default()
    })
    .await;
    let res = http(addr, "GET", "/engine.io/?EIO=4&transport=polling", &[], "").await;
    let sid = open_sid(&res.body);
    assert_eq!(
        res.header("set-cookie"),
        Some(format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );
    // Off by default.
    let plain = start(EngineConfig::default()).await;
    let res = http(plain, "GET", "/engine.io/?EIO=4&transport=polling", &[], "").await;
    assert_eq!(res.header("set-cookie"), None);
}

#[tokio::test]
async fn cors_echoes_a_listed_origin_with_credentials() {
    let addr = start(EngineConfig {
        cors: Some(CorsConfig {
            origins: CorsOrigins::List(vec!["https://app.example".to_owned()]),
            credentials: true,
            ..CorsConfig::default()
        }),
        ..EngineConfig::default()
    })
    .await;
    let ok = http(
        addr,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[("origin", "https://app.example")],
        "",
    )
    .await;
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    let other = http(
        addr,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[("origin", "https://evil.example")],
        "",
    )
    .await;
    assert_ne!(
        other.header("access-control-allow-origin"),
        Some("https://evil.example")
    );
    let preflight = http(
        addr,
        "OPTIONS",
        "/engine.io/?EIO=4&transport=polling",
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
        ],
        "",
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
}

#[tokio::test]
async fn transports_and_upgrades_follow_the_options() {
    let ws_only = start(EngineConfig {
        transports: vec![TransportKind::Websocket],
        ..EngineConfig::default()
    })
    .await;
    let res = http(
        ws_only,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[],
        "",
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, r#"{"code":0,"message":"Transport unknown"}"#);

    let no_upgrades = start(EngineConfig {
        allow_upgrades: false,
        ..EngineConfig::default()
    })
    .await;
    let res = http(
        no_upgrades,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[],
        "",
    )
    .await;
    assert!(res.body.contains(r#""upgrades":[]"#), "{}", res.body);
}

#[tokio::test]
async fn max_payload_is_configurable_and_advertised() {
    let addr = start(EngineConfig {
        max_payload: 100,
        ..EngineConfig::default()
    })
    .await;
    let open = http(addr, "GET", "/engine.io/?EIO=4&transport=polling", &[], "").await;
    assert!(open.body.ends_with(r#""maxPayload":100}"#), "{}", open.body);
    let sid = open_sid(&open.body);
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let fits = http(addr, "POST", &target, &[], &format!("4{}", "x".repeat(99))).await;
    assert_eq!(fits.status, 200);
    let echo = http(addr, "GET", &target, &[], "").await;
    assert_eq!(echo.body.len(), 100);
    let over = http(addr, "POST", &target, &[], &format!("4{}", "x".repeat(100))).await;
    assert_eq!(over.status, 413);
}

#[tokio::test]
async fn heartbeat_timings_are_advertised_in_whole_milliseconds() {
    let addr = start(EngineConfig {
        ping_interval: Duration::from_millis(1234),
        ping_timeout: Duration::from_millis(567),
        ..EngineConfig::default()
    })
    .await;
    let open = http(addr, "GET", "/engine.io/?EIO=4&transport=polling", &[], "").await;
    assert!(
        open.body
            .contains(r#""pingInterval":1234,"pingTimeout":567,"#),
        "{}",
        open.body
    );
}

#[tokio::test]
async fn initial_packet_follows_the_open_packet() {
    let addr = start(EngineConfig {
        initial_packet: Some(Message::text("hello")),
        ..EngineConfig::default()
    })
    .await;
    let open = http(addr, "GET", "/engine.io/?EIO=4&transport=polling", &[], "").await;
    assert!(open.body.ends_with("}\u{1e}4hello"), "{}", open.body);
}
