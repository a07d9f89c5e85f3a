//! Namespaces: a name, its connect middlewares and connection handlers, its sockets and its adapter.
//!
//! A static namespace is created by [`Server::of`](crate::Server::of). A dynamic one is a child of a
//! [`ParentNamespace`]: created when a client first asks for a matching name, sharing the parent's
//! middlewares and handlers.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, RwLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
};

use socketio_codec::Value;

use crate::{
    adapter::{Adapter, BoxFuture, Room, Sid, SocketInfo},
    broadcast::BroadcastOperator,
    error::{ConnectError, EmitError},
    server::ServerInner,
    server_side::ServerSideAck,
    socket::Socket,
};

type ConnectionHandler = Arc<dyn Fn(Socket) + Send + Sync>;
type ServerSideHandler = Arc<dyn Fn(&Namespace, Vec<Value>, Option<ServerSideAck>) + Send + Sync>;
/// Decides whether a name (given the client's auth) is a child of a parent namespace.
pub(crate) type Matcher = Arc<dyn Fn(&str, &Value) -> bool + Send + Sync>;
type SyncMiddleware = Arc<dyn Fn(&Socket) -> Result<(), ConnectError> + Send + Sync>;
type AsyncMiddleware = Arc<dyn Fn(Socket) -> BoxFuture<Result<(), ConnectError>> + Send + Sync>;

#[derive(Clone)]
enum Middleware {
    Sync(SyncMiddleware),
    Async(AsyncMiddleware),
}

/// What a namespace does with a connecting socket; shared by a parent namespace and its children.
#[derive(Default)]
pub(crate) struct NamespaceHandlers {
    middlewares: RwLock<Vec<Middleware>>,
    on_connection: RwLock<Vec<ConnectionHandler>>,
    on_server_side_emit: RwLock<Vec<ServerSideHandler>>,
}

impl NamespaceHandlers {
    fn add_server_side(&self, f: ServerSideHandler) {
        self.on_server_side_emit
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(f);
    }

    fn add_connection(&self, f: ConnectionHandler) {
        self.on_connection
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(f);
    }

    fn add_middleware(&self, m: Middleware) {
        self.middlewares
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(m);
    }

    /// Runs the middlewares in order; the first refusal ends the chain.
    pub(crate) async fn run_middlewares(&self, socket: &Socket) -> Result<(), ConnectError> {
        let chain = self
            .middlewares
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for middleware in chain {
            match middleware {
                Middleware::Sync(f) => f(socket)?,
                Middleware::Async(f) => f(socket.clone()).await?,
            }
        }
        Ok(())
    }

    pub(crate) fn fire_connection(&self, socket: &Socket) {
        let handlers = self
            .on_connection
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for handler in handlers {
            handler(socket.clone());
        }
    }
}

/// A Socket.IO namespace. Cheap to clone.
#[derive(Clone)]
pub struct Namespace(pub(crate) Arc<NamespaceInner>);

pub(crate) struct NamespaceInner {
    pub(crate) name: Arc<str>,
    pub(crate) server: Weak<ServerInner>,
    pub(crate) sockets: RwLock<HashMap<Sid, Socket>>,
    pub(crate) handlers: Arc<NamespaceHandlers>,
    adapter: Arc<dyn Adapter>,
    /// Ack ids of server emits, shared by every socket of the namespace so that a broadcast with
    /// acknowledgements uses one id for all its recipients.
    pub(crate) ack_ids: AtomicU64,
    /// Set for a child of a dynamic namespace.
    pub(crate) is_child: bool,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.0.name)
            .finish_non_exhaustive()
    }
}

/// A weak handle on a namespace, as an adapter holds it (the namespace owns its adapter).
#[derive(Clone, Debug)]
pub struct NamespaceRef {
    inner: Weak<NamespaceInner>,
    /// Known while the namespace is being built, when `inner` cannot be upgraded yet: an
    /// adapter that names channels after its namespace reads it there.
    name: Arc<str>,
}

impl NamespaceRef {
    /// The namespace, while it exists.
    pub fn upgrade(&self) -> Option<Namespace> {
        self.inner.upgrade().map(Namespace)
    }

    /// The namespace's name, such as `/` or `/admin`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Namespace {
    pub(crate) fn create(
        server: &Arc<ServerInner>,
        name: &str,
        handlers: Arc<NamespaceHandlers>,
        is_child: bool,
    ) -> Namespace {
        // The adapter holds a weak handle on its namespace, which owns it.
        let name: Arc<str> = name.into();
        let inner = Arc::new_cyclic(|weak| NamespaceInner {
            name: name.clone(),
            server: Arc::downgrade(server),
            sockets: RwLock::new(HashMap::new()),
            handlers,
            adapter: (server.adapter_factory)(
                NamespaceRef {
                    inner: weak.clone(),
                    name,
                },
                server.config.recovery.clone(),
            ),
            ack_ids: AtomicU64::new(0),
            is_child,
        });
        Namespace(inner)
    }

    /// The namespace's name, such as `/` or `/admin`.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The namespace's adapter.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.0.adapter
    }

    /// Runs `f` for every socket that connects, after the middlewares let it in.
    pub fn on_connection(&self, f: impl Fn(Socket) + Send + Sync + 'static) -> &Self {
        self.0.handlers.add_connection(Arc::new(f));
        self
    }

    /// Adds a connect middleware; an `Err` refuses the socket with a CONNECT_ERROR.
    pub fn use_middleware(
        &self,
        f: impl Fn(&Socket) -> Result<(), ConnectError> + Send + Sync + 'static,
    ) -> &Self {
        self.0
            .handlers
            .add_middleware(Middleware::Sync(Arc::new(f)));
        self
    }

    /// Adds an asynchronous connect middleware (a database lookup, an HTTP call).
    pub fn use_async_middleware<F, Fut>(&self, f: F) -> &Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.0
            .handlers
            .add_middleware(Middleware::Async(Arc::new(move |s| Box::pin(f(s)))));
        self
    }

    /// The connected socket with this id, on this node.
    pub fn socket(&self, id: &str) -> Option<Socket> {
        self.0
            .sockets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// The connected sockets of this node.
    pub fn sockets(&self) -> Vec<Socket> {
        self.0
            .sockets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// How many sockets of this node are connected to the namespace.
    pub fn socket_count(&self) -> usize {
        self.0
            .sockets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// A broadcast to every socket of the namespace, to narrow with the operator's methods.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.clone())
    }

    /// Targets the sockets in `room`.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Same as [`to`](Self::to).
    pub fn in_room(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.to(room)
    }

    /// Targets every socket except those in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().except(room)
    }

    /// Emits an event to every socket of the namespace.
    pub fn emit(&self, event: &str, args: Vec<Value>) -> Result<(), EmitError> {
        self.broadcast().emit(event, args)
    }

    /// The sockets of the namespace, on every node.
    pub async fn fetch_sockets(&self) -> Vec<SocketInfo> {
        self.broadcast().fetch_sockets().await
    }

    /// Runs `f` for each event another node's server emits to this namespace
    /// ([`server_side_emit`](Self::server_side_emit) there): `args` are the event name first,
    /// then its arguments, as the sender gave them; the ack is there when the sender waits for
    /// answers. Handlers run on the adapter's task: hand long work to a task of your own.
    pub fn on_server_side_emit(
        &self,
        f: impl Fn(&Namespace, Vec<Value>, Option<ServerSideAck>) + Send + Sync + 'static,
    ) -> &Self {
        self.0.handlers.add_server_side(Arc::new(f));
        self
    }

    /// Hands an event from another node's server to this namespace's
    /// [`on_server_side_emit`](Self::on_server_side_emit) handlers; adapters call it. Returns
    /// whether any handler ran (with none, the event is dropped and the ack never answered).
    pub fn handle_server_side_emit(&self, args: Vec<Value>, ack: Option<ServerSideAck>) -> bool {
        let handlers = self
            .0
            .handlers
            .on_server_side_emit
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for handler in &handlers {
            handler(self, args.clone(), ack.clone());
        }
        !handlers.is_empty()
    }

    /// Emits an event to the other nodes' servers; see [`Adapter::server_side_emit`].
    pub async fn server_side_emit(&self, args: Vec<Value>, ack: bool) -> Vec<Vec<Value>> {
        self.adapter().server_side_emit(args, ack).await
    }

    /// How many nodes serve this namespace.
    pub async fn server_count(&self) -> usize {
        self.adapter().server_count().await
    }

    /// A fresh ack id from the counter every server emit of this namespace draws from. An
    /// adapter delivering a broadcast with acknowledgements that another node started takes
    /// its id here, so that it never collides with an answer a local socket still owes.
    pub fn next_ack_id(&self) -> u64 {
        self.0.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn add_socket(&self, socket: Socket) {
        self.0
            .sockets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(socket.id().clone(), socket);
    }

    pub(crate) fn remove_socket(&self, id: &Sid) {
        let now_empty = {
            let mut sockets = self.0.sockets.write().unwrap_or_else(|e| e.into_inner());
            sockets.remove(id);
            sockets.is_empty()
        };
        if now_empty && self.0.is_child {
            if let Some(server) = self.0.server.upgrade() {
                server.child_emptied(self);
            }
        }
    }
}

/// A dynamic namespace: every name its matcher accepts becomes a child namespace on first connect.
#[derive(Clone)]
pub struct ParentNamespace {
    pub(crate) matcher: Matcher,
    pub(crate) handlers: Arc<NamespaceHandlers>,
    pub(crate) children: Arc<RwLock<Vec<Namespace>>>,
}

impl std::fmt::Debug for ParentNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let children = self
            .children
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len();
        f.debug_struct("ParentNamespace")
            .field("children", &children)
            .finish_non_exhaustive()
    }
}

impl ParentNamespace {
    /// Runs `f` for every socket that connects to any child.
    pub fn on_connection(&self, f: impl Fn(Socket) + Send + Sync + 'static) -> &Self {
        self.handlers.add_connection(Arc::new(f));
        self
    }

    /// Runs `f` for each event another node's server emits to any child; see
    /// [`Namespace::on_server_side_emit`].
    pub fn on_server_side_emit(
        &self,
        f: impl Fn(&Namespace, Vec<Value>, Option<ServerSideAck>) + Send + Sync + 'static,
    ) -> &Self {
        self.handlers.add_server_side(Arc::new(f));
        self
    }

    /// Adds a connect middleware to every child, present and future.
    pub fn use_middleware(
        &self,
        f: impl Fn(&Socket) -> Result<(), ConnectError> + Send + Sync + 'static,
    ) -> &Self {
        self.handlers.add_middleware(Middleware::Sync(Arc::new(f)));
        self
    }

    /// Adds an asynchronous connect middleware to every child, present and future.
    pub fn use_async_middleware<F, Fut>(&self, f: F) -> &Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.handlers
            .add_middleware(Middleware::Async(Arc::new(move |s| Box::pin(f(s)))));
        self
    }

    /// The children created so far.
    pub fn children(&self) -> Vec<Namespace> {
        self.children
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Emits an event to every socket of every child.
    pub fn emit(&self, event: &str, args: Vec<Value>) -> Result<(), EmitError> {
        for child in self.children() {
            child.emit(event, args.clone())?;
        }
        Ok(())
    }
}
