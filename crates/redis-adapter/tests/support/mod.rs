//! Two (or more) of our servers on one Redis, and raw WebSocket clients.
//!
//! The tests need a Redis server: `REDIS_URL`, `redis://127.0.0.1:6379` by default. Without one
//! they fail and say how to start it. Each test uses its own channel prefix, so tests running
//! side by side on one Redis do not see each other.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value as Json;
use socketio_redis_adapter::{RedisAdapterConfig, RedisCluster};
use socketio_server::{Server, ServerConfig, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

pub type Ws = WebSocketStream<TcpStream>;

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A channel prefix of this test's own.
pub fn unique_key(test: &str) -> String {
    let n: u32 = rand_u32();
    format!("test-{test}-{n:08x}")
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}

/// A config for this Redis and prefix, with short timeouts.
pub fn config(key: &str) -> RedisAdapterConfig {
    let mut config = RedisAdapterConfig::new(redis_url());
    config.key = key.to_owned();
    config.request_timeout = Duration::from_secs(2);
    config.reconnect_delay = Duration::from_millis(100);
    config
}

/// A raw Redis connection for the test itself, or a failure that says what is missing.
pub async fn redis() -> redis::aio::MultiplexedConnection {
    redis_at(&redis_url()).await
}

/// A raw connection to the Redis at `url`, or a failure that says what is missing.
pub async fn redis_at(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).expect("REDIS_URL is a Redis URL");
    match client.get_multiplexed_async_connection().await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "this test needs a Redis server at {url} (set REDIS_URL to use another): {e}. \
             scripts/test starts one; or start one with \
             `redis-server --port 6379 --save '' --appendonly no --daemonize yes` \
             (Debian/Ubuntu: `apt-get install redis-server`)."
        ),
    }
}

/// One node: a server on the Redis adapter, serving on a local port. Its clients may ask it to
/// `join` a room (acknowledged once done), and answer `ask` events with `answer-<sid>`.
pub struct Node {
    pub io: Server,
    pub addr: SocketAddr,
}

pub async fn node(config: RedisAdapterConfig) -> Node {
    redis_at(&config.url).await;
    let cluster = RedisCluster::connect(config)
        .await
        .expect("the adapter connects to Redis");
    let io = Server::with_adapter(ServerConfig::default(), cluster.factory());
    io.on_connection(|socket| {
        socket.on("join", |s, e| {
            if let Some(Value::String(room)) = e.args.first() {
                s.join(room.as_str());
            }
            if let Some(ack) = e.ack {
                ack.send(Vec::new());
            }
        });
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = io.clone();
    tokio::spawn(async move { server.serve(listener).await });
    Node { io, addr }
}

/// Waits until every node counts `n` servers on `/` (their subscriptions are in place).
pub async fn wait_for_servers(nodes: &[&Node], n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    for node in nodes {
        loop {
            let count = node.io.of("/").server_count().await;
            if count == n {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nodes count {count} servers, not {n}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A raw client: its socket id and the frames it received that the test has not read yet.
pub struct Client {
    pub ws: Ws,
    pub sid: String,
    next_ack: u64,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        Self::connect_to(addr, "/").await
    }

    /// A client of namespace `nsp` alone; its events go on that namespace.
    pub async fn connect_to(addr: SocketAddr, nsp: &str) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
        assert!(next_text(&mut ws).await.unwrap().starts_with("0{"));
        let prefix = if nsp == "/" {
            "40".to_owned()
        } else {
            format!("40{nsp},")
        };
        ws.send(Message::text(prefix.clone())).await.unwrap();
        let connected = next_text(&mut ws).await.unwrap();
        let body: Json = serde_json::from_str(connected.strip_prefix(&prefix).unwrap()).unwrap();
        let sid = body["sid"].as_str().unwrap().to_string();
        Client {
            ws,
            sid,
            next_ack: 0,
        }
    }

    /// Joins `room` on its node and waits until done.
    pub async fn join(&mut self, room: &str) {
        let id = self.next_ack;
        self.next_ack += 1;
        let frame = format!("42{id}{}", Json::from(vec!["join", room]));
        self.ws.send(Message::text(frame)).await.unwrap();
        let ack = format!("43{id}");
        loop {
            let text = next_text(&mut self.ws).await.expect("connection open");
            if text.starts_with(&ack) {
                return;
            }
        }
    }

    /// The first argument of every `got` event until the `end` event. Events that ask for an
    /// acknowledgement are answered with `answer-<sid>`.
    pub async fn until_end(&mut self) -> Vec<String> {
        let mut got = Vec::new();
        loop {
            let text = next_text(&mut self.ws).await.expect("connection open");
            let Some(body) = text.strip_prefix("42") else {
                continue;
            };
            // Events of another namespace than `/` come as `42/<nsp>,...`.
            let body = match body.strip_prefix('/') {
                Some(rest) => rest.split_once(',').map_or(rest, |(_, b)| b),
                None => body,
            };
            let digits = body.bytes().take_while(u8::is_ascii_digit).count();
            let (id, body) = body.split_at(digits);
            let packet: Json = serde_json::from_str(body).unwrap();
            if !id.is_empty() {
                let answer = format!("43{id}{}", Json::from(vec![format!("answer-{}", self.sid)]));
                self.ws.send(Message::text(answer)).await.unwrap();
            }
            match packet[0].as_str() {
                Some("end") => return got,
                Some("got") => got.push(packet[1].as_str().unwrap_or_default().to_owned()),
                _ => {}
            }
        }
    }

    /// Answers acknowledgement requests until the server closes the namespace (`41`).
    pub async fn until_disconnected(&mut self) -> bool {
        while let Some(text) = next_text(&mut self.ws).await {
            if text == "41" {
                return true;
            }
        }
        false
    }
}

/// The next text frame, answering pings, or `None` once the server closed the connection.
pub async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Text(t)) if t.as_str() == "2" => {
                ws.send(Message::text("3")).await.ok()?;
            }
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

pub fn tag(s: &str) -> Vec<Value> {
    vec![Value::from(s)]
}
