//! Long-polling round trips: each session POSTs an `echo` and GETs until its
//! ack arrives, in a loop. Reports round trips per second and their latency.

use std::io;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Ctx, cpu_now, result};
use crate::frames::{self, Frame};
use crate::polling::PollingClient;
use crate::stats::{Clock, Latencies};

pub(crate) async fn run(ctx: &Ctx, clients: usize, seconds: u64) -> io::Result<Value> {
    let mut sessions = Vec::with_capacity(clients);
    for k in 0..clients {
        sessions.push(PollingClient::connect(&ctx.target, k).await?);
    }
    let clock = Clock::start();
    let cpu = cpu_now(ctx);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut set = tokio::task::JoinSet::new();
    for mut s in sessions {
        set.spawn(async move {
            let mut lat = Latencies::default();
            let mut id = 0u64;
            while Instant::now() < deadline {
                let t = clock.now_us();
                s.post(frames::echo(id, t).as_bytes()).await?;
                'wait: loop {
                    for p in s.poll().await? {
                        if let Frame::Ack {
                            id: got,
                            t: Some(t),
                        } = frames::parse(&p)
                            && got == id
                        {
                            lat.record(clock.since_us(t));
                            break 'wait;
                        }
                    }
                }
                id += 1;
            }
            Ok::<_, io::Error>(lat)
        });
    }
    let mut lat = Latencies::default();
    let mut errors = 0u64;
    while let Some(r) = set.join_next().await {
        match r.map_err(io::Error::other)? {
            Ok(l) => lat.merge(l),
            Err(_) => errors += 1,
        }
    }
    let per_s = lat.len() as f64 / seconds as f64;
    let [p50, p99, p999] = lat.percentiles();
    eprintln!(
        "polling {clients} sessions: {per_s:.0} round trips/s, p50 {p50} us, p99 {p99} us, {errors} errors"
    );
    Ok(result(
        ctx,
        "polling",
        cpu,
        json!({
            "clients": clients, "seconds": seconds, "round_trips_per_s": per_s,
            "p50_us": p50, "p99_us": p99, "p999_us": p999, "client_errors": errors,
        }),
    ))
}
