//! The engine: the session table and the routing of each HTTP request to a
//! handshake, a poll, a POST or a WebSocket, after the reference's checks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use rand::RngCore;

use crate::config::{EngineConfig, ProtocolVersion, TransportKind};
use crate::connection::Connection;
use crate::error::RequestError;
use crate::handshake::{Handshake, Headers, query_value};
use crate::http_util::{EngineBody, apply_cors, preflight};
use crate::polling::{LongPoll, Served};
use crate::reason::CloseReason;
use crate::session::{Session, SessionConfig};
use crate::shell::{PollingFlags, SessionHandle};
use crate::websocket::UpgradeIo;
use crate::{polling, websocket};

type OnConnection = Box<dyn Fn(Connection) + Send + Sync>;

/// State shared by every clone of an [`Engine`].
pub(crate) struct EngineInner {
    pub(crate) config: EngineConfig,
    table: Mutex<HashMap<Arc<str>, Arc<SessionHandle>>>,
    on_connection: OnConnection,
    pub(crate) buffer_overflows: AtomicU64,
}

impl std::fmt::Debug for EngineInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineInner")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EngineInner {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Arc<SessionHandle>>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn remove(&self, sid: &str) {
        self.table().remove(sid);
    }

    fn get(&self, sid: &str) -> Option<Arc<SessionHandle>> {
        self.table().get(sid).cloned()
    }
}

/// An Engine.IO server: serves handshakes, polling and WebSocket transports
/// under [`EngineConfig::path`] and hands each new session to a callback.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

/// The parsed query parameters the engine looks at.
struct Query {
    eio: Option<String>,
    transport: Option<String>,
    sid: Option<String>,
    jsonp: Option<String>,
    b64: bool,
}

impl Query {
    fn parse(uri: &http::Uri) -> Query {
        let q = uri.query().unwrap_or("");
        Query {
            eio: query_value(q, "EIO"),
            transport: query_value(q, "transport"),
            sid: query_value(q, "sid").filter(|s| !s.is_empty()),
            jsonp: query_value(q, "j"),
            b64: query_value(q, "b64").is_some_and(|v| !v.is_empty()),
        }
    }

    /// "EIO=4" is v4; anything else is taken as v3, as the reference does.
    fn protocol(&self) -> ProtocolVersion {
        if self.eio.as_deref() == Some("4") {
            ProtocolVersion::V4
        } else {
            ProtocolVersion::V3
        }
    }
}

impl Engine {
    /// A new engine; `on_connection` runs once per new session.
    pub fn new(
        config: EngineConfig,
        on_connection: impl Fn(Connection) + Send + Sync + 'static,
    ) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                config,
                table: Mutex::new(HashMap::new()),
                on_connection: Box::new(on_connection),
                buffer_overflows: AtomicU64::new(0),
            }),
        }
    }

    /// The options.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Whether this engine serves `path` (it starts with [`EngineConfig::path`]).
    pub fn handles(&self, path: &str) -> bool {
        path.starts_with(&self.inner.config.path)
    }

    /// Live sessions.
    pub fn session_count(&self) -> usize {
        self.inner.table().len()
    }

    /// Sessions closed because their outgoing queue passed `max_buffered_bytes`.
    pub fn buffer_overflow_count(&self) -> u64 {
        self.inner.buffer_overflows.load(Ordering::Relaxed)
    }

    /// Closes every session at once with `reason` (e.g. on shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        let sessions: Vec<_> = self.inner.table().values().cloned().collect();
        for s in sessions {
            s.with(|inner| inner.machine.close_now(reason));
        }
    }

    /// Serves one HTTP request under the engine's path: handshake, poll, POST,
    /// preflight or WebSocket upgrade. For an application that runs its own
    /// hyper server; [`Engine::serve`] needs none.
    pub async fn handle(
        &self,
        mut req: Request<Incoming>,
        remote: SocketAddr,
    ) -> Response<EngineBody> {
        let upgrade = websocket::is_upgrade_request(req.headers())
            .then(|| UpgradeIo::Hyper(hyper::upgrade::on(&mut req)));
        self.dispatch(req.map(ReqBody::Hyper), remote, upgrade)
            .await
    }

    /// Serves one request, whichever HTTP server read it; `upgrade` is how the
    /// connection reaches a WebSocket task if the request asks for one.
    pub(crate) async fn dispatch(
        &self,
        req: Request<ReqBody>,
        remote: SocketAddr,
        upgrade: Option<UpgradeIo>,
    ) -> Response<EngineBody> {
        match self.start(req, remote, upgrade).await {
            Dispatched::Ready(res) => res,
            Dispatched::Waiting(poll) => poll.response().await,
        }
    }

    /// Serves one request up to its answer, or up to the wait of a long-poll.
    /// The HTTP server holds the small [`PendingPoll`] instead of this whole
    /// future for as long as the poll waits.
    pub(crate) async fn start(
        &self,
        req: Request<ReqBody>,
        remote: SocketAddr,
        upgrade: Option<UpgradeIo>,
    ) -> Dispatched {
        let cfg = &self.inner.config;
        let is_upgrade = upgrade.is_some();
        let query = Query::parse(req.uri());
        // Only the origin is kept for the answer's CORS headers.
        let origin = req.headers().get(header::ORIGIN).cloned();

        let res = if req.method() == Method::OPTIONS && cfg.cors.is_some() {
            // The reference's CORS layer answers preflights before the engine sees them.
            cfg.cors
                .as_ref()
                .map(|c| preflight(c, req.headers()))
                .unwrap_or_else(|| crate::http_util::empty(StatusCode::NO_CONTENT))
        } else {
            match self.route(req, remote, &query, upgrade).await {
                Ok(Served::Ready(res)) => res,
                Ok(Served::Waiting(poll)) => {
                    return Dispatched::Waiting(PendingPoll { poll, origin });
                }
                Err(e) => {
                    tracing::debug!(code = e.code(), "request refused");
                    if is_upgrade {
                        e.to_upgrade_refusal()
                    } else {
                        e.to_http()
                    }
                }
            }
        };
        Dispatched::Ready(with_cors(&self.inner, res, origin.as_ref()))
    }

    /// Checks a request as the reference's `verify` does, then dispatches it.
    async fn route(
        &self,
        req: Request<ReqBody>,
        remote: SocketAddr,
        query: &Query,
        on_upgrade: Option<UpgradeIo>,
    ) -> Result<Served, RequestError> {
        let cfg = &self.inner.config;
        let transport = query
            .transport
            .as_deref()
            .and_then(TransportKind::from_query)
            .filter(|t| cfg.transports.contains(t))
            .ok_or(RequestError::UnknownTransport)?;

        if let Some(sid) = &query.sid {
            let session = self.inner.get(sid).ok_or(RequestError::UnknownSid)?;
            let current = session.lock().machine.transport();
            if on_upgrade.is_none() && current != transport {
                return Err(RequestError::BadRequest);
            }
            if session.protocol != query.protocol() {
                return Err(RequestError::BadRequest);
            }
            return match (on_upgrade, transport) {
                (Some(up), TransportKind::Websocket) => {
                    websocket::upgrade_existing(&self.inner, session, &req, up).map(Served::Ready)
                }
                (Some(_), TransportKind::Polling) | (None, TransportKind::Websocket) => {
                    Err(RequestError::BadRequest)
                }
                (None, TransportKind::Polling) => {
                    Ok(polling::serve(&self.inner, session, req).await)
                }
            };
        }

        // "handshake is GET only"
        if req.method() != Method::GET {
            return Err(RequestError::BadHandshakeMethod);
        }
        if transport == TransportKind::Websocket && on_upgrade.is_none() {
            return Err(RequestError::BadRequest);
        }
        if let Some(check) = &cfg.allow_request {
            let (parts, body) = req.into_parts();
            check(&parts, remote).map_err(RequestError::Forbidden)?;
            return self
                .handshake(
                    Request::from_parts(parts, body),
                    remote,
                    query,
                    transport,
                    on_upgrade,
                )
                .await
                .map(Served::Ready);
        }
        self.handshake(req, remote, query, transport, on_upgrade)
            .await
            .map(Served::Ready)
    }

    async fn handshake(
        &self,
        req: Request<ReqBody>,
        remote: SocketAddr,
        query: &Query,
        transport: TransportKind,
        on_upgrade: Option<UpgradeIo>,
    ) -> Result<Response<EngineBody>, RequestError> {
        let cfg = &self.inner.config;
        let protocol = query.protocol();
        if protocol == ProtocolVersion::V3 && !cfg.allow_eio3 {
            return Err(RequestError::UnsupportedProtocolVersion);
        }
        if on_upgrade.is_some() && transport == TransportKind::Websocket {
            websocket::check_handshake_headers(req.headers())?;
        }
        let sid: Arc<str> = Arc::from(generate_sid());
        let upgrades = if cfg.allow_upgrades
            && transport == TransportKind::Polling
            && cfg.transports.contains(&TransportKind::Websocket)
        {
            r#"["websocket"]"#
        } else {
            "[]"
        };
        let open = format!(
            r#"{{"sid":"{sid}","upgrades":{upgrades},"pingInterval":{},"pingTimeout":{},"maxPayload":{}}}"#,
            cfg.ping_interval.as_millis(),
            cfg.ping_timeout.as_millis(),
            cfg.max_payload
        );
        let machine = Session::new(
            protocol,
            transport,
            SessionConfig {
                ping_interval: cfg.ping_interval,
                ping_timeout: cfg.ping_timeout,
                upgrade_timeout: cfg.upgrade_timeout,
                max_buffered_bytes: cfg.max_buffered_bytes,
                close_timeout: cfg.close_timeout,
            },
            Bytes::from(open),
            cfg.initial_packet.clone(),
            Instant::now(),
        );
        let flags = PollingFlags {
            jsonp: query.jsonp.clone(),
            b64: query.b64,
        };
        let handle = SessionHandle::new(
            sid.clone(),
            machine,
            flags,
            cfg.incoming_queue,
            Arc::downgrade(&self.inner),
        );
        self.inner.table().insert(sid.clone(), handle.clone());
        tokio::spawn(handle.clone().run_timer());
        tracing::debug!(sid = %sid, transport = transport.as_str(), ?protocol, "session opened");

        let secure = req.uri().scheme_str() == Some("https")
            || req.extensions().get::<Encrypted>().is_some()
            || req
                .headers()
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
        let handshake = Arc::new(Handshake {
            protocol,
            transport,
            headers: Headers::from_map(req.headers()),
            uri: owned_uri(req.uri()),
            remote_addr: remote,
            issued: SystemTime::now(),
            secure,
        });
        let connection = Connection::new(handle.clone(), handshake);

        let res = match (transport, on_upgrade) {
            (TransportKind::Websocket, Some(up)) => {
                websocket::open_new(&self.inner, handle, &req, up)?
            }
            _ => {
                let mut res = polling::first_poll(&self.inner, &handle, req.headers());
                if let Some(cookie) = &cfg.cookie
                    && let Ok(v) = http::HeaderValue::from_str(&cookie.header_value(&sid))
                {
                    res.headers_mut().insert(header::SET_COOKIE, v);
                }
                res
            }
        };
        // Called after the open packet left, as in the reference.
        (self.inner.on_connection)(connection);
        Ok(res)
    }

    /// Serves the engine alone on `listener` with the engine's own HTTP/1.1
    /// server (limits in [`EngineConfig::http`]); other paths get 404. Several
    /// engines on one listener: [`crate::HttpServer`].
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        crate::HttpServer::new(self.inner.config.http.clone())
            .engine(self)
            .serve(listener)
            .await
    }
}

/// A request served up to its answer, or up to the wait of a long-poll.
pub(crate) enum Dispatched {
    Ready(Response<EngineBody>),
    Waiting(PendingPoll),
}

/// A long-poll waiting for its answer, with the origin its CORS headers need.
pub(crate) struct PendingPoll {
    poll: LongPoll,
    origin: Option<http::HeaderValue>,
}

impl PendingPoll {
    /// The answer, once the session has packets for it (or closes).
    pub(crate) async fn response(self) -> Response<EngineBody> {
        let engine = self.poll.engine.clone();
        let res = self.poll.response().await;
        with_cors(&engine, res, self.origin.as_ref())
    }
}

/// Adds the CORS headers to an answer (not to a WebSocket's 101).
fn with_cors(
    engine: &EngineInner,
    mut res: Response<EngineBody>,
    origin: Option<&http::HeaderValue>,
) -> Response<EngineBody> {
    if let Some(cors) = &engine.config.cors
        && res.status() != StatusCode::SWITCHING_PROTOCOLS
    {
        apply_cors(cors, origin, res.headers_mut());
    }
    res
}

/// A request body, as the HTTP server that read the request has it.
#[derive(Debug)]
pub(crate) enum ReqBody {
    /// Still to be read, from hyper.
    Hyper(Incoming),
    /// Read whole by the engine's own server, or left unread if it was
    /// larger than `max_payload`.
    Buffered(crate::BufferedBody),
}

/// Marks a request that came over TLS: put it in the request's extensions (as
/// [`HttpServer::serve_wrapped`](crate::HttpServer::serve_wrapped) does for
/// encrypted streams, or an application that terminates TLS before
/// [`Engine::handle`]) and the session's [`Handshake::secure`] says so, as the
/// reference's `handshake.secure` does for an encrypted socket.
#[derive(Debug, Clone, Copy, Default)]
pub struct Encrypted;

/// The next connection on `listener`, ready to serve: `TCP_NODELAY` set, as
/// Node's HTTP server does, so that small frames go out at once. An accept
/// error (out of file descriptors, a connection reset before it was taken)
/// leaves the listener usable: it is logged, and after a short pause the next
/// connection is awaited instead of ending the server.
pub async fn accept(listener: &tokio::net::TcpListener) -> (tokio::net::TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                let _ = stream.set_nodelay(true);
                return (stream, remote);
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// A copy of the request URI that shares no buffer with the request's (which
/// would keep the whole read buffer alive for the session's life).
fn owned_uri(uri: &http::Uri) -> http::Uri {
    uri.to_string().parse().unwrap_or_else(|_| uri.clone())
}

/// A session id like the reference's: 15 random bytes, URL-safe base64 (20 chars).
fn generate_sid() -> String {
    let mut bytes = [0u8; 15];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
