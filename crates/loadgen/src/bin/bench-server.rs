//! `bench-server`: the Socket.IO server the benchmarks run against, on our stack.
//! Its Node twin is `bench/node/server.mjs`; both answer the same events:
//!
//! - `echo`: acknowledged with the same arguments;
//! - `bcast`: sent to every other socket of `/` (`socket.broadcast.emit`), then
//!   acknowledged with no arguments so the emitter can keep a window of sends.
//!
//! `--threads 1` runs the current-thread runtime (the fair match for Node's one
//! thread); `--threads 0` uses every core.

use clap::Parser;
use socketio_server::{Server, ServerConfig};

#[derive(Debug, Parser)]
#[command(about = "Socket.IO benchmark server (echo with ack, broadcast)")]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Runtime threads: 1 is tokio's current-thread runtime, 0 is one per core.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        0 => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    runtime.block_on(serve(args.port))
}

async fn serve(port: u16) -> std::io::Result<()> {
    let mut config = ServerConfig::default();
    // Large enough that the outgoing queue of a fast broadcast never closes a
    // receiver during a run; the reference has no such limit at all.
    config.engine.max_buffered_bytes = 256 << 20;
    let io = Server::new(config);
    io.on_connection(|socket| {
        socket.on("echo", |_socket, event| {
            if let Some(ack) = event.ack {
                ack.send(event.args);
            }
        });
        socket.on("bcast", |socket, event| {
            let _ = socket.broadcast().emit("bcast", event.args);
            if let Some(ack) = event.ack {
                ack.send(Vec::new());
            }
        });
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    // Exits cleanly on Ctrl-C, so that profilers (valgrind, perf) write their output.
    tokio::select! {
        served = io.serve(listener) => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
