//! `sio-bench`: a load generator for Socket.IO servers. It speaks raw Engine.IO
//! v4 / Socket.IO v5 frames over WebSocket and HTTP long-polling, parses only
//! what it must, and reports its own CPU time next to each result so that a run
//! where the generator was the bottleneck can be told apart.
//!
//! Each scenario prints one JSON line on stdout (read by `scripts/bench`) and a
//! readable summary on stderr. The server must answer `echo` with an ack of the
//! same arguments and broadcast `bcast` to the other sockets, as
//! `bench-server` and `bench/node/server.mjs` do.

mod client;
mod frames;
mod http;
mod polling;
mod scenario;
mod stats;

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(about = "Load generator for Socket.IO servers (raw Engine.IO v4 / Socket.IO v5 frames)")]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// The server's process id, to read its memory and CPU time from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Clients per loopback source address (127.0.0.1, .2, ...), so that more
    /// connections than one address has ports can be opened.
    #[arg(long, default_value_t = 20_000)]
    per_source: usize,
    /// A label copied into the JSON result (which server, which runtime).
    #[arg(long, default_value = "")]
    label: String,
    #[command(subcommand)]
    scenario: Scenario,
}

/// The transport a scenario's clients use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Transport {
    Websocket,
    Polling,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Idle clients: server RSS at each count, and the slope per connection.
    Idle {
        #[arg(long, value_enum, default_value_t = Transport::Websocket)]
        transport: Transport,
        /// Client counts to measure at, ascending.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
        counts: Vec<usize>,
        /// Time to let the server settle before reading its RSS, in ms.
        #[arg(long, default_value_t = 2000)]
        settle_ms: u64,
        /// WebSocket clients send a desktop browser's headers (user agent, origin, languages,
        /// cookies) with their handshake, which the server keeps for the session's life.
        #[arg(long)]
        browser_headers: bool,
    },
    /// Echo with ack: messages/s and latency percentiles.
    Echo {
        #[arg(long, default_value_t = 100)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Total messages/s, spread over the clients (open loop); 0 is closed
        /// loop: each client sends its next message when the last is acked.
        #[arg(long, default_value_t = 0)]
        rate: u64,
    },
    /// Broadcast fan-out: one emitter, N receivers.
    Fanout {
        #[arg(long, default_value_t = 1000)]
        receivers: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Broadcasts/s; 0 sends as fast as acks come back (the ceiling).
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// Broadcasts in flight (not yet acked) in ceiling mode.
        #[arg(long, default_value_t = 32)]
        window: usize,
        /// Ceiling mode: stop after this many broadcasts (0: only the time limit). A fixed count
        /// makes runs under a profiler comparable (instructions per delivery).
        #[arg(long, default_value_t = 0)]
        count: u64,
    },
    /// Connection rate: complete handshakes per second.
    Connect {
        /// `websocket`: straight over WebSocket; `polling`: polling, then the upgrade.
        #[arg(long, value_enum, default_value_t = Transport::Websocket)]
        transport: Transport,
        #[arg(long, default_value_t = 50)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The gateway flow: webhook events POSTed at a fixed rate to N clients of
    /// one instance; latency from the POST to the last client's delivery.
    Gateway {
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Events per second.
        #[arg(long, default_value_t = 20)]
        rate: u64,
        #[arg(long, default_value = "bench")]
        instance: String,
        /// The gateway's global key.
        #[arg(long)]
        apikey: String,
    },
    /// Long-polling round trips: each session POSTs an echo and GETs its ack.
    Polling {
        #[arg(long, default_value_t = 100)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

fn main() {
    let args = Args::parse();
    // One thread: the generator must not need more than the core it is pinned to.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let browser_headers = matches!(
        args.scenario,
        Scenario::Idle {
            browser_headers: true,
            ..
        }
    );
    let target = client::Target {
        addr: args.addr,
        per_source: args.per_source,
        browser_headers,
    };
    let ctx = scenario::Ctx {
        target,
        server_pid: args.server_pid,
        label: args.label,
    };
    let result = runtime.block_on(async move {
        match args.scenario {
            Scenario::Idle {
                transport,
                counts,
                settle_ms,
                ..
            } => {
                scenario::idle::run(&ctx, transport == Transport::Polling, &counts, settle_ms).await
            }
            Scenario::Echo {
                clients,
                seconds,
                rate,
            } => scenario::echo::run(&ctx, clients, seconds, rate).await,
            Scenario::Fanout {
                receivers,
                seconds,
                rate,
                window,
                count,
            } => scenario::fanout::run(&ctx, receivers, seconds, rate, window, count).await,
            Scenario::Connect {
                transport,
                concurrency,
                seconds,
            } => {
                scenario::connect::run(&ctx, transport == Transport::Polling, concurrency, seconds)
                    .await
            }
            Scenario::Gateway {
                clients,
                seconds,
                rate,
                instance,
                apikey,
            } => {
                let opts = scenario::gateway::GatewayOpts {
                    clients,
                    seconds,
                    rate,
                    instance,
                    apikey,
                };
                scenario::gateway::run(&ctx, &opts).await
            }
            Scenario::Polling { clients, seconds } => {
                scenario::polling::run(&ctx, clients, seconds).await
            }
        }
    });
    match result {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("sio-bench: {e}");
            std::process::exit(1);
        }
    }
}
