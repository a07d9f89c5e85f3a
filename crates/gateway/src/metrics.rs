//! The Prometheus metrics of `GET /metrics`: connections by transport and namespace, events in
//! and out, relay latency and failures, ingest rejections, messages Redis never got.
//!
//! Counters are updated where things happen; the connection gauge is recomputed from the live
//! sockets at each scrape, so it is exact even across transport upgrades. Serving the text is up
//! to [`crate::api`].

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Every metric of the gateway, in one registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Connected sockets by `transport` and `namespace` (set at scrape).
    pub connections: IntGaugeVec,
    /// Events received, by `source`: `webhook`, `emit` (HTTP), `client` (a socket's event).
    pub events_in: IntCounterVec,
    /// Events emitted to clients, by `kind`: `instance`, `global` (namespace `/`), `emit`.
    pub events_out: IntCounterVec,
    /// Seconds a relayed event waited for its upstream, by `outcome`.
    pub relay_seconds: HistogramVec,
    /// Relayed events that got an error ack, by `reason`.
    pub relay_failures: IntCounterVec,
    /// HTTP ingest requests refused, by `reason`.
    pub ingest_rejections: IntCounterVec,
    /// Messages for other nodes that Redis never got (queue full, or Redis away); brought up to
    /// the adapter's own count at each scrape.
    pub redis_dropped: IntCounter,
}

impl Metrics {
    /// A fresh registry with every metric registered. Fails only if a name or label written
    /// below is invalid, which the unit tests rule out.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("sio_gateway".to_owned()), None)?;
        let connections = IntGaugeVec::new(
            Opts::new(
                "connections",
                "Connected Socket.IO clients by transport and namespace",
            ),
            &["transport", "namespace"],
        );
        let events_in = IntCounterVec::new(
            Opts::new("events_in_total", "Events received, by source"),
            &["source"],
        );
        let events_out = IntCounterVec::new(
            Opts::new("events_out_total", "Events emitted to a namespace, by kind"),
            &["kind"],
        );
        let relay_seconds = HistogramVec::new(
            HistogramOpts::new(
                "relay_duration_seconds",
                "Time a relayed event waited for its upstream",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["outcome"],
        );
        let relay_failures = IntCounterVec::new(
            Opts::new(
                "relay_failures_total",
                "Relayed events answered with an error, by reason",
            ),
            &["reason"],
        );
        let ingest_rejections = IntCounterVec::new(
            Opts::new(
                "ingest_rejections_total",
                "HTTP ingest requests refused, by reason",
            ),
            &["reason"],
        );
        let redis_dropped = IntCounter::new(
            "redis_publishes_dropped_total",
            "Messages for other nodes dropped: the Redis publish queue was full or Redis was away",
        );

        let metrics = Metrics {
            registry,
            connections: connections?,
            events_in: events_in?,
            events_out: events_out?,
            relay_seconds: relay_seconds?,
            relay_failures: relay_failures?,
            ingest_rejections: ingest_rejections?,
            redis_dropped: redis_dropped?,
        };
        let r = &metrics.registry;
        r.register(Box::new(metrics.connections.clone()))?;
        r.register(Box::new(metrics.events_in.clone()))?;
        r.register(Box::new(metrics.events_out.clone()))?;
        r.register(Box::new(metrics.relay_seconds.clone()))?;
        r.register(Box::new(metrics.relay_failures.clone()))?;
        r.register(Box::new(metrics.ingest_rejections.clone()))?;
        r.register(Box::new(metrics.redis_dropped.clone()))?;
        Ok(metrics)
    }

    /// Replaces the connection gauge with `counts` of `(transport, namespace, sockets)`.
    pub fn set_connections(&self, counts: &[(&str, &str, usize)]) {
        self.connections.reset();
        for (transport, namespace, n) in counts {
            let n = i64::try_from(*n).unwrap_or(i64::MAX);
            self.connections
                .with_label_values(&[*transport, *namespace])
                .add(n);
        }
    }

    /// Brings the dropped-publishes counter up to `total`, the adapter's own count.
    pub fn set_redis_dropped(&self, total: u64) {
        self.redis_dropped
            .inc_by(total.saturating_sub(self.redis_dropped.get()));
    }

    /// The metrics in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_every_family() {
        let m = Metrics::new().expect("constant metric definitions");
        m.events_in.with_label_values(&["webhook"]).inc();
        m.events_out.with_label_values(&["instance"]).inc_by(2);
        m.relay_seconds.with_label_values(&["ok"]).observe(0.02);
        m.relay_failures.with_label_values(&["timeout"]).inc();
        m.ingest_rejections.with_label_values(&["not_json"]).inc();
        m.set_connections(&[("websocket", "/shop", 3), ("polling", "/", 1)]);
        m.set_redis_dropped(5);
        m.set_redis_dropped(7);
        let text = m.render();
        for needle in [
            "sio_gateway_events_in_total{source=\"webhook\"} 1",
            "sio_gateway_events_out_total{kind=\"instance\"} 2",
            "sio_gateway_relay_duration_seconds_count{outcome=\"ok\"} 1",
            "sio_gateway_relay_failures_total{reason=\"timeout\"} 1",
            "sio_gateway_ingest_rejections_total{reason=\"not_json\"} 1",
            "sio_gateway_connections{namespace=\"/shop\",transport=\"websocket\"} 3",
            "sio_gateway_redis_publishes_dropped_total 7",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
        // A scrape replaces the gauge: gone namespaces disappear.
        m.set_connections(&[]);
        assert!(!m.render().contains("namespace=\"/shop\""));
    }
}
