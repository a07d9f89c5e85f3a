//! The engine's own HTTP/1.1 server seen from raw TCP on loopback: every limit
//! of `HttpConfig` and its answer, keep-alive and pipelining, chunked and
//! `Expect: 100-continue` bodies, the WebSocket hand-over with bytes already
//! read, a long-poll whose client leaves, and the same routing over wrapped
//! streams (`HttpServer::serve_wrapped`, hyper).

use std::net::SocketAddr;
use std::time::Duration;

use engineio::{Engine, EngineConfig, HttpConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod common;

use common::start_echo as start;

async fn start_http(http: HttpConfig) -> SocketAddr {
    start(EngineConfig {
        http,
        ..EngineConfig::default()
    })
    .await
    .0
}

const HANDSHAKE: &str = "/engine.io/?EIO=4&transport=polling";

/// Reads one response (head and a `content-length` body) from `stream`,
/// leaving what follows unread in `pending`.
async fn read_response(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
) -> Option<(u16, String, String)> {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            let total = end + 4 + len;
            if pending.len() >= total {
                let body = String::from_utf8_lossy(&pending[end + 4..total]).into_owned();
                pending.drain(..total);
                let status = head[9..12].parse().unwrap();
                return Some((status, head, body));
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("an answer in time")
            .ok()?;
        if n == 0 {
            return None;
        }
        pending.extend_from_slice(&chunk[..n]);
    }
}

/// Whether the server closes `stream` within `within` (after any bytes it still sends).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut sink = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut sink)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

async fn request(addr: SocketAddr, raw: &[u8]) -> (TcpStream, Option<(u16, String, String)>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut pending = Vec::new();
    let res = read_response(&mut stream, &mut pending).await;
    (stream, res)
}

fn sid_of(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    json["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_head_over_the_limit_gets_431_and_the_connection_closes() {
    let addr = start_http(HttpConfig {
        max_head_bytes: 512,
        ..HttpConfig::default()
    })
    .await;
    let raw = format!(
        "GET {HANDSHAKE} HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(600)
    );
    let (mut stream, res) = request(addr, raw.as_bytes()).await;
    let (status, head, _) = res.expect("an answer");
    assert_eq!(status, 431);
    assert!(head.contains("connection: close"));
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);

    // Just under the limit is served.
    let raw = format!(
        "GET {HANDSHAKE} HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(400)
    );
    let (_, res) = request(addr, raw.as_bytes()).await;
    assert_eq!(res.unwrap().0, 200);
}

#[tokio::test]
async fn too_many_header_lines_get_431() {
    let addr = start_http(HttpConfig {
        max_headers: 4,
        ..HttpConfig::default()
    })
    .await;
    let raw = format!("GET {HANDSHAKE} HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\ne: 5\r\n\r\n");
    let (_, res) = request(addr, raw.as_bytes()).await;
    assert_eq!(res.unwrap().0, 431);
    let raw = format!("GET {HANDSHAKE} HTTP/1.1\r\na: 1\r\nb: 2\r\n\r\n");
    let (_, res) = request(addr, raw.as_bytes()).await;
    assert_eq!(res.unwrap().0, 200);
}

#[tokio::test]
async fn malformed_requests_get_400() {
    let addr = start_http(HttpConfig::default()).await;
    for raw in [
        "HELLO\r\n\r\n".to_owned(),
        format!(
            "POST {HANDSHAKE} HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        ),
        format!("POST {HANDSHAKE} HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
    ] {
        let (mut stream, res) = request(addr, raw.as_bytes()).await;
        assert_eq!(res.expect("an answer").0, 400, "{raw:?}");
        assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    }
}

#[tokio::test]
async fn a_slow_request_gets_408() {
    let addr = start_http(HttpConfig {
        request_timeout: Duration::from_millis(300),
        ..HttpConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /engine.io/?EIO=4 HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    let mut pending = Vec::new();
    let (status, _, _) = read_response(&mut stream, &mut pending).await.expect("408");
    assert_eq!(status, 408);
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);

    // A body that never comes whole is as slow.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("POST {HANDSHAKE} HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc").as_bytes())
        .await
        .unwrap();
    let (status, _, _) = read_response(&mut stream, &mut pending).await.expect("408");
    assert_eq!(status, 408);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_its_timeout() {
    let addr = start_http(HttpConfig {
        keep_alive_timeout: Duration::from_millis(200),
        ..HttpConfig::default()
    })
    .await;
    let raw = format!("GET {HANDSHAKE} HTTP/1.1\r\nHost: a\r\n\r\n");
    let (mut stream, res) = request(addr, raw.as_bytes()).await;
    let (status, head, _) = res.unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("connection: keep-alive"));
    assert!(head.contains("date: "));
    // Still open at once, closed once idle past the timeout.
    assert!(!closed_within(&mut stream, Duration::from_millis(50)).await);
    assert!(closed_within(&mut stream, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_and_http10_closes() {
    let addr = start_http(HttpConfig::default()).await;
    let raw = format!(
        "GET /elsewhere HTTP/1.1\r\n\r\nGET {HANDSHAKE} HTTP/1.1\r\n\r\nGET {HANDSHAKE} HTTP/1.0\r\n\r\n"
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut pending = Vec::new();
    let first = read_response(&mut stream, &mut pending).await.unwrap();
    assert_eq!(first.0, 404);
    let second = read_response(&mut stream, &mut pending).await.unwrap();
    let third = read_response(&mut stream, &mut pending).await.unwrap();
    assert_eq!((second.0, third.0), (200, 200));
    assert_ne!(sid_of(&second.2), sid_of(&third.2));
    assert!(third.1.contains("connection: close"));
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn chunked_and_expect_continue_bodies_reach_the_session() {
    let addr = start_http(HttpConfig::default()).await;
    let (_, res) = request(addr, format!("GET {HANDSHAKE} HTTP/1.1\r\n\r\n").as_bytes()).await;
    let sid = sid_of(&res.unwrap().2);
    let target = format!("{HANDSHAKE}&sid={sid}");

    // A chunked POST carrying "4hi" and "4yo" in two chunks.
    let body = "4hi\x1e4yo";
    let raw = format!(
        "POST {target} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        &body[..3],
        body.len() - 3,
        &body[3..]
    );
    let (_, res) = request(addr, raw.as_bytes()).await;
    let (status, _, text) = res.unwrap();
    assert_eq!((status, text.as_str()), (200, "ok"));

    // Expect: 100-continue: the body is sent only after the interim answer.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("POST {target} HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut interim = [0u8; 25];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut interim))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"4sup").await.unwrap();
    let mut pending = Vec::new();
    let (status, _, text) = read_response(&mut stream, &mut pending).await.unwrap();
    assert_eq!((status, text.as_str()), (200, "ok"));

    // The echo sends all three back, in order.
    let (_, res) = request(addr, format!("GET {target} HTTP/1.1\r\n\r\n").as_bytes()).await;
    assert_eq!(res.unwrap().2, "4hi\x1e4yo\x1e4sup");
}

#[tokio::test]
async fn a_body_over_max_payload_gets_413_and_ends_the_session() {
    let (addr, engine) = start(EngineConfig {
        max_payload: 100,
        ..EngineConfig::default()
    })
    .await;
    let (_, res) = request(addr, format!("GET {HANDSHAKE} HTTP/1.1\r\n\r\n").as_bytes()).await;
    let sid = sid_of(&res.unwrap().2);
    assert_eq!(engine.session_count(), 1);
    let body = format!("4{}", "x".repeat(5000));
    let raw = format!(
        "POST {HANDSHAKE}&sid={sid} HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (mut stream, res) = request(addr, raw.as_bytes()).await;
    let (status, head, _) = res.expect("the 413 itself, not a reset");
    assert_eq!(status, 413);
    assert!(head.contains("connection: close"));
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    assert_eq!(engine.session_count(), 0);
}

#[tokio::test]
async fn a_long_poll_whose_client_leaves_closes_the_session() {
    let (addr, engine) = start(EngineConfig::default()).await;
    let (_, res) = request(addr, format!("GET {HANDSHAKE} HTTP/1.1\r\n\r\n").as_bytes()).await;
    let sid = sid_of(&res.unwrap().2);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET {HANDSHAKE}&sid={sid} HTTP/1.1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(engine.session_count(), 1);
    drop(stream);
    for _ in 0..50 {
        if engine.session_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the session outlived its aborted poll");
}

/// A masked client text frame.
fn client_text(payload: &str) -> Vec<u8> {
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Asks `addr` for a WebSocket with the Engine.IO message `4early` sent in the same write as
/// the request, and returns all it reads until the echo of that message.
async fn upgrade_with_an_early_frame(addr: SocketAddr) -> String {
    let mut raw = b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec();
    raw.extend(client_text("4early"));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&raw).await.unwrap();
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&got).contains("4early") {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .expect("the echo in time")
            .unwrap();
        assert!(
            n > 0,
            "closed before the echo: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_websocket_frame_sent_with_the_upgrade_request_is_not_lost() {
    let addr = start_http(HttpConfig::default()).await;
    let text = upgrade_with_an_early_frame(addr).await;
    assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(text.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert!(!text.contains("content-length"));
}

#[tokio::test]
async fn serving_on_several_threads_keeps_each_session_on_one_thread() {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};
    /// Per session: the thread it started on, and every thread that served one of its messages.
    type Seen = Arc<Mutex<Vec<(String, HashSet<String>)>>>;
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let engine = Engine::new(EngineConfig::default(), move |conn| {
        let (tx, mut rx) = conn.into_parts();
        let here = || format!("{:?}", std::thread::current().id());
        let index = {
            let mut all = record.lock().unwrap();
            all.push((here(), HashSet::new()));
            all.len() - 1
        };
        let record = record.clone();
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                record.lock().unwrap()[index].1.insert(here());
                let _ = tx.send(msg);
            }
        });
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        engineio::HttpServer::new(HttpConfig::default())
            .engine(engine)
            .serve_on_threads(listener, 2),
    );
    for _ in 0..20 {
        let (_, res) = request(addr, format!("GET {HANDSHAKE} HTTP/1.1\r\n\r\n").as_bytes()).await;
        let sid = sid_of(&res.unwrap().2);
        let target = format!("{HANDSHAKE}&sid={sid}");
        let post = format!("POST {target} HTTP/1.1\r\nContent-Length: 3\r\n\r\n4hi");
        let (_, res) = request(addr, post.as_bytes()).await;
        assert_eq!(res.unwrap().0, 200);
        let (_, res) = request(addr, format!("GET {target} HTTP/1.1\r\n\r\n").as_bytes()).await;
        assert_eq!(res.unwrap().2, "4hi");
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 20);
    let this_thread = format!("{:?}", std::thread::current().id());
    let elsewhere = seen.iter().filter(|(t, _)| *t != this_thread).count();
    // Connections are handed to the two threads in turn; each handshake here
    // uses a connection of its own, so half the sessions start on the other thread.
    assert_eq!(elsewhere, 10);
    for (started, served) in seen.iter() {
        assert_eq!(
            served.iter().collect::<Vec<_>>(),
            vec![started],
            "a session moved threads"
        );
    }
}

/// A fallback that answers how many body bytes it read, or 413 with the error.
async fn body_size(
    req: http::Request<engineio::BufferedBody>,
    _remote: SocketAddr,
) -> http::Response<engineio::EngineBody> {
    use http_body_util::BodyExt;
    let path = req.uri().path().to_owned();
    let (status, text) = match req.into_body().collect().await {
        Ok(body) => (200, format!("{path} got {} bytes", body.to_bytes().len())),
        Err(e) => (413, e.to_string()),
    };
    let mut res = http::Response::new(engineio::EngineBody::from(text));
    *res.status_mut() = http::StatusCode::from_u16(status).unwrap();
    res
}

#[tokio::test]
async fn the_fallback_gets_other_paths_with_their_bodies_up_to_its_limit() {
    let (_, engine) = start(EngineConfig::default()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = engineio::HttpServer::new(HttpConfig::default())
        .engine(engine)
        .fallback(8, body_size);
    tokio::spawn(server.serve(listener));

    // Within the limit, on one kept-alive connection: a sized body, then a chunked one.
    let raw = "POST /api HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloPOST /api/2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut pending = Vec::new();
    let first = read_response(&mut stream, &mut pending).await.unwrap();
    let second = read_response(&mut stream, &mut pending).await.unwrap();
    assert_eq!((first.0, first.2.as_str()), (200, "/api got 5 bytes"));
    assert_eq!((second.0, second.2.as_str()), (200, "/api/2 got 3 bytes"));

    // Over it: the handler reads BodyTooLarge, and the connection closes after its answer.
    let raw = "POST /api HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789";
    let (mut stream, res) = request(addr, raw.as_bytes()).await;
    let (status, head, text) = res.unwrap();
    assert_eq!(
        (status, text.as_str()),
        (413, "request body over the limit")
    );
    assert!(head.contains("connection: close"));
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);

    // The engine's path still goes to the engine.
    let (_, res) = request(addr, format!("GET {HANDSHAKE} HTTP/1.1\r\n\r\n").as_bytes()).await;
    assert!(res.unwrap().2.starts_with("0{\"sid\""));
}

#[tokio::test]
async fn a_head_request_gets_the_answer_head_alone() {
    let addr = start_http(HttpConfig::default()).await;
    let raw = format!("HEAD {HANDSHAKE} HTTP/1.1\r\n\r\nGET {HANDSHAKE} HTTP/1.1\r\n\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    // The HEAD's answer announces a body it does not carry: read its head by hand.
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("\r\n\r\nHTTP/1.1 200") {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("both answers in time")
            .unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    assert!(!head.contains("content-length: 0"), "{head}");
    assert!(
        rest.starts_with("HTTP/1.1 200 OK\r\n"),
        "no body between the two: {rest:?}"
    );
}

#[tokio::test]
async fn a_wrapped_server_routes_like_the_plain_one_and_survives_a_failed_wrap() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let (_, engine) = start(EngineConfig::default()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = engineio::HttpServer::new(HttpConfig::default())
        .engine(engine)
        .fallback(8, body_size);
    // The wrap passes the stream through, except for the second connection, which it refuses
    // as a failed TLS handshake would.
    let wraps = Arc::new(AtomicUsize::new(0));
    let seen = wraps.clone();
    tokio::spawn(
        server.serve_wrapped(listener, false, move |stream: TcpStream| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 1 {
                    Err(std::io::Error::other("refused by the wrap"))
                } else {
                    Ok(stream)
                }
            }
        }),
    );

    // One kept-alive connection: the engine's handshake, then the fallback with a sized and a
    // chunked body, then a body over the fallback's limit.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut pending = Vec::new();
    stream
        .write_all(format!("GET {HANDSHAKE} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (status, _, body) = read_response(&mut stream, &mut pending).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.starts_with("0{\"sid\""), "{body}");
    let raw = "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloPOST /api/2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    stream.write_all(raw.as_bytes()).await.unwrap();
    let first = read_response(&mut stream, &mut pending).await.unwrap();
    let second = read_response(&mut stream, &mut pending).await.unwrap();
    assert_eq!((first.0, first.2.as_str()), (200, "/api got 5 bytes"));
    assert_eq!((second.0, second.2.as_str()), (200, "/api/2 got 3 bytes"));
    stream
        .write_all(b"POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n123456789")
        .await
        .unwrap();
    let over = read_response(&mut stream, &mut pending).await.unwrap();
    assert_eq!(
        (over.0, over.2.as_str()),
        (413, "request body over the limit")
    );

    // The second connection is dropped by its wrap without an answer.
    let mut refused = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut refused, Duration::from_secs(3)).await);

    // The third upgrades to WebSocket through hyper, a frame sent with the request included.
    let text = upgrade_with_an_early_frame(addr).await;
    assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert_eq!(wraps.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn handshakes_through_an_encrypted_wrap_say_they_are_secure() {
    use std::sync::{Arc, Mutex};

    let seen: Arc<Mutex<Vec<bool>>> = Arc::default();
    let record = seen.clone();
    let engine = Engine::new(EngineConfig::default(), move |conn| {
        record.lock().unwrap().push(conn.handshake().secure);
    });
    let mut addrs = Vec::new();
    for encrypted in [true, false] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap());
        let server = engineio::HttpServer::new(HttpConfig::default()).engine(engine.clone());
        tokio::spawn(server.serve_wrapped(
            listener,
            encrypted,
            |s: TcpStream| async move { Ok(s) },
        ));
    }
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    addrs.push(plain.local_addr().unwrap());
    tokio::spawn(engine.clone().serve(plain));

    for &addr in &addrs {
        let raw = format!("GET {HANDSHAKE} HTTP/1.1\r\nHost: a\r\n\r\n");
        let (_, res) = request(addr, raw.as_bytes()).await;
        assert_eq!(res.unwrap().0, 200);
    }
    // An X-Forwarded-Proto from a proxy that terminated TLS counts too.
    let raw = format!("GET {HANDSHAKE} HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n");
    let (_, res) = request(addrs[2], raw.as_bytes()).await;
    assert_eq!(res.unwrap().0, 200);
    assert_eq!(*seen.lock().unwrap(), vec![true, false, false, true]);
}

#[tokio::test]
async fn a_wrap_slower_than_the_request_timeout_drops_only_its_connection() {
    let (_, engine) = start(EngineConfig::default()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let http = HttpConfig {
        request_timeout: Duration::from_millis(300),
        ..HttpConfig::default()
    };
    let server = engineio::HttpServer::new(http).engine(engine);
    // A wrap that waits for a first byte that a stalled client never sends, as a TLS handshake
    // would; a client that sends something goes on.
    tokio::spawn(
        server.serve_wrapped(listener, false, |stream: TcpStream| async move {
            let mut peek = [0u8; 1];
            stream.peek(&mut peek).await?;
            Ok(stream)
        }),
    );

    let mut stalled = TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    assert!(closed_within(&mut stalled, Duration::from_secs(3)).await);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "closed after {took:?}, before the timeout"
    );

    let raw = format!("GET {HANDSHAKE} HTTP/1.1\r\nHost: a\r\n\r\n");
    let (_, res) = request(addr, raw.as_bytes()).await;
    assert_eq!(res.unwrap().0, 200);
}

#[tokio::test]
async fn an_idle_kept_alive_wrapped_connection_is_closed_after_its_timeout() {
    let (_, engine) = start(EngineConfig::default()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let http = HttpConfig {
        keep_alive_timeout: Duration::from_millis(300),
        ..HttpConfig::default()
    };
    let server = engineio::HttpServer::new(http).engine(engine);
    tokio::spawn(server.serve_wrapped(listener, false, |s: TcpStream| async move { Ok(s) }));

    let raw = format!("GET {HANDSHAKE} HTTP/1.1\r\nHost: a\r\n\r\n");
    let (mut stream, res) = request(addr, raw.as_bytes()).await;
    assert_eq!(res.unwrap().0, 200);
    let idle = tokio::time::Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    assert!(
        idle.elapsed() >= Duration::from_millis(250),
        "closed after {:?}, before the timeout",
        idle.elapsed()
    );
}
