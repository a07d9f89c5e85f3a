//! The two Redis connections one server holds, whatever its number of namespaces: a publisher
//! and a subscriber. Both come back by themselves after Redis goes away; meanwhile publishes
//! are dropped (logged once per outage) and nothing arrives.
//!
//! This module owns the connections and the table of subscriptions; what a message means is the
//! adapter's business (`adapter.rs`).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::adapter::Node;

/// What the subscriber listens to for one namespace's adapter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    /// A pattern (`PSUBSCRIBE`): broadcasts, to every room.
    Pattern(String),
    /// A channel (`SUBSCRIBE`): requests and responses.
    Channel(String),
}

/// Which adapters get the messages of each topic. Usually one; two while a namespace that was
/// dropped (an emptied dynamic child) and its successor of the same name both exist.
#[derive(Default)]
struct Registry {
    topics: HashMap<Topic, Vec<Weak<Node>>>,
}

/// The shared connections. Held by every adapter of the server.
pub(crate) struct Link {
    publish: mpsc::Sender<(String, Bytes)>,
    /// Messages for other nodes that were dropped: the queue was full, or Redis refused them.
    dropped: Arc<AtomicU64>,
    subscribe: mpsc::UnboundedSender<()>,
    registry: Arc<Mutex<Registry>>,
    commands: ConnectionManager,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").finish_non_exhaustive()
    }
}

impl Link {
    /// Opens the publisher (an error when Redis cannot be reached now) and starts the tasks that
    /// publish and subscribe.
    pub(crate) async fn open(
        client: redis::Client,
        publish_queue: usize,
        reconnect_delay: Duration,
    ) -> redis::RedisResult<Link> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_max_delay(reconnect_delay.as_millis().max(1) as u64);
        let commands = ConnectionManager::new_with_config(client.clone(), config).await?;
        let (publish, queue) = mpsc::channel(publish_queue.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        tokio::spawn(publish_loop(commands.clone(), queue, dropped.clone()));
        let (subscribe, wakes) = mpsc::unbounded_channel();
        let registry = Arc::new(Mutex::new(Registry::default()));
        tokio::spawn(subscribe_loop(
            client,
            registry.clone(),
            wakes,
            reconnect_delay,
        ));
        Ok(Link {
            publish,
            dropped,
            subscribe,
            registry,
            commands,
        })
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Routes these topics to `node` too and subscribes to them.
    pub(crate) fn register(&self, topics: Vec<Topic>, node: &Weak<Node>) {
        let mut registry = self.registry();
        for topic in topics {
            registry.topics.entry(topic).or_default().push(node.clone());
        }
        drop(registry);
        let _ = self.subscribe.send(());
    }

    /// Stops routing these topics to `node` (gone, or going); the subscriber unsubscribes from
    /// the topics no adapter wants any more.
    pub(crate) fn unregister(&self, topics: &[Topic], node: &Weak<Node>) {
        let mut registry = self.registry();
        for topic in topics {
            if let Some(nodes) = registry.topics.get_mut(topic) {
                nodes.retain(|n| !n.ptr_eq(node) && n.strong_count() > 0);
                if nodes.is_empty() {
                    registry.topics.remove(topic);
                }
            }
        }
        drop(registry);
        let _ = self.subscribe.send(());
    }

    /// Queues a publish. Order is kept; when the queue is full (Redis slow or gone) the message
    /// is dropped and counted, with a warning at the first drop and at each power of two.
    pub(crate) fn publish(&self, channel: String, payload: Bytes) {
        if let Err(mpsc::error::TrySendError::Full((channel, _))) =
            self.publish.try_send((channel, payload))
        {
            let total = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if total.is_power_of_two() {
                warn!(%channel, dropped = total, "redis publish queue full; message dropped");
            }
        }
    }

    /// Messages for other nodes dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// `PUBSUB NUMSUB channel`: how many connections listen on it.
    pub(crate) async fn numsub(&self, channel: &str) -> redis::RedisResult<usize> {
        let mut conn = self.commands.clone();
        let (_, count): (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }
}

/// Publishes queued messages in order, several per round trip when they pile up. A batch Redis
/// does not take is counted in `dropped`.
async fn publish_loop(
    mut conn: ConnectionManager,
    mut queue: mpsc::Receiver<(String, Bytes)>,
    dropped: Arc<AtomicU64>,
) {
    const BATCH: usize = 64;
    let mut failing = false;
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let count = batch.len() as u64;
        let mut pipe = redis::pipe();
        for (channel, payload) in batch.drain(..) {
            pipe.cmd("PUBLISH")
                .arg(channel)
                .arg(payload.as_ref())
                .ignore();
        }
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) if failing => {
                warn!("redis publisher connected again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) if !failing => {
                dropped.fetch_add(count, Ordering::Relaxed);
                warn!(error = %e, "redis publish failed; messages are dropped until Redis is back");
                failing = true;
            }
            Err(e) => {
                dropped.fetch_add(count, Ordering::Relaxed);
                debug!(error = %e, "redis publish failed");
            }
        }
    }
}

/// Keeps one subscriber connection with every registered topic, reconnecting after a loss, and
/// hands each message to its adapter. Ends when the link is dropped.
async fn subscribe_loop(
    client: redis::Client,
    registry: Arc<Mutex<Registry>>,
    mut wakes: mpsc::UnboundedReceiver<()>,
    reconnect_delay: Duration,
) {
    // `reconnecting`: a connection was lost; `quiet`: the failure to connect again was logged.
    let (mut reconnecting, mut quiet) = (false, false);
    loop {
        match client.get_async_pubsub().await {
            Ok(pubsub) => {
                if reconnecting {
                    warn!("redis subscriber connected again");
                }
                (reconnecting, quiet) = (true, false);
                let (mut sink, mut stream) = pubsub.split();
                let mut subscribed: Vec<Topic> = Vec::new();
                loop {
                    // Bring the subscriptions in line with the registry (after a connect, and
                    // each time an adapter came or went).
                    if let Err(e) = sync(&registry, &mut sink, &mut subscribed).await {
                        warn!(error = %e, "redis subscribe failed; reconnecting");
                        break;
                    }
                    tokio::select! {
                        msg = stream.next() => match msg {
                            Some(msg) => dispatch(&registry, &msg),
                            None => {
                                warn!("redis subscriber connection lost; reconnecting");
                                break;
                            }
                        },
                        wake = wakes.recv() => {
                            if wake.is_none() {
                                return;
                            }
                            while wakes.try_recv().is_ok() {}
                        }
                    }
                }
            }
            Err(e) if !quiet => {
                warn!(error = %e, "redis subscriber cannot connect; retrying");
                quiet = true;
            }
            Err(e) => debug!(error = %e, "redis subscriber cannot connect"),
        }
        tokio::select! {
            () = tokio::time::sleep(reconnect_delay) => {}
            wake = wakes.recv() => if wake.is_none() { return },
        }
    }
}

/// Subscribes to the registered topics not yet subscribed, and unsubscribes from the others.
async fn sync(
    registry: &Mutex<Registry>,
    sink: &mut redis::aio::PubSubSink,
    subscribed: &mut Vec<Topic>,
) -> redis::RedisResult<()> {
    let mut wanted: Vec<Topic> = registry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .topics
        .keys()
        .cloned()
        .collect();
    // Broadcast patterns before request channels: another node counts this one by its request
    // channel (`PUBSUB NUMSUB`), and once counted it must already hear broadcasts. The commands
    // go in order on one connection, each awaited.
    wanted.sort_by_key(|t| matches!(t, Topic::Channel(_)));
    for topic in wanted.iter().filter(|t| !subscribed.contains(t)) {
        match topic {
            Topic::Pattern(p) => sink.psubscribe(p).await?,
            Topic::Channel(c) => sink.subscribe(c).await?,
        }
    }
    for topic in subscribed.iter().filter(|t| !wanted.contains(t)) {
        match topic {
            Topic::Pattern(p) => sink.punsubscribe(p).await?,
            Topic::Channel(c) => sink.unsubscribe(c).await?,
        }
    }
    *subscribed = wanted;
    Ok(())
}

/// Hands a message to the adapter of its topic.
fn dispatch(registry: &Mutex<Registry>, msg: &redis::Msg) {
    let channel = msg.get_channel_name();
    let topic = if msg.from_pattern() {
        match msg.get_pattern::<String>() {
            Ok(p) => Topic::Pattern(p),
            Err(_) => return,
        }
    } else {
        Topic::Channel(channel.to_owned())
    };
    let nodes: Vec<Arc<Node>> = registry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .topics
        .get(&topic)
        .map(|nodes| nodes.iter().filter_map(Weak::upgrade).collect())
        .unwrap_or_default();
    let payload = Bytes::copy_from_slice(msg.get_payload_bytes());
    for node in nodes {
        match topic {
            Topic::Pattern(_) => node.on_broadcast(channel, payload.clone()),
            Topic::Channel(_) => node.on_request_or_response(channel, payload.clone()),
        }
    }
}
