//! Idle clients: the server's RSS with 0 clients and at each requested count,
//! and the slope between the first and last count (KiB per client).
//!
//! Idle WebSocket clients only answer pings. Idle polling clients keep one GET
//! pending, answer pings with a POST on a connection they close again, and poll
//! anew.

use std::io;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Ctx, cpu_now, open_many, result};
use crate::client::{self, Ws};
use crate::frames::{self, Frame};
use crate::polling::PollingClient;
use crate::stats;

pub(crate) async fn run(
    ctx: &Ctx,
    polling: bool,
    counts: &[usize],
    settle_ms: u64,
) -> io::Result<Value> {
    let pid = ctx
        .server_pid
        .ok_or_else(|| io::Error::other("the idle scenario needs --server-pid"))?;
    let settle = Duration::from_millis(settle_ms);
    let cpu = cpu_now(ctx);
    tokio::time::sleep(settle).await;
    let baseline = stats::rss_kib(pid).unwrap_or(0);
    let mut points = Vec::new();
    let mut opened = 0;
    for &count in counts {
        while opened < count {
            let batch = 500.min(count - opened);
            if polling {
                open_polling(ctx, opened, batch).await?;
            } else {
                for ws in open_many(ctx, opened, batch).await? {
                    tokio::spawn(keep_alive(ws));
                }
            }
            opened += batch;
        }
        tokio::time::sleep(settle).await;
        let rss = stats::rss_kib(pid).unwrap_or(0);
        eprintln!(
            "idle {}: {count} clients, server RSS {rss} KiB",
            if polling { "polling" } else { "websocket" }
        );
        points.push((count, rss));
    }
    let slope = match (points.first(), points.last()) {
        (Some(&(c0, r0)), Some(&(c1, r1))) if c1 > c0 => (r1 as f64 - r0 as f64) / (c1 - c0) as f64,
        _ => 0.0,
    };
    eprintln!("idle: {slope:.2} KiB per client (baseline {baseline} KiB)");
    Ok(result(
        ctx,
        "idle",
        cpu,
        json!({
            "transport": match (polling, ctx.target.browser_headers) {
                (true, _) => "polling",
                (false, false) => "websocket",
                (false, true) => "websocket, browser headers",
            },
            "baseline_kib": baseline,
            "points": points,
            "kib_per_client": slope,
        }),
    ))
}

async fn keep_alive(mut ws: Ws) {
    while let Ok(text) = client::next_text(&mut ws).await {
        if frames::parse(&text) == Frame::Ping && client::send(&mut ws, "3").await.is_err() {
            return;
        }
    }
}

async fn open_polling(ctx: &Ctx, first: usize, count: usize) -> io::Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for k in first..first + count {
        let target = ctx.target.clone();
        set.spawn(async move { PollingClient::connect(&target, k).await });
        if set.len() >= 64 {
            let c = set
                .join_next()
                .await
                .expect("non-empty")
                .map_err(io::Error::other)??;
            tokio::spawn(poll_forever(c));
        }
    }
    while let Some(c) = set.join_next().await {
        tokio::spawn(poll_forever(c.map_err(io::Error::other)??));
    }
    Ok(())
}

async fn poll_forever(mut client: PollingClient) {
    client.release_post();
    while client.poll().await.is_ok() {
        client.release_post();
    }
}
