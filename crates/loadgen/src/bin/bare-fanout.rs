//! `bare-fanout`: the floor to compare our fan-out with. A plain tokio-tungstenite
//! server that speaks only the frames `sio-bench fanout` needs (the open packet,
//! `40`, pings answered, `bcast` relayed to every other client and acked), with
//! none of Engine.IO's or Socket.IO's machinery: no sessions, no heartbeat timers,
//! no namespaces, rooms or encoding. Each broadcast is one shared `Utf8Bytes`
//! queued to every other client's writer task.
//!
//! `--threads 1` (default) runs tokio's current-thread runtime, as `bench-server`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

#[derive(Debug, Parser)]
#[command(about = "Bare tokio-tungstenite fan-out server, the floor for sio-bench fanout")]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Runtime threads: 1 is tokio's current-thread runtime, 0 is one per core.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// Every connected client's outgoing queue.
type Peers = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Utf8Bytes>>>>;

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
    };
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
        println!("listening on {}", listener.local_addr()?);
        let peers: Peers = Arc::default();
        let ids = Arc::new(AtomicU64::new(0));
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let id = ids.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(client(stream, id, peers.clone()));
        }
    })
}

async fn client(stream: TcpStream, id: u64, peers: Peers) {
    let config = WebSocketConfig::default().read_buffer_size(1024);
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    let _ = tx.send(Utf8Bytes::from_static(
        r#"0{"sid":"bare","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
    ));
    peers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, tx.clone());

    let writer = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            // Everything queued goes out with one flush.
            let mut batch = vec![first];
            while let Ok(more) = rx.try_recv() {
                batch.push(more);
            }
            for text in batch {
                if sink.feed(Message::Text(text)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });

    while let Some(Ok(msg)) = source.next().await {
        let Message::Text(text) = msg else { continue };
        let t = text.as_str();
        if t == "40" {
            let _ = tx.send(Utf8Bytes::from_static(r#"40{"sid":"bare"}"#));
        } else if t == "3" {
            // A pong: nothing to do.
        } else if let Some(rest) = t.strip_prefix("42") {
            // `42<id>["bcast",...]`: relay `42["bcast",...]` to the others, ack `43<id>[]`.
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let frame = Utf8Bytes::from(format!("42{}", &rest[digits..]));
            for (k, peer) in peers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                if *k != id {
                    let _ = peer.send(frame.clone());
                }
            }
            let _ = tx.send(Utf8Bytes::from(format!("43{}[]", &rest[..digits])));
        }
    }
    peers.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    writer.abort();
}
