//! The gateway flow: N clients on one instance's namespace, webhook events
//! POSTed at a fixed rate, and for each event the time from the POST to its
//! delivery to the last client (the figure an operator cares about: when has
//! everyone got it). Every client checks that events arrive complete and in order.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;

use super::{Ctx, cpu_now, result};
use crate::client::{self, Ws};
use crate::frames;
use crate::http::Conn;
use crate::stats::{Clock, Latencies};

/// What the run needs to know about the gateway.
#[derive(Debug)]
pub(crate) struct GatewayOpts {
    pub(crate) clients: usize,
    pub(crate) seconds: u64,
    pub(crate) rate: u64,
    pub(crate) instance: String,
    pub(crate) apikey: String,
}

pub(crate) async fn run(ctx: &Ctx, o: &GatewayOpts) -> io::Result<Value> {
    let nsp = format!("/{}", o.instance);
    let auth = json!({ "apikey": o.apikey }).to_string();
    let mut sockets = Vec::with_capacity(o.clients);
    while sockets.len() < o.clients {
        let mut set = tokio::task::JoinSet::new();
        for k in sockets.len()..(sockets.len() + 64).min(o.clients) {
            let (target, nsp, auth) = (ctx.target.clone(), nsp.clone(), auth.clone());
            set.spawn(async move { client::connect_to(&target, k, &nsp, &auth).await });
        }
        while let Some(ws) = set.join_next().await {
            sockets.push(ws.map_err(io::Error::other)??);
        }
    }

    let events = (o.rate * o.seconds) as usize;
    // Per event: the latest delivery, in microseconds after its POST.
    let last: Arc<Vec<AtomicU64>> = Arc::new((0..events).map(|_| AtomicU64::new(0)).collect());
    let clock = Clock::start();
    let (done_tx, done_rx) = watch::channel(false);
    let mut set = tokio::task::JoinSet::new();
    for ws in sockets {
        set.spawn(receive(
            ws,
            clock,
            last.clone(),
            events as u64,
            done_rx.clone(),
        ));
    }

    let cpu = cpu_now(ctx);
    let mut post = Conn::new(ctx.target.tcp(0).await?);
    let headers = format!("Content-Type: application/json\r\napikey: {}\r\n", o.apikey);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / o.rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut ingest = Latencies::default();
    let mut rejected = 0u64;
    for seq in 0..events as u64 {
        tick.tick().await;
        let t = clock.now_us();
        let body = json!({
            "event": "messages.upsert",
            "instance": o.instance,
            "data": { "seq": seq, "t": t },
            "date_time": "2026-01-01T00:00:00.000Z",
            "sender": "5511999999999@s.whatsapp.net",
            "server_url": "http://127.0.0.1",
        })
        .to_string();
        let started = Instant::now();
        let (status, _) = post
            .request_with("POST", "/webhook", &headers, body.as_bytes())
            .await?;
        ingest.record(started.elapsed());
        if !(200..300).contains(&status) {
            rejected += 1;
        }
    }
    // Receivers still missing events get up to 30 s more, counted from here.
    let _ = done_tx.send(true);

    let (mut delivered, mut disorder, mut errors) = (0u64, 0u64, 0u64);
    while let Some(r) = set.join_next().await {
        match r.map_err(io::Error::other)? {
            Ok((got, bad)) => {
                delivered += got;
                disorder += bad;
            }
            Err(_) => errors += 1,
        }
    }
    let mut to_last = Latencies::default();
    for slot in last.iter() {
        let us = slot.load(Ordering::Relaxed);
        if us > 0 {
            to_last.record(Duration::from_micros(us));
        }
    }
    let [p50, p99, p999] = to_last.percentiles();
    let [i50, i99, _] = ingest.percentiles();
    let expected = (events * o.clients) as u64;
    eprintln!(
        "gateway {} clients at {}/s: POST to last delivery p50 {p50} us, p99 {p99} us, p99.9 {p999} us; POST answered p50 {i50} us, p99 {i99} us; lost {}, out of order {disorder}, rejected {rejected}, errors {errors}",
        o.clients,
        o.rate,
        expected.saturating_sub(delivered)
    );
    Ok(result(
        ctx,
        "gateway",
        cpu,
        json!({
            "clients": o.clients, "rate": o.rate, "seconds": o.seconds, "events": events,
            "p50_us": p50, "p99_us": p99, "p999_us": p999,
            "post_p50_us": i50, "post_p99_us": i99,
            "delivered": delivered, "expected": expected,
            "lost": expected.saturating_sub(delivered), "out_of_order": disorder,
            "rejected": rejected, "receiver_errors": errors,
        }),
    ))
}

async fn receive(
    mut ws: Ws,
    clock: Clock,
    last: Arc<Vec<AtomicU64>>,
    events: u64,
    mut done: watch::Receiver<bool>,
) -> io::Result<(u64, u64)> {
    let (mut got, mut disorder, mut expected) = (0u64, 0u64, 0u64);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    let mut drain_deadline = deadline;
    while got < events {
        let text = tokio::select! {
            t = client::next_text(&mut ws) => t?,
            _ = done.changed(), if !*done.borrow() => {
                drain_deadline = tokio::time::Instant::now() + Duration::from_secs(30);
                continue;
            }
            () = tokio::time::sleep_until(drain_deadline) => break,
        };
        if text.as_str() == "2" {
            client::send(&mut ws, "3").await?;
            continue;
        }
        if let Some((seq, t)) = frames::gateway_event(&text) {
            if seq != expected {
                disorder += 1;
            }
            expected = seq + 1;
            got += 1;
            if let Some(slot) = last.get(seq as usize) {
                slot.fetch_max(clock.since_us(t).as_micros() as u64, Ordering::Relaxed);
            }
        }
    }
    Ok((got, disorder))
}
