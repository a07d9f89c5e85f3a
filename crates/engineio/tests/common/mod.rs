//! What the integration tests share: an echo engine served on a free port.

use std::net::SocketAddr;

use engineio::{Engine, EngineConfig};
use tokio::net::TcpListener;

/// Serves an engine that sends every message back, with `config`, on a free
/// loopback port; returns its address and the engine.
pub(crate) async fn start_echo(config: EngineConfig) -> (SocketAddr, Engine) {
    let engine = Engine::new(config, |conn| {
        let (tx, mut rx) = conn.into_parts();
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                let _ = tx.send(msg);
            }
        });
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(engine.clone().serve(listener));
    (addr, engine)
}
