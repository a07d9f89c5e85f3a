//! The scenarios, one file each, and what they share: the run context, opening
//! many clients at a bounded concurrency, and the JSON result line.

pub(crate) mod connect;
pub(crate) mod echo;
pub(crate) mod fanout;
pub(crate) mod gateway;
pub(crate) mod idle;
pub(crate) mod polling;

use std::io;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::client::{self, Target, Ws};
use crate::stats;

/// What every scenario gets.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) target: Target,
    pub(crate) server_pid: Option<u32>,
    pub(crate) label: String,
}

/// How many handshakes run at once while clients are being opened.
const OPEN_CONCURRENCY: usize = 64;

/// Opens `count` WebSocket clients connected to `/`, numbered from `first`.
pub(crate) async fn open_many(ctx: &Ctx, first: usize, count: usize) -> io::Result<Vec<Ws>> {
    let mut out = Vec::with_capacity(count);
    let mut n = first;
    while out.len() < count {
        let batch = OPEN_CONCURRENCY.min(count - out.len());
        let mut set = tokio::task::JoinSet::new();
        for i in 0..batch {
            let target = ctx.target.clone();
            let k = n + i;
            set.spawn(async move { (k, client::connect(&target, k).await) });
        }
        let mut got: Vec<(usize, Ws)> = Vec::with_capacity(batch);
        while let Some(res) = set.join_next().await {
            let (k, ws) = res.map_err(io::Error::other)?;
            got.push((
                k,
                ws.map_err(|e| io::Error::other(format!("client {k}: {e}")))?,
            ));
        }
        got.sort_by_key(|(k, _)| *k);
        out.extend(got.into_iter().map(|(_, ws)| ws));
        n += batch;
    }
    Ok(out)
}

/// Server CPU time in seconds, when its pid is known.
pub(crate) fn server_cpu(ctx: &Ctx) -> Option<Duration> {
    ctx.server_pid.and_then(stats::cpu_time_of)
}

/// The JSON result line: the scenario's fields plus the label and CPU times
/// (`client_cpu_s` is the generator's own; compare it with the wall time).
pub(crate) fn result(
    ctx: &Ctx,
    scenario: &str,
    cpu_before: (Duration, Option<Duration>),
    fields: Value,
) -> Value {
    let mut map = Map::new();
    map.insert("scenario".into(), json!(scenario));
    map.insert("label".into(), json!(ctx.label));
    if let Value::Object(f) = fields {
        map.extend(f);
    }
    let client = stats::own_cpu_time().saturating_sub(cpu_before.0);
    map.insert("client_cpu_s".into(), json!(client.as_secs_f64()));
    if let (Some(before), Some(now)) = (cpu_before.1, server_cpu(ctx)) {
        map.insert(
            "server_cpu_s".into(),
            json!(now.saturating_sub(before).as_secs_f64()),
        );
    }
    Value::Object(map)
}

/// CPU times now: the generator's and the server's.
pub(crate) fn cpu_now(ctx: &Ctx) -> (Duration, Option<Duration>) {
    (stats::own_cpu_time(), server_cpu(ctx))
}
