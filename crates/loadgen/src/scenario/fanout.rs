//! Broadcast fan-out: N receivers on `/`, one emitter whose every `bcast` the
//! server sends to all the others. Ceiling mode keeps a window of broadcasts in
//! flight (each acked by the server once queued) and reports deliveries per
//! second from the first send to the last delivery; rate mode sends at a fixed
//! pace and reports delivery latency. Every receiver checks that sequence
//! numbers arrive complete and in order.

use std::io;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;

use super::{Ctx, cpu_now, open_many, result};
use crate::client::{self, Ws};
use crate::frames::{self, Frame};
use crate::stats::{Clock, Latencies};

/// What one receiver saw.
#[derive(Debug, Default)]
struct Seen {
    received: u64,
    out_of_order: u64,
    last: Option<Instant>,
    lat: Latencies,
}

pub(crate) async fn run(
    ctx: &Ctx,
    receivers: usize,
    seconds: u64,
    rate: u64,
    window: usize,
    count: u64,
) -> io::Result<Value> {
    let sockets = open_many(ctx, 0, receivers).await?;
    let mut emitter = open_many(ctx, receivers, 1).await?.remove(0);
    let clock = Clock::start();
    // The total sent, once the emitter is done: receivers stop when they have it all.
    let (total_tx, total_rx) = watch::channel(None::<u64>);
    let sample_every = (receivers as u64 / 100).max(1);
    let mut set = tokio::task::JoinSet::new();
    for (i, ws) in sockets.into_iter().enumerate() {
        set.spawn(receive(ws, clock, total_rx.clone(), i as u64, sample_every));
    }
    let cpu = cpu_now(ctx);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let sent = if rate == 0 {
        emit_window(&mut emitter, clock, deadline, window, count).await?
    } else {
        emit_rate(&mut emitter, clock, deadline, rate).await?
    };
    let _ = total_tx.send(Some(sent));

    let mut lat = Latencies::default();
    let (mut delivered, mut disorder, mut incomplete, mut errors) = (0u64, 0u64, 0u64, 0u64);
    let mut last = started;
    while let Some(r) = set.join_next().await {
        match r.map_err(io::Error::other)? {
            Ok(seen) => {
                delivered += seen.received;
                disorder += seen.out_of_order;
                incomplete += u64::from(seen.received < sent);
                last = last.max(seen.last.unwrap_or(started));
                lat.merge(seen.lat);
            }
            Err(_) => errors += 1,
        }
    }
    let span = last.duration_since(started).as_secs_f64().max(1e-9);
    let per_s = delivered as f64 / span;
    let [p50, p99, p999] = lat.percentiles();
    let expected = sent * receivers as u64;
    eprintln!(
        "fanout to {receivers}{}: {sent} broadcasts, {per_s:.0} deliveries/s, p50 {p50} us, p99 {p99} us; lost {}, out of order {disorder}, receivers incomplete {incomplete}, errors {errors}",
        if rate > 0 {
            format!(" at {rate}/s")
        } else {
            String::new()
        },
        expected.saturating_sub(delivered)
    );
    Ok(result(
        ctx,
        "fanout",
        cpu,
        json!({
            "receivers": receivers, "rate": rate, "seconds": seconds, "window": window, "count": count,
            "broadcasts": sent, "deliveries": delivered, "expected": expected,
            "deliveries_per_s": per_s, "drain_s": span,
            "p50_us": p50, "p99_us": p99, "p999_us": p999,
            "lost": expected.saturating_sub(delivered), "out_of_order": disorder,
            "receiver_errors": errors,
        }),
    ))
}

/// One receiver's socket and what it has seen so far.
struct Receiver {
    ws: Ws,
    clock: Clock,
    seen: Seen,
    expected: u64,
    index: u64,
    sample_every: u64,
}

async fn receive(
    ws: Ws,
    clock: Clock,
    mut total: watch::Receiver<Option<u64>>,
    index: u64,
    sample_every: u64,
) -> io::Result<Seen> {
    let mut r = Receiver {
        ws,
        clock,
        seen: Seen::default(),
        expected: 0,
        index,
        sample_every,
    };
    {
        // The total is known only once the emitter is done. One wait for it serves the whole
        // run, and frames already read are taken first: a new wait per frame was a large share
        // of this generator's own CPU time.
        let changed = total.changed();
        tokio::pin!(changed);
        loop {
            let text = tokio::select! {
                biased;
                text = client::next_text(&mut r.ws) => text?,
                changed = &mut changed => {
                    if changed.is_err() {
                        return Ok(r.seen);
                    }
                    break;
                }
            };
            r.on_frame(&text).await?;
        }
    }
    // Give stragglers a bounded time once the emitter is done.
    let total = total.borrow().unwrap_or(0);
    let end = Instant::now() + Duration::from_secs(60);
    while r.seen.received < total {
        match tokio::time::timeout_at(end.into(), client::next_text(&mut r.ws)).await {
            Ok(text) => r.on_frame(&text?).await?,
            Err(_) => break,
        }
    }
    Ok(r.seen)
}

impl Receiver {
    async fn on_frame(&mut self, text: &str) -> io::Result<()> {
        match frames::parse(text) {
            Frame::Broadcast { seq, t } => {
                let seen = &mut self.seen;
                if seq != self.expected {
                    seen.out_of_order += 1;
                }
                self.expected = seq + 1;
                seen.received += 1;
                seen.last = Some(Instant::now());
                if (seq + self.index) % self.sample_every == 0 {
                    seen.lat.record(self.clock.since_us(t));
                }
            }
            Frame::Ping => client::send(&mut self.ws, "3").await?,
            _ => {}
        }
        Ok(())
    }
}

/// Ceiling: keeps `window` broadcasts unacknowledged until the deadline, or until `count`
/// broadcasts were sent when it is not 0.
async fn emit_window(
    ws: &mut Ws,
    clock: Clock,
    deadline: Instant,
    window: usize,
    count: u64,
) -> io::Result<u64> {
    let mut seq = 0u64;
    let mut in_flight = 0usize;
    loop {
        while in_flight < window && Instant::now() < deadline && (count == 0 || seq < count) {
            client::send(ws, frames::bcast(seq, seq, clock.now_us())).await?;
            seq += 1;
            in_flight += 1;
        }
        if in_flight == 0 {
            return Ok(seq);
        }
        let text = client::next_text(ws).await?;
        match frames::parse(&text) {
            Frame::Ack { .. } => in_flight -= 1,
            Frame::Ping => client::send(ws, "3").await?,
            _ => {}
        }
    }
}

/// Fixed rate: one broadcast every `1/rate` s until the deadline.
async fn emit_rate(ws: &mut Ws, clock: Clock, deadline: Instant, rate: u64) -> io::Result<u64> {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut seq = 0u64;
    loop {
        tokio::select! {
            at = tick.tick() => {
                if at.into_std() >= deadline {
                    break;
                }
                client::send(ws, frames::bcast(seq, seq, clock.now_us())).await?;
                seq += 1;
            }
            text = client::next_text(ws) => {
                let text = text?;
                if frames::parse(&text) == Frame::Ping {
                    client::send(ws, "3").await?;
                }
            }
        }
    }
    Ok(seq)
}
