//! Chat rooms: `join` a room, then `chat` messages reach the others in it (with an ack).
//! `cargo run -p socketio-server --example chat`, then connect socket.io-client to :3000.
use socketio_server::{Server, ServerConfig, Value};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = Server::new(ServerConfig::default());
    io.on_connection(|socket| {
        socket.on("join", |socket, event| {
            if let Some(room) = event.args.first().and_then(Value::as_str) {
                socket.join(room);
                let _ = socket
                    .to(room)
                    .emit("joined", vec![socket.id().to_string().into()]);
            }
        });
        socket.on("chat", |socket, event| {
            let Some(room) = event.args.first().and_then(Value::as_str) else {
                return;
            };
            let text = event.args.get(1).cloned().unwrap_or(Value::Null);
            let _ = socket
                .to(room)
                .emit("chat", vec![socket.id().to_string().into(), text]);
            if let Some(ack) = event.ack {
                ack.send(vec!["delivered".into()]);
            }
        });
        socket.on_disconnect(|socket, reason| println!("{} left: {reason}", socket.id()));
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    io.serve(listener).await
}
