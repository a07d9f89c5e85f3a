//! `bench-server`: the Socket.IO server the benchmarks run against, on our stack.
//! Its Node twin is `bench/node/server.mjs`; both answer the same events:
//!
//! - `echo`: acknowledged with the same arguments;
//! - `bcast`: sent to every other socket of `/` (`socket.broadcast.emit`), then
//!   acknowledged with no arguments so the emitter can keep a window of sends.
//!
//! `--threads 1` runs one current-thread runtime (the fair match for Node's one
//! thread); `--threads 0` runs one per core, each serving the connections it
//! accepted; `--tokio-mt` uses tokio's work-stealing runtime instead.

use clap::Parser;
use socketio_server::{Server, ServerConfig};

#[derive(Debug, Parser)]
#[command(about = "Socket.IO benchmark server (echo with ack, broadcast)")]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Threads: 1 is one tokio current-thread runtime; 0 is one such runtime
    /// per core, each accepting its own share of the connections.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Use tokio's work-stealing multi-thread runtime (one worker per core) instead.
    #[arg(long)]
    tokio_mt: bool,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let runtime = if args.tokio_mt {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(serve(args.port, args.threads, args.tokio_mt))
}

async fn serve(port: u16, threads: usize, tokio_mt: bool) -> std::io::Result<()> {
    let mut config = ServerConfig::default();
    // Large enough that the outgoing queue of a fast broadcast never closes a
    // receiver during a run; the reference has no such limit at all.
    config.engine.max_buffered_bytes = 256 << 20;
    let config_http = config.engine.http.clone();
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
    let http = socketio_server::engineio::HttpServer::new(config_http).engine(io.engine().clone());
    let served = async {
        if threads == 1 || tokio_mt {
            http.serve(listener).await
        } else {
            http.serve_on_threads(listener, threads).await
        }
    };
    tokio::select! {
        served = served => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
