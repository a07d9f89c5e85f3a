//! A handler that panics ends its own connection, cleanly, and nothing else:
//! its sockets see `disconnect` with `forced close`, the transport closes, and
//! the server goes on serving the other clients.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use socketio_server::{Server, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<TcpStream>;

async fn start() -> (SocketAddr, Server, mpsc::UnboundedReceiver<String>) {
    let io = Server::new(ServerConfig::default());
    let (tx, rx) = mpsc::unbounded_channel();
    io.on_connection(move |socket| {
        socket.on("boom", |_, _| panic!("a handler's own bug"));
        socket.on("ping", |_, event| {
            if let Some(ack) = event.ack {
                ack.send(vec!["pong".into()]);
            }
        });
        let tx = tx.clone();
        socket.on_disconnect(move |_, reason| {
            let _ = tx.send(reason.to_string());
        });
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = io.clone();
    tokio::spawn(async move { server.serve(listener).await });
    (addr, io, rx)
}

/// The next text frame, or `None` once the server closed the connection.
async fn text(ws: &mut Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn connect(addr: SocketAddr) -> Ws {
    let stream = TcpStream::connect(addr).await.unwrap();
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    assert!(text(&mut ws).await.unwrap().starts_with("0{"));
    ws.send(Message::text("40")).await.unwrap();
    assert!(text(&mut ws).await.unwrap().starts_with("40{\"sid\":"));
    ws
}

#[tokio::test]
async fn a_panicking_handler_closes_only_its_connection() {
    let (addr, _io, mut reasons) = start().await;
    let mut victim = connect(addr).await;
    let mut bystander = connect(addr).await;

    victim.send(Message::text("42[\"boom\"]")).await.unwrap();
    // The victim's transport closes without another packet.
    assert_eq!(text(&mut victim).await, None);
    let reason = tokio::time::timeout(Duration::from_secs(5), reasons.recv())
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("forced close"));

    // The other client is served as before.
    bystander
        .send(Message::text("421[\"ping\"]"))
        .await
        .unwrap();
    assert_eq!(text(&mut bystander).await.as_deref(), Some("431[\"pong\"]"));
    // And new clients are still welcome.
    let mut newcomer = connect(addr).await;
    newcomer.send(Message::text("427[\"ping\"]")).await.unwrap();
    assert_eq!(text(&mut newcomer).await.as_deref(), Some("437[\"pong\"]"));
}
