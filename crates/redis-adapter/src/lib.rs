//! A Redis adapter for `socketio-server`: several server nodes share one cluster through Redis
//! pub/sub, speaking the channel protocol of the official Node adapter (npm
//! `@socket.io/redis-adapter` 8.x), so Rust and Node.js servers can be nodes of one cluster.
//!
//! ```no_run
//! use socketio_redis_adapter::{RedisAdapterConfig, RedisCluster};
//! use socketio_server::{Server, ServerConfig};
//!
//! # async fn run() -> Result<(), socketio_redis_adapter::Error> {
//! let cluster = RedisCluster::connect(RedisAdapterConfig::new("redis://127.0.0.1:6379")).await?;
//! let io = Server::with_adapter(ServerConfig::default(), cluster.factory());
//! # Ok(()) }
//! ```
//!
//! # What goes through Redis
//!
//! Each namespace's adapter keeps its own sockets in a local
//! [`InMemoryAdapter`](socketio_server::InMemoryAdapter) and uses these channels (`<key>` is
//! [`RedisAdapterConfig::key`], `socket.io` by default; `<nsp>` the namespace, such as `/`):
//!
//! | channel | carries | encoding |
//! |---|---|---|
//! | `<key>#<nsp>#` (pattern `<key>#<nsp>#*`) | broadcasts; `<key>#<nsp>#<room>#` when one room is addressed | MessagePack `[uid, {type, data, nsp}, {rooms, except, flags}]` |
//! | `<key>-request#<nsp>#` | requests to every node: `{uid, requestId?, type, ...}` | JSON, except a broadcast with acknowledgements (MessagePack) |
//! | `<key>-response#<nsp>#` and `<key>-response#<nsp>#<uid>#` | responses `{requestId, ...}` | JSON, except each acknowledgement (MessagePack) |
//!
//! MessagePack is written as npm notepack.io writes it (the codec's `msgpack` module), JSON
//! with JavaScript key order. A node ignores broadcasts and requests carrying its own uid (six
//! characters, drawn per namespace). Request types, as the reference numbers them:
//! 0 socket ids in rooms, 1 all rooms, 2 join, 3 leave, 4 disconnect, 5 fetch, 6 server-side
//! emit, 7 broadcast with acknowledgements; responses 8 (client count) and 9 (one answer).
//! How many nodes serve a namespace is `PUBSUB NUMSUB` of its request channel.
//!
//! A broadcast's flags go as the reference writes them, only those set: `volatile`, `compress`
//! (written when on; off cannot be told from unset, which a Node.js node reads as on) and
//! `timeout` (milliseconds). A `local` broadcast, fetch, join or disconnect never leaves the node.
//! [`RedisCluster::broadcast`] publishes for a namespace that has no adapter on this node.
//!
//! # Connections
//!
//! One [`RedisCluster`] holds two connections for all its namespaces: a publisher (a
//! [`redis::aio::ConnectionManager`], fed from one queue so publishes keep their order) and a
//! subscriber. When Redis goes away, both reconnect by themselves, after
//! [`RedisAdapterConfig::reconnect_delay`], and subscribe again; meanwhile publishes are dropped,
//! counted ([`RedisCluster::dropped_publishes`]) and the loss is logged once. The server itself
//! goes on serving its own sockets. Publishes wait in a queue of
//! [`RedisAdapterConfig::publish_queue`] messages; past that they are dropped, counted and
//! logged.
//!
//! # Requests and their limits
//!
//! `fetch_sockets`, `server_side_emit` with acknowledgements and the count of a broadcast with
//! acknowledgements wait for `PUBSUB NUMSUB - 1` answers, at most
//! [`RedisAdapterConfig::request_timeout`] (5 s by default; a broadcast's own timeout when it has
//! one); what has come by then is the result, and a warning is logged. When Redis cannot answer
//! `PUBSUB NUMSUB`, this node counts itself alone.
//!
//! # Server-side emits
//!
//! An event one node's server emits to the others
//! ([`Namespace::server_side_emit`](socketio_server::Namespace::server_side_emit)) reaches the
//! [`Namespace::on_server_side_emit`](socketio_server::Namespace::on_server_side_emit) handlers
//! of every other node, Rust or Node.js; with acknowledgements, each node's first answer comes
//! back (the reference passes one value per node).
//!
//! # Left out
//!
//! - Redis Cluster (`PUBSUB NUMSUB` on every shard) and the sharded adapter (`SSUBSCRIBE`).
//! - The reference's request types 0 (socket ids in rooms) and 1 (every room) are answered for
//!   other nodes, but this node never asks them: the server has no operation that needs them.
//! - Connection state recovery stays per node: a client recovers its session on the node it was
//!   connected to.
//! - No size limit on messages from Redis: the nodes of a cluster trust each other, as the
//!   reference's do.
#![warn(missing_docs)]

mod adapter;
mod channels;
mod handshake;
mod incoming;
mod link;
mod message;

use std::{sync::Arc, time::Duration};

pub use adapter::RedisAdapter;
use socketio_codec::Packet;
use socketio_server::{BroadcastOptions, adapter::AdapterFactory};

/// Settings of the Redis adapter.
#[derive(Debug, Clone)]
pub struct RedisAdapterConfig {
    /// The Redis URL, such as `redis://127.0.0.1:6379`.
    pub url: String,
    /// The prefix of every channel; nodes of one cluster must share it. `socket.io` by default,
    /// as the reference's `key` option.
    pub key: String,
    /// How long a request waits for the other nodes' answers (the reference's
    /// `requestsTimeout`). 5 s by default.
    pub request_timeout: Duration,
    /// Answer requests on the requesting node's own response channel rather than the shared
    /// one (the reference's `publishOnSpecificResponseChannel`). Off by default, as there.
    pub publish_on_specific_response_channel: bool,
    /// How long the subscriber waits before connecting again after losing Redis, and the longest
    /// the publisher waits between its attempts. 1 s by default.
    pub reconnect_delay: Duration,
    /// Messages waiting to be published; past this (Redis slow or gone) new ones are dropped
    /// with a warning. 65,536 by default.
    pub publish_queue: usize,
}

impl RedisAdapterConfig {
    /// The defaults, with this Redis URL.
    pub fn new(url: impl Into<String>) -> Self {
        RedisAdapterConfig {
            url: url.into(),
            key: "socket.io".to_owned(),
            request_timeout: Duration::from_secs(5),
            publish_on_specific_response_channel: false,
            reconnect_delay: Duration::from_secs(1),
            publish_queue: 65_536,
        }
    }
}

/// Why the adapter could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not a Redis URL, or Redis could not be reached at start.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// The Redis connections of one server, and the factory of its namespaces' adapters.
#[derive(Debug, Clone)]
pub struct RedisCluster {
    link: Arc<link::Link>,
    config: Arc<RedisAdapterConfig>,
    /// The uid of broadcasts published by [`RedisCluster::broadcast`], which no adapter has.
    uid: Arc<str>,
}

impl RedisCluster {
    /// Connects to Redis (an error when it cannot be reached now) and starts the publisher and
    /// subscriber tasks. Must run inside a tokio runtime.
    pub async fn connect(config: RedisAdapterConfig) -> Result<RedisCluster, Error> {
        let client = redis::Client::open(config.url.as_str())?;
        let link = link::Link::open(client, config.publish_queue, config.reconnect_delay).await?;
        Ok(RedisCluster {
            link: Arc::new(link),
            config: Arc::new(config),
            uid: channels::random_id().into(),
        })
    }

    /// Publishes a broadcast of `packet` (an event, to `packet.nsp`) for the other nodes only,
    /// as a namespace's adapter would: for a namespace that has no sockets, hence no adapter, on
    /// this node. Every node where the namespace exists delivers it, this one included.
    pub fn broadcast(&self, packet: &Packet, opts: &BroadcastOptions) {
        let channels = channels::Channels::new(&self.config.key, &packet.nsp, &self.uid);
        let payload = message::encode_broadcast(&self.uid, packet, opts);
        self.link.publish(channels.broadcast_to(opts), payload);
    }

    /// Messages for other nodes dropped so far, all namespaces together: the publish queue was
    /// full ([`RedisAdapterConfig::publish_queue`]), or Redis failed to take them (it was away).
    /// Each drop is also logged, the first of a run at warn.
    pub fn dropped_publishes(&self) -> u64 {
        self.link.dropped()
    }

    /// The factory to give [`Server::with_adapter`](socketio_server::Server::with_adapter): a
    /// [`RedisAdapter`] per namespace, all on this cluster's connections.
    pub fn factory(&self) -> AdapterFactory {
        let cluster = self.clone();
        Arc::new(move |nsp, recovery| {
            Arc::new(RedisAdapter::new(
                nsp,
                recovery,
                cluster.link.clone(),
                cluster.config.clone(),
            ))
        })
    }
}
