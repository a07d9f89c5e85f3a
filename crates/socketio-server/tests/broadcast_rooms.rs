//! Broadcasts through the in-memory adapter, as real clients see them: rooms and exceptions,
//! each recipient once, outgoing catch-all listeners, rooms cleaned up on disconnect, and joins
//! and leaves from another thread while broadcasts go out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value as Json;
use socketio_server::{Server, ServerConfig, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<TcpStream>;

/// What the server reports to the test: outgoing events seen by the catch-all listeners, and
/// disconnections.
#[derive(Debug, PartialEq)]
enum Report {
    Outgoing(String),
    Disconnected(String),
}

fn text_arg(args: &[Value], i: usize) -> String {
    match args.get(i) {
        Some(Value::String(s)) => s.clone(),
        other => panic!("argument {i} is not a string: {other:?}"),
    }
}

/// A server whose clients drive it with events: `join`/`leave` a room, `to` a room (or two),
/// `except` a room; each acknowledged once done.
async fn start() -> (SocketAddr, Server, mpsc::UnboundedReceiver<Report>) {
    let io = Server::new(ServerConfig::default());
    let (tx, rx) = mpsc::unbounded_channel();
    io.on_connection(move |socket| {
        let out = tx.clone();
        socket.on_any_outgoing(move |_, name, _| {
            let _ = out.send(Report::Outgoing(name.to_string()));
        });
        let gone = tx.clone();
        socket.on_disconnect(move |s, _| {
            let _ = gone.send(Report::Disconnected(s.id().to_string()));
        });
        socket.on("join", |s, e| {
            s.join(text_arg(&e.args, 0));
            if let Some(ack) = e.ack {
                ack.send(Vec::new());
            }
        });
        socket.on("leave", |s, e| {
            s.leave(&text_arg(&e.args, 0));
            if let Some(ack) = e.ack {
                ack.send(Vec::new());
            }
        });
        socket.on("to", |s, e| {
            let tag = e.args.last().cloned().into_iter().collect();
            let mut op = s.broadcast();
            for i in 0..e.args.len() - 1 {
                op = op.to(text_arg(&e.args, i));
            }
            op.emit("got", tag).unwrap();
            if let Some(ack) = e.ack {
                ack.send(Vec::new());
            }
        });
        socket.on("except", |s, e| {
            let tag = vec![e.args[1].clone()];
            s.except(text_arg(&e.args, 0)).emit("got", tag).unwrap();
            if let Some(ack) = e.ack {
                ack.send(Vec::new());
            }
        });
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = io.clone();
    tokio::spawn(async move { server.serve(listener).await });
    (addr, io, rx)
}

/// One client: its socket id and the tags of the `got` events it received so far.
struct Client {
    ws: Ws,
    sid: String,
    got: Vec<String>,
    next_ack: u64,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
        assert!(next_text(&mut ws).await.unwrap().starts_with("0{"));
        ws.send(Message::text("40")).await.unwrap();
        let connected = next_text(&mut ws).await.unwrap();
        let body: Json = serde_json::from_str(connected.strip_prefix("40").unwrap()).unwrap();
        let sid = body["sid"].as_str().unwrap().to_string();
        Client {
            ws,
            sid,
            got: Vec::new(),
            next_ack: 0,
        }
    }

    /// Emits `event` with string arguments and waits for its acknowledgement, keeping the
    /// broadcasts that arrive meanwhile.
    async fn call(&mut self, event: &str, args: &[&str]) {
        let id = self.next_ack;
        self.next_ack += 1;
        let mut packet = vec![Json::from(event)];
        packet.extend(args.iter().map(|a| Json::from(*a)));
        let frame = format!("42{id}{}", Json::Array(packet));
        self.ws.send(Message::text(frame)).await.unwrap();
        let ack = format!("43{id}");
        loop {
            let text = next_text(&mut self.ws).await.expect("connection open");
            if text.starts_with(&ack) {
                return;
            }
            self.keep(&text);
        }
    }

    /// Reads until the `end` event, keeping the broadcasts before it.
    async fn until_end(&mut self) -> Vec<String> {
        loop {
            let text = next_text(&mut self.ws).await.expect("connection open");
            if text == r#"42["end"]"# {
                return std::mem::take(&mut self.got);
            }
            self.keep(&text);
        }
    }

    fn keep(&mut self, text: &str) {
        let Some(body) = text.strip_prefix("42") else {
            return;
        };
        let packet: Json = serde_json::from_str(body).unwrap();
        if packet[0] == "got" {
            let tag = match &packet[1] {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            self.got.push(tag);
        }
    }
}

/// The next text frame, or `None` once the server closed the connection.
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn tag(s: &str) -> Vec<Value> {
    vec![Value::from(s)]
}

#[tokio::test]
async fn rooms_and_exceptions_reach_each_recipient_once() {
    let (addr, io, mut reports) = start().await;
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    let mut c = Client::connect(addr).await;
    a.call("join", &["red"]).await;
    b.call("join", &["red"]).await;
    b.call("join", &["blue"]).await;
    c.call("join", &["blue"]).await;

    c.call("to", &["red", "t1"]).await;
    // b is in both rooms and gets it once; a, the sender, not at all.
    a.call("to", &["red", "blue", "t2"]).await;
    // Everyone but the sender and the members of red.
    b.call("except", &["red", "t3"]).await;
    io.to("blue").except("red").emit("got", tag("t4")).unwrap();
    // A socket's own room reaches it alone.
    io.to(a.sid.as_str()).emit("got", tag("t5")).unwrap();
    io.emit("end", Vec::new()).unwrap();

    assert_eq!(a.until_end().await, ["t1", "t5"]);
    assert_eq!(b.until_end().await, ["t1", "t2"]);
    assert_eq!(c.until_end().await, ["t2", "t3", "t4"]);

    // The catch-all listeners saw every delivery of `got`: 2 + 2 + 1 + 1 + 1.
    let mut outgoing = 0;
    while let Ok(report) = reports.try_recv() {
        if report == Report::Outgoing("got".into()) {
            outgoing += 1;
        }
    }
    assert_eq!(outgoing, 7);
}

#[tokio::test]
async fn leaving_and_disconnecting_take_sockets_out_of_their_rooms() {
    let (addr, io, mut reports) = start().await;
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    let mut c = Client::connect(addr).await;
    for client in [&mut a, &mut b, &mut c] {
        client.call("join", &["red"]).await;
    }
    a.call("leave", &["red"]).await;
    let b_sid = b.sid.clone();
    drop(b);
    loop {
        let report = tokio::time::timeout(Duration::from_secs(10), reports.recv())
            .await
            .unwrap()
            .unwrap();
        if report == Report::Disconnected(b_sid.clone()) {
            break;
        }
    }

    let rooms = sorted(
        io.of("/")
            .adapter()
            .rooms()
            .iter()
            .map(|r| r.to_string())
            .collect(),
    );
    assert_eq!(
        rooms,
        sorted(vec![a.sid.clone(), c.sid.clone(), "red".into()])
    );
    io.to("red").emit("got", tag("t1")).unwrap();
    io.emit("got", tag("t2")).unwrap();
    io.emit("end", Vec::new()).unwrap();
    assert_eq!(a.until_end().await, ["t2"]);
    assert_eq!(c.until_end().await, ["t1", "t2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_and_leaves_while_broadcasting_keep_each_client_in_order() {
    const CLIENTS: usize = 8;
    const BROADCASTS: u64 = 300;
    let (addr, io, _reports) = start().await;
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(Client::connect(addr).await);
    }

    // Another thread makes every socket join and leave the room over and over.
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let nsp = io.of("/");
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for socket in nsp.sockets() {
                    socket.join("room");
                }
                for socket in nsp.sockets().iter().step_by(2) {
                    socket.leave("room");
                }
            }
        })
    };
    for seq in 0..BROADCASTS {
        io.to("room").emit("got", vec![Value::from(seq)]).unwrap();
        if seq % 16 == 0 {
            tokio::task::yield_now().await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();

    // Everyone is in the room now; the last broadcast reaches all.
    for socket in io.of("/").sockets() {
        socket.join("room");
    }
    io.to("room")
        .emit("got", vec![Value::from(BROADCASTS)])
        .unwrap();
    io.emit("end", Vec::new()).unwrap();
    for client in &mut clients {
        let got: Vec<u64> = client
            .until_end()
            .await
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
        assert_eq!(got.last(), Some(&BROADCASTS));
    }
}

/// A burst of broadcasts from one client, to more sockets than the server holds writes back for
/// (the WebSocket wakes a burst causes are sent once it is handled), reaches every receiver whole
/// and in order, also when the emitter's connection ends right after sending it.
#[tokio::test]
async fn a_burst_of_broadcasts_reaches_every_receiver_in_order() {
    const RECEIVERS: usize = 24;
    const BURST: usize = 400;
    let (addr, _io, _reports) = start().await;
    let mut receivers = Vec::new();
    for _ in 0..RECEIVERS {
        let mut client = Client::connect(addr).await;
        client.call("join", &["room"]).await;
        receivers.push(client);
    }
    let mut emitter = Client::connect(addr).await;
    for seq in 0..BURST {
        let frame = format!(r#"42["to","room","{seq}"]"#);
        emitter.ws.feed(Message::text(frame)).await.unwrap();
    }
    emitter.ws.flush().await.unwrap();
    drop(emitter);

    let expected: Vec<String> = (0..BURST).map(|n| n.to_string()).collect();
    for client in &mut receivers {
        let got = tokio::time::timeout(Duration::from_secs(20), async {
            while client.got.len() < BURST {
                let text = next_text(&mut client.ws).await.expect("connection open");
                client.keep(&text);
            }
            std::mem::take(&mut client.got)
        })
        .await
        .expect("every broadcast of the burst arrives");
        assert_eq!(got, expected);
    }
}
