//! A chat room: clients `join` a room, then every `chat` message reaches the others in that room.
//! Run with `cargo run -p socketio-server --example chat`, connect with socket.io-client to :3000.
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
            let from = Value::from(socket.id().to_string());
            let _ = socket.to(room).emit("chat", vec![from, text]);
            if let Some(ack) = event.ack {
                ack.send(vec![Value::from("delivered")]);
            }
        });
        socket.on_disconnect(|socket, reason| {
            println!("{} left: {reason}", socket.id());
        });
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("chat on http://127.0.0.1:3000/socket.io/");
    io.serve(listener).await
}
