//! Connection rate: workers that each open a client, complete the whole
//! handshake, and close it, as fast as the server lets them. WebSocket mode
//! opens straight over WebSocket; polling mode does what a default client does:
//! a polling handshake, the connect to `/`, then the upgrade (`2probe`,
//! `3probe`, `5`).
//!
//! Closed connections (the WebSocket, and the two polling connections of the
//! upgrade path) are reset rather than left in TIME_WAIT (linger 0), so a long
//! run does not run out of loopback ports.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Ctx, cpu_now, result};
use crate::client::{self, Target, Ws};
use crate::polling::PollingClient;
use crate::stats::Latencies;

pub(crate) async fn run(
    ctx: &Ctx,
    polling: bool,
    concurrency: usize,
    seconds: u64,
) -> io::Result<Value> {
    let cpu = cpu_now(ctx);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let target = ctx.target.clone();
        let next = next.clone();
        set.spawn(async move {
            let mut lat = Latencies::default();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let t0 = Instant::now();
                let r = if polling {
                    with_upgrade(&target, n).await
                } else {
                    client::connect(&target, n).await
                };
                match r {
                    Ok(ws) => {
                        lat.record(t0.elapsed());
                        close(ws);
                    }
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("connect: first error: {e}");
                        }
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        });
    }
    let mut lat = Latencies::default();
    let mut errors = 0;
    while let Some(r) = set.join_next().await {
        let (l, e) = r.map_err(io::Error::other)?;
        lat.merge(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let done = lat.len();
    let [p50, p99, p999] = lat.percentiles();
    let per_s = done as f64 / elapsed;
    let mode = if polling {
        "polling+upgrade"
    } else {
        "websocket"
    };
    eprintln!(
        "connect {mode}: {per_s:.0} handshakes/s, p50 {p50} us, p99 {p99} us, {errors} errors"
    );
    Ok(result(
        ctx,
        "connect",
        cpu,
        json!({
            "transport": mode, "concurrency": concurrency, "seconds": seconds,
            "handshakes_per_s": per_s, "handshakes": done, "errors": errors,
            "p50_us": p50, "p99_us": p99, "p999_us": p999,
        }),
    ))
}

/// Polling handshake and connect, then the WebSocket upgrade.
async fn with_upgrade(target: &Target, n: usize) -> io::Result<Ws> {
    let polling = PollingClient::connect(target, n).await?;
    let mut ws = client::websocket(target, n, &format!("&sid={}", polling.sid)).await?;
    client::send(&mut ws, "2probe").await?;
    loop {
        let text = client::next_text(&mut ws).await?;
        if text.as_str() == "3probe" {
            break;
        }
    }
    client::send(&mut ws, "5").await?;
    polling.reset();
    Ok(ws)
}

fn close(ws: Ws) {
    let stream = ws.into_inner();
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}
