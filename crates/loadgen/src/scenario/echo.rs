//! Echo with ack. Closed loop: each client sends its next `echo` when the last
//! one is acknowledged. Open loop: each client sends on a fixed schedule whatever
//! the answers do, so a server that falls behind is not hidden by the generator
//! waiting for it.

use std::io;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;

use super::{Ctx, cpu_now, open_many, result};
use crate::client::{self, Ws};
use crate::frames::{self, Frame};
use crate::stats::{Clock, Latencies};

pub(crate) async fn run(ctx: &Ctx, clients: usize, seconds: u64, rate: u64) -> io::Result<Value> {
    let sockets = open_many(ctx, 0, clients).await?;
    let clock = Clock::start();
    let cpu = cpu_now(ctx);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut set = tokio::task::JoinSet::new();
    for ws in sockets {
        if rate == 0 {
            set.spawn(closed_loop(ws, clock, deadline));
        } else {
            let interval = Duration::from_secs_f64(clients as f64 / rate as f64);
            set.spawn(open_loop(ws, clock, deadline, interval));
        }
    }
    let mut lat = Latencies::default();
    let mut sent = 0u64;
    let mut errors = 0u64;
    while let Some(r) = set.join_next().await {
        match r.map_err(io::Error::other)? {
            Ok((l, s)) => {
                lat.merge(l);
                sent += s;
            }
            Err(_) => errors += 1,
        }
    }
    let elapsed = Duration::from_secs(seconds).as_secs_f64();
    let acked = lat.len() as u64;
    let [p50, p99, p999] = lat.percentiles();
    let per_s = acked as f64 / elapsed;
    eprintln!(
        "echo {clients} clients{}: {per_s:.0} msg/s, p50 {p50} us, p99 {p99} us, p99.9 {p999} us, {} lost, {errors} client errors",
        if rate > 0 {
            format!(" at {rate}/s")
        } else {
            String::new()
        },
        sent - acked
    );
    Ok(result(
        ctx,
        "echo",
        cpu,
        json!({
            "clients": clients, "rate": rate, "seconds": seconds,
            "msgs_per_s": per_s, "p50_us": p50, "p99_us": p99, "p999_us": p999,
            "sent": sent, "acked": acked, "client_errors": errors,
        }),
    ))
}

async fn closed_loop(mut ws: Ws, clock: Clock, deadline: Instant) -> io::Result<(Latencies, u64)> {
    let mut lat = Latencies::default();
    let mut id = 0u64;
    while Instant::now() < deadline {
        let t = clock.now_us();
        client::send(&mut ws, frames::echo(id, t)).await?;
        loop {
            let text = client::next_text(&mut ws).await?;
            match frames::parse(&text) {
                Frame::Ack {
                    id: got,
                    t: Some(t),
                } if got == id => {
                    lat.record(clock.since_us(t));
                    break;
                }
                Frame::Ping => client::send(&mut ws, "3").await?,
                _ => {}
            }
        }
        id += 1;
    }
    Ok((lat, id))
}

async fn open_loop(
    ws: Ws,
    clock: Clock,
    deadline: Instant,
    interval: Duration,
) -> io::Result<(Latencies, u64)> {
    let (mut sink, mut stream) = ws.split();
    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let writer = async move {
        let mut tick = tokio::time::interval(interval);
        // Late ticks are sent at once: the schedule, not the server, sets the pace.
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut id = 0u64;
        loop {
            tokio::select! {
                at = tick.tick() => {
                    if at.into_std() >= deadline {
                        break;
                    }
                    // Latency counts from the send: tokio's timer is only
                    // millisecond-precise, so the scheduled instant would add up
                    // to a millisecond of the generator's own lateness. The
                    // writer never waits for answers, so a slow server still
                    // shows (as TCP back-pressure on this send).
                    let t = clock.now_us();
                    sink.send(Message::Text(frames::echo(id, t).into())).await.map_err(io::Error::other)?;
                    id += 1;
                }
                Some(()) = pong_rx.recv() => {
                    sink.send(Message::Text("3".into())).await.map_err(io::Error::other)?;
                }
            }
        }
        Ok::<_, io::Error>((id, sink))
    };
    let reader = async move {
        let mut lat = Latencies::default();
        // Answers still on their way at the deadline get one more second.
        let end = deadline + Duration::from_secs(1);
        while let Ok(Some(msg)) = tokio::time::timeout_at(end.into(), stream.next()).await {
            let Ok(Message::Text(text)) = msg else {
                continue;
            };
            match frames::parse(&text) {
                Frame::Ack { t: Some(t), .. } => lat.record(clock.since_us(t)),
                Frame::Ping => {
                    let _ = pong_tx.send(());
                }
                _ => {}
            }
        }
        lat
    };
    let (sent, lat) = tokio::join!(writer, reader);
    let (sent, _sink) = sent?;
    Ok((lat, sent))
}
