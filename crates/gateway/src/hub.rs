//! The Socket.IO side of the gateway: the server, its namespaces (`/` and one per instance), the
//! connect middleware that applies [`crate::auth`], the rooms that implement the client filter,
//! the relay handlers, and the emits that ingested events become.
//!
//! Contract: "`/<instance>` exists for any valid instance name as soon as a client connects (no
//! race with the first event)". Instance namespaces are children of one dynamic namespace whose
//! matcher accepts every valid name; an empty child is removed, and an event for an instance
//! without a namespace reaches nobody, which is right since nobody listens there.
//!
//! The filter is a set of rooms: a socket with no filter joins [`ALL_EVENTS_ROOM`], a socket with
//! one joins the room of each event it asked for, and an ingested event goes to the union of
//! both, so each socket gets it at most once and the packet is encoded once.

use std::{collections::HashMap, sync::Arc, time::Instant};

use socketio_redis_adapter::RedisCluster;
use socketio_server::{
    BroadcastOptions, ConnectError, EmitError, Event, Namespace, ParentNamespace, Room, Server,
    ServerConfig, Socket, Value,
    codec::Packet,
    engineio::{CorsConfig, CorsOrigins},
};

use crate::{
    auth::{self, Admission},
    config::{Config, Origins},
    ingest::{EmitRequest, WebhookEvent},
    keys::Keys,
    metrics::Metrics,
    names::{ALL_EVENTS_ROOM, TOKEN_ROOM, event_room, instance_of_namespace, valid_instance_name},
    relay::Relay,
};

/// What every middleware and handler needs.
#[derive(Debug)]
struct Shared {
    keys: Arc<Keys>,
    relay: Relay,
    metrics: Metrics,
    allowed_hosts: Option<crate::config::HostList>,
}

#[derive(Debug)]
struct Live {
    io: Server,
    /// The dynamic parent of `/<instance>`; held for the hub's lifetime.
    _instances: ParentNamespace,
}

/// The Socket.IO server of the gateway, or nothing when `WEBSOCKET_ENABLED` is false; and the
/// Redis connections when the gateway joins other nodes (`REDIS_URL`).
#[derive(Debug, Clone)]
pub struct Hub {
    live: Option<Arc<Live>>,
    cluster: Option<RedisCluster>,
    global_events: bool,
    metrics: Metrics,
}

impl Hub {
    /// A hub with no Socket.IO endpoint: events are accepted and reach nobody (see
    /// [`forwarding`](Self::forwarding)).
    pub fn disabled(metrics: Metrics) -> Hub {
        Hub {
            live: None,
            cluster: None,
            global_events: false,
            metrics,
        }
    }

    /// This hub, with no endpoint of its own, hands the events it ingests to the clients of the
    /// other nodes of `cluster` (and to their `/` in global mode).
    pub fn forwarding(self, cluster: RedisCluster, global_events: bool) -> Hub {
        Hub {
            cluster: Some(cluster),
            global_events,
            ..self
        }
    }

    /// The Socket.IO server for `config`.
    /// With `cluster`, every namespace uses the Redis adapter, and events for an instance
    /// without clients here still go to the other nodes.
    pub fn new(
        config: &Config,
        keys: Arc<Keys>,
        relay: Relay,
        metrics: Metrics,
        cluster: Option<RedisCluster>,
    ) -> Hub {
        let mut server_config = ServerConfig::default();
        server_config.engine.cors = Some(CorsConfig {
            origins: match &config.cors_origin {
                Origins::Any => CorsOrigins::Any,
                Origins::List(list) => CorsOrigins::List(list.clone()),
            },
            ..CorsConfig::default()
        });
        let handshake_keys = keys.clone();
        server_config.engine.allow_request = Some(Arc::new(move |parts, _remote| {
            auth::check_handshake(&handshake_keys, parts)
        }));
        server_config.cleanup_empty_child_namespaces = true;

        let io = match &cluster {
            Some(cluster) => Server::with_adapter(server_config, cluster.factory()),
            None => Server::new(server_config),
        };
        let shared = Arc::new(Shared {
            keys,
            relay,
            metrics: metrics.clone(),
            allowed_hosts: config.allowed_hosts.clone(),
        });

        let root = io.main_namespace();
        let s = shared.clone();
        root.use_middleware(move |socket| admit(&s, socket));
        let s = shared.clone();
        root.on_connection(move |socket| on_connection(&s, socket));

        let instances = io.of_dynamic(|name, _auth| instance_of_namespace(name).is_some());
        let s = shared.clone();
        instances.use_middleware(move |socket| admit(&s, socket));
        let s = shared;
        instances.on_connection(move |socket| on_connection(&s, socket));

        Hub {
            live: Some(Arc::new(Live {
                io,
                _instances: instances,
            })),
            cluster,
            global_events: config.global_events,
            metrics,
        }
    }

    /// The Socket.IO server, when the endpoint is on.
    pub fn server(&self) -> Option<&Server> {
        self.live.as_ref().map(|l| &l.io)
    }

    /// The namespace of an instance, if a client ever connected to it (never creates one: a
    /// namespace made outside the dynamic parent would skip its middlewares).
    fn instance_namespace(&self, instance: &str) -> Option<Namespace> {
        let live = self.live.as_ref()?;
        live.io.namespace(&format!("/{instance}"))
    }

    /// Emits an ingested event to `/<instance>` (and `/` in global mode), to the sockets whose
    /// filter lets it through, on this node and the others.
    pub fn emit_webhook(&self, ev: &WebhookEvent) {
        let args = vec![ev.payload.clone()];
        let filter = [Room::from(ALL_EVENTS_ROOM), event_room(&ev.event).into()];
        let instance = format!("/{}", ev.instance);
        let main = self.live.as_ref().map(|live| live.io.main_namespace());
        let targets = [
            Some((
                instance.as_str(),
                self.instance_namespace(&ev.instance),
                "instance",
            )),
            self.global_events.then_some(("/", main, "global")),
        ];
        for (name, nsp, kind) in targets.into_iter().flatten() {
            match nsp {
                Some(nsp) => {
                    let result = nsp
                        .to(filter[0].clone())
                        .to(filter[1].clone())
                        .emit(&ev.event, args.clone());
                    self.count_emit(result, kind, nsp.name());
                }
                None => self.publish(name, &ev.event, args.clone(), &filter, kind),
            }
        }
    }

    /// Emits `POST /emit`'s event to every socket of its namespace (no filter), on this node and
    /// the others.
    pub fn emit(&self, req: &EmitRequest) {
        let nsp = match instance_of_namespace(&req.namespace) {
            Some(instance) => self.instance_namespace(instance),
            None => self.live.as_ref().map(|live| live.io.main_namespace()),
        };
        match nsp {
            Some(nsp) => {
                self.count_emit(nsp.emit(&req.event, req.args.clone()), "emit", nsp.name());
            }
            None => self.publish(&req.namespace, &req.event, req.args.clone(), &[], "emit"),
        }
    }

    /// Messages for other nodes dropped so far (see
    /// [`RedisCluster::dropped_publishes`]); `None` for a single node.
    pub fn dropped_publishes(&self) -> Option<u64> {
        self.cluster.as_ref().map(RedisCluster::dropped_publishes)
    }

    /// Sends an event to the other nodes only, for a namespace that does not exist here (no
    /// client of it connected to this node, or the endpoint is off). Nothing without a cluster.
    fn publish(&self, nsp: &str, event: &str, args: Vec<Value>, rooms: &[Room], kind: &str) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let opts = BroadcastOptions {
            rooms: rooms.iter().cloned().collect(),
            ..BroadcastOptions::default()
        };
        cluster.broadcast(&Packet::event(nsp, event, args, None), &opts);
        self.metrics.events_out.with_label_values(&[kind]).inc();
    }

    fn count_emit(&self, result: Result<(), EmitError>, kind: &str, nsp: &str) {
        match result {
            Ok(()) => self.metrics.events_out.with_label_values(&[kind]).inc(),
            // Ingest refuses reserved names before this point.
            Err(e) => tracing::error!(error = %e, namespace = nsp, "emit refused"),
        }
    }

    /// Disconnects the sockets of `/<instance>` that came in with its (now replaced or deleted)
    /// token.
    pub fn drop_token_sockets(&self, instance: &str) {
        if let Some(nsp) = self.instance_namespace(instance) {
            nsp.to(TOKEN_ROOM).disconnect_sockets(false);
        }
    }

    /// Connected sockets by transport and namespace.
    pub fn connection_counts(&self) -> Vec<(&'static str, String, usize)> {
        let Some(live) = &self.live else {
            return Vec::new();
        };
        let mut counts: HashMap<(&'static str, String), usize> = HashMap::new();
        for nsp in live.io.namespaces() {
            for socket in nsp.sockets() {
                *counts
                    .entry((socket.transport().as_str(), nsp.name().to_owned()))
                    .or_default() += 1;
            }
        }
        counts.into_iter().map(|((t, n), c)| (t, n, c)).collect()
    }

    /// Disconnects every client without a DISCONNECT packet (server-side reason `server shutting
    /// down`), so that official clients reconnect.
    pub fn close(&self) {
        if let Some(live) = &self.live {
            live.io.close();
        }
    }

    /// How many Engine.IO connections are open.
    pub fn client_count(&self) -> usize {
        self.live.as_ref().map_or(0, |l| l.io.client_count())
    }
}

/// The connect middleware of every namespace: key, allowed hosts, filter.
fn admit(shared: &Shared, socket: &Socket) -> Result<(), ConnectError> {
    let hs = socket.handshake();
    let nsp = socket.namespace().name();
    let instance = instance_of_namespace(nsp);
    if instance.is_none() && nsp != "/" {
        // The matcher only creates valid names; anything else is not ours.
        return Err(ConnectError::new("Invalid namespace"));
    }
    let handshake_key = hs
        .query("apikey")
        .or_else(|| hs.headers().get_str("apikey").map(str::to_owned));
    let key = auth::client_key(hs.auth(), handshake_key);
    let address = hs.address().ip();

    let refuse = |e: auth::Refusal| {
        tracing::debug!(namespace = nsp, %address, reason = %e, "connection refused");
        ConnectError::new(e.to_string())
    };
    let admission = auth::admit(
        &shared.keys,
        shared.allowed_hosts.as_ref(),
        instance,
        key.as_deref(),
        address,
    )
    .map_err(refuse)?;
    let filter = auth::parse_filter(hs.auth()).map_err(refuse)?;
    socket.set_data(serde_json::json!({ "admission": admission.as_str(), "events": filter }));
    Ok(())
}

/// Joins the filter's rooms (and the token room) and attaches the relay handlers.
fn on_connection(shared: &Arc<Shared>, socket: Socket) {
    let data = socket.data();
    let events: Vec<&str> = data["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    if events.is_empty() {
        socket.join(ALL_EVENTS_ROOM);
    } else {
        for event in &events {
            socket.join(event_room(event));
        }
    }
    if data["admission"].as_str() == Some(Admission::Token.as_str()) {
        socket.join(TOKEN_ROOM);
    }

    for event in shared.relay.events() {
        let shared = shared.clone();
        socket.on(event, move |socket, event| {
            relay_event(&shared, socket, event)
        });
    }
    socket.on_disconnect(|socket, reason| {
        tracing::debug!(
            sid = %socket.id(),
            namespace = socket.namespace().name(),
            reason = %reason,
            "client disconnected"
        );
    });
    tracing::debug!(
        sid = %socket.id(),
        namespace = socket.namespace().name(),
        transport = socket.transport().as_str(),
        "client connected"
    );
}

/// Sends one client event upstream and acknowledges it with the answer or the error.
fn relay_event(shared: &Arc<Shared>, socket: Socket, event: Event) {
    shared
        .metrics
        .events_in
        .with_label_values(&["client"])
        .inc();
    let shared = shared.clone();
    tokio::spawn(async move {
        let instance = instance_of_namespace(socket.namespace().name())
            .filter(|i| valid_instance_name(i))
            .map(str::to_owned);
        // The instance's token; an instance without one relays with the global key, which in an
        // Evolution API deployment is the same AUTHENTICATION_API_KEY.
        let key = instance
            .as_deref()
            .and_then(|i| shared.keys.token_of(i))
            .unwrap_or_else(|| shared.keys.global().to_owned());
        let body = event.args.first().cloned().unwrap_or(Value::Null);

        let started = Instant::now();
        let result = shared
            .relay
            .send(instance.as_deref(), &event.name, Some(&key), &body)
            .await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        shared
            .metrics
            .relay_seconds
            .with_label_values(&[outcome])
            .observe(started.elapsed().as_secs_f64());

        let answer = match result {
            Ok(answer) => answer,
            Err(e) => {
                shared
                    .metrics
                    .relay_failures
                    .with_label_values(&[e.label()])
                    .inc();
                tracing::debug!(sid = %socket.id(), event = %event.name, error = %e, "relay failed");
                e.to_ack()
            }
        };
        if let Some(ack) = event.ack {
            ack.send(vec![answer]);
        }
    });
}
