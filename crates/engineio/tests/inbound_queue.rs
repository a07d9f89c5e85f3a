//! The queue between the transports and the application: a slow application
//! holds the transport back (nothing lost, order kept), messages received
//! before a close are still delivered, and a dropped receiver never blocks the
//! transport.

use std::net::SocketAddr;
use std::time::Duration;

use engineio::{CloseReason, Connection, Engine, EngineConfig, Message};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Ws;

/// Serves an engine whose connections are handed to the test.
async fn start(config: EngineConfig) -> (SocketAddr, mpsc::UnboundedReceiver<Connection>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let engine = Engine::new(config, move |conn| {
        let _ = tx.send(conn);
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(engine.serve(listener));
    (addr, rx)
}

async fn client(addr: SocketAddr) -> tokio_tungstenite::WebSocketStream<TcpStream> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let open = ws.next().await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with("0{"));
    ws
}

#[tokio::test]
async fn a_slow_application_loses_nothing_and_keeps_order() {
    let (addr, mut conns) = start(EngineConfig {
        incoming_queue: 2,
        ..EngineConfig::default()
    })
    .await;
    let mut ws = client(addr).await;
    let (_tx, mut rx) = conns.recv().await.unwrap().into_parts();
    for i in 0..200 {
        ws.send(Ws::text(format!("4m{i}"))).await.unwrap();
    }
    // The application is busy; the transport must wait, not drop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 0..200 {
        let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a message in time")
            .expect("the session is open");
        assert_eq!(msg, Message::text(format!("m{i}")));
    }
}

#[tokio::test]
async fn messages_before_a_close_are_delivered_then_the_reason() {
    let (addr, mut conns) = start(EngineConfig::default()).await;
    let mut ws = client(addr).await;
    let (_tx, mut rx) = conns.recv().await.unwrap().into_parts();
    ws.send(Ws::text("4last words")).await.unwrap();
    ws.send(Ws::text("1")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rx.recv().await, Some(Message::text("last words")));
    assert_eq!(rx.recv().await, None);
    assert_eq!(rx.close_reason(), Some(CloseReason::TransportClose));
}

#[tokio::test]
async fn a_dropped_receiver_does_not_block_the_transport() {
    let (addr, mut conns) = start(EngineConfig {
        incoming_queue: 1,
        ..EngineConfig::default()
    })
    .await;
    let mut ws = client(addr).await;
    let (tx, rx) = conns.recv().await.unwrap().into_parts();
    drop(rx);
    for i in 0..50 {
        ws.send(Ws::text(format!("4m{i}"))).await.unwrap();
    }
    // The transport still reads (and so still answers): a message sent by the
    // application after the flood arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    tx.send(Message::text("still here")).unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("a frame in time")
        .unwrap()
        .unwrap();
    assert_eq!(got.to_text().unwrap(), "4still here");
}
