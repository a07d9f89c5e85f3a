//! The server: the Engine.IO engine it sits on, its namespaces (static and dynamic), and the
//! server-wide operations.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, RwLock},
};

use engineio::{CloseReason, Engine, EngineBody};
use socketio_codec::Value;

use crate::{
    adapter::{self, AdapterFactory, Room, SocketInfo},
    broadcast::BroadcastOperator,
    client,
    config::ServerConfig,
    error::EmitError,
    namespace::{Namespace, NamespaceHandlers, ParentNamespace},
    reason::DisconnectReason,
};

/// A Socket.IO server. Cheap to clone; every clone is the same server.
#[derive(Clone)]
pub struct Server(Arc<ServerInner>);

pub(crate) struct ServerInner {
    pub(crate) config: ServerConfig,
    pub(crate) adapter_factory: AdapterFactory,
    engine: Engine,
    namespaces: RwLock<HashMap<Arc<str>, Namespace>>,
    parents: RwLock<Vec<ParentNamespace>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server with the in-memory adapter.
    pub fn new(config: ServerConfig) -> Server {
        Self::with_adapter(config, adapter::in_memory())
    }

    /// A server whose namespaces get their adapters from `factory`.
    pub fn with_adapter(config: ServerConfig, factory: AdapterFactory) -> Server {
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<ServerInner>| {
            let weak = weak.clone();
            let engine = Engine::new(config.engine.clone(), move |conn| {
                match weak.upgrade() {
                    Some(server) => drop(tokio::spawn(client::run(server, conn))),
                    // The server is gone: nobody would read this session.
                    None => conn
                        .into_parts()
                        .0
                        .close_now(CloseReason::ServerShuttingDown),
                }
            });
            ServerInner {
                config,
                adapter_factory: factory,
                engine,
                namespaces: RwLock::new(HashMap::new()),
                parents: RwLock::new(Vec::new()),
            }
        });
        let server = Server(inner);
        server.of("/");
        server
    }

    /// The server's options.
    pub fn config(&self) -> &ServerConfig {
        &self.0.config
    }

    /// The Engine.IO engine, to route requests to it from an application's own hyper service.
    /// The engine holds the server weakly: keep a [`Server`] clone alive for as long as the
    /// engine serves, or new connections are closed at once.
    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    /// Whether an HTTP request path belongs to this server (`/socket.io/` by default).
    pub fn handles(&self, path: &str) -> bool {
        self.0.engine.handles(path)
    }

    /// Answers one HTTP request for this server's path.
    pub async fn handle(
        &self,
        req: http::Request<hyper::body::Incoming>,
        remote: SocketAddr,
    ) -> http::Response<EngineBody> {
        self.0.engine.handle(req, remote).await
    }

    /// Serves this server alone on `listener` (other paths get 404).
    pub async fn serve(&self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.0.engine.clone().serve(listener).await
    }

    /// The namespace `name`, created if it does not exist yet.
    pub fn of(&self, name: &str) -> Namespace {
        let name = normalize(name);
        if let Some(nsp) = self
            .0
            .namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name.as_str())
        {
            return nsp.clone();
        }
        let mut map = self.0.namespaces.write().unwrap_or_else(|e| e.into_inner());
        map.entry(name.as_str().into())
            .or_insert_with(|| {
                Namespace::create(
                    &self.0,
                    &name,
                    Arc::new(NamespaceHandlers::default()),
                    false,
                )
            })
            .clone()
    }

    /// The namespace `name` if it exists (static, or a child of a dynamic namespace that a client
    /// already created), without creating it. Emit through this from outside a socket when the
    /// name may belong to a dynamic namespace: [`of`](Self::of) would create a static namespace
    /// with no handlers and no middlewares, which then shadows the dynamic one for that name.
    pub fn namespace(&self, name: &str) -> Option<Namespace> {
        self.0
            .namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(normalize(name).as_str())
            .cloned()
    }

    /// A dynamic namespace: any name `matcher` accepts (given the name and the client's auth) becomes
    /// a child namespace when a client first connects to it.
    pub fn of_dynamic(
        &self,
        matcher: impl Fn(&str, &Value) -> bool + Send + Sync + 'static,
    ) -> ParentNamespace {
        let parent = ParentNamespace {
            matcher: Arc::new(matcher),
            handlers: Arc::new(NamespaceHandlers::default()),
            children: Arc::default(),
        };
        self.0
            .parents
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(parent.clone());
        parent
    }

    /// The main namespace `/`.
    pub fn main_namespace(&self) -> Namespace {
        self.of("/")
    }

    /// Runs `f` for every socket connecting to `/`.
    pub fn on_connection(&self, f: impl Fn(crate::Socket) + Send + Sync + 'static) -> Namespace {
        let nsp = self.of("/");
        nsp.on_connection(f);
        nsp
    }

    /// Emits to every socket of `/`.
    pub fn emit(&self, event: &str, args: Vec<Value>) -> Result<(), EmitError> {
        self.of("/").emit(event, args)
    }

    /// A broadcast to the sockets of `/` in `room`.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.of("/").to(room)
    }

    /// A broadcast to the sockets of `/` not in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.of("/").except(room)
    }

    /// The sockets of `/`, on every node.
    pub async fn fetch_sockets(&self) -> Vec<SocketInfo> {
        self.of("/").fetch_sockets().await
    }

    /// Makes every socket of `/` join `rooms`.
    pub fn sockets_join(&self, rooms: &[Room]) {
        self.of("/").broadcast().sockets_join(rooms);
    }

    /// Makes every socket of `/` leave `rooms`.
    pub fn sockets_leave(&self, rooms: &[Room]) {
        self.of("/").broadcast().sockets_leave(rooms);
    }

    /// Disconnects every socket of `/`.
    pub fn disconnect_sockets(&self, close: bool) {
        self.of("/").broadcast().disconnect_sockets(close);
    }

    /// Emits an event to the other nodes' servers; see [`crate::Adapter::server_side_emit`].
    pub async fn server_side_emit(&self, args: Vec<Value>, ack: bool) -> Vec<Vec<Value>> {
        self.of("/").server_side_emit(args, ack).await
    }

    /// How many Engine.IO connections this node holds.
    pub fn client_count(&self) -> usize {
        self.0.engine.session_count()
    }

    /// The namespaces that exist now (static and dynamic children).
    pub fn namespaces(&self) -> Vec<Namespace> {
        self.0
            .namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Stops serving: every socket leaves with `server shutting down` and every transport is closed at
    /// once, without DISCONNECT packets, so that clients reconnect (to another node, if any).
    pub fn close(&self) {
        for nsp in self.namespaces() {
            for socket in nsp.sockets() {
                socket.on_close(DisconnectReason::ServerShuttingDown);
            }
        }
        self.0.engine.close_all(CloseReason::ServerShuttingDown);
    }
}

impl ServerInner {
    /// The namespace a CONNECT for `name` reaches: a static one, or a new child of the first parent
    /// namespace that accepts the name. `None` means `Invalid namespace`.
    pub(crate) fn namespace_for(self: &Arc<Self>, name: &str, auth: &Value) -> Option<Namespace> {
        if let Some(nsp) = self
            .namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Some(nsp.clone());
        }
        let parents = self
            .parents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let parent = parents.into_iter().find(|p| (p.matcher)(name, auth))?;
        let mut map = self.namespaces.write().unwrap_or_else(|e| e.into_inner());
        if let Some(nsp) = map.get(name) {
            return Some(nsp.clone());
        }
        let child = Namespace::create(self, name, parent.handlers.clone(), true);
        map.insert(name.into(), child.clone());
        parent
            .children
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(child.clone());
        Some(child)
    }

    /// A child namespace lost its last socket: remove it when the server is told to.
    pub(crate) fn child_emptied(&self, nsp: &Namespace) {
        if !self.config.cleanup_empty_child_namespaces {
            return;
        }
        self.namespaces
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(nsp.name());
        for parent in self
            .parents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            parent
                .children
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|c| !Arc::ptr_eq(&c.0, &nsp.0));
        }
    }
}

fn normalize(name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(key: &str, value: &str) -> Value {
        Value::Object(vec![(key.to_owned(), Value::from(value))])
    }

    #[test]
    fn namespace_matching() {
        let io = Server::new(ServerConfig::default());
        io.of("/static");
        let parent = io.of_dynamic(|name, auth| {
            name.starts_with("/dyn-") && auth.get("ok").and_then(Value::as_str) == Some("yes")
        });
        let yes = obj("ok", "yes");

        // Static names are found whatever the auth; unknown names are refused.
        assert!(io.0.namespace_for("/static", &Value::Null).is_some());
        assert!(io.0.namespace_for("/", &Value::Null).is_some());
        assert!(io.0.namespace_for("/other", &yes).is_none());

        // The matcher sees the name and the auth; a child is created once and then found.
        assert!(io.0.namespace_for("/dyn-a", &obj("ok", "no")).is_none());
        assert!(io.namespace("/dyn-a").is_none());
        let child =
            io.0.namespace_for("/dyn-a", &yes)
                .map(|n| n.name().to_owned());
        assert_eq!(child.as_deref(), Some("/dyn-a"));
        assert!(io.0.namespace_for("/dyn-a", &Value::Null).is_some());
        assert_eq!(parent.children().len(), 1);
        assert!(io.namespace("dyn-a").is_some());
    }

    #[test]
    fn empty_children_are_removed_only_when_asked() {
        let io = Server::new(ServerConfig {
            cleanup_empty_child_namespaces: true,
            ..ServerConfig::default()
        });
        let parent = io.of_dynamic(|name, _| name.starts_with("/c-"));
        let child = io.0.namespace_for("/c-1", &Value::Null);
        let Some(child) = child else {
            panic!("the matcher accepts /c-1");
        };
        io.0.child_emptied(&child);
        assert!(io.namespace("/c-1").is_none());
        assert!(parent.children().is_empty());

        let io = Server::new(ServerConfig::default());
        io.of_dynamic(|name, _| name.starts_with("/c-"));
        if let Some(child) = io.0.namespace_for("/c-1", &Value::Null) {
            io.0.child_emptied(&child);
        }
        assert!(io.namespace("/c-1").is_some());
    }
}
