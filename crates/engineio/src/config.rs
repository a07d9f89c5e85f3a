//! Engine options, with the reference server's defaults.
//!
//! This module owns the option types only; the checks that use them live in
//! the request handlers ([`crate::engine`]) and the session ([`crate::session`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::packet::Message;

/// A transport a session can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    Websocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter.
    pub fn as_str(&self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::Websocket => "websocket",
        }
    }

    /// Parses a `transport` query value.
    pub fn from_query(s: &str) -> Option<Self> {
        match s {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::Websocket),
            _ => None,
        }
    }
}

/// The Engine.IO protocol revision of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// Engine.IO 3 (`EIO=3`, socket.io 2.x clients).
    V3,
    /// Engine.IO 4 (`EIO=4`).
    V4,
}

/// Which origins CORS lets in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin: `Access-Control-Allow-Origin: *`, or the request's origin
    /// echoed when credentials are allowed (a browser refuses `*` with credentials).
    Any,
    /// Only these origins (exact match); the matching origin is echoed.
    List(Vec<String>),
}

/// Cross-origin settings, answered on every request and on preflights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsConfig {
    /// Allowed origins.
    pub origins: CorsOrigins,
    /// Methods listed in `Access-Control-Allow-Methods` on a preflight.
    pub methods: Vec<String>,
    /// Whether to send `Access-Control-Allow-Credentials: true`.
    pub credentials: bool,
    /// Headers listed in `Access-Control-Allow-Headers`; `None` echoes the
    /// preflight's `Access-Control-Request-Headers`.
    pub allowed_headers: Option<Vec<String>>,
    /// Headers listed in `Access-Control-Expose-Headers`.
    pub exposed_headers: Vec<String>,
    /// `Access-Control-Max-Age` in seconds on a preflight.
    pub max_age: Option<u64>,
}

impl Default for CorsConfig {
    /// Any origin, the `cors` package's default methods, no credentials.
    fn default() -> Self {
        CorsConfig {
            origins: CorsOrigins::Any,
            methods: ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]
                .into_iter()
                .map(String::from)
                .collect(),
            credentials: false,
            allowed_headers: None,
            exposed_headers: Vec::new(),
            max_age: None,
        }
    }
}

/// The `SameSite` attribute of the session cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None`.
    None,
}

/// The session cookie set on the handshake response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieConfig {
    /// Cookie name (`io`).
    pub name: String,
    /// `Path` attribute (`/`); `None` leaves it out.
    pub path: Option<String>,
    /// `HttpOnly` attribute (on).
    pub http_only: bool,
    /// `SameSite` attribute (`Lax`).
    pub same_site: Option<SameSite>,
    /// `Secure` attribute (off).
    pub secure: bool,
    /// `Max-Age` in seconds.
    pub max_age: Option<u64>,
}

impl Default for CookieConfig {
    /// The reference's defaults: `io=<sid>; Path=/; HttpOnly; SameSite=Lax`.
    fn default() -> Self {
        CookieConfig {
            name: "io".to_owned(),
            path: Some("/".to_owned()),
            http_only: true,
            same_site: Some(SameSite::Lax),
            secure: false,
            max_age: None,
        }
    }
}

impl CookieConfig {
    /// The `Set-Cookie` value for a session id.
    pub fn header_value(&self, sid: &str) -> String {
        let mut v = format!("{}={}", self.name, sid);
        if let Some(age) = self.max_age {
            v.push_str(&format!("; Max-Age={age}"));
        }
        if let Some(path) = &self.path {
            v.push_str(&format!("; Path={path}"));
        }
        if self.http_only {
            v.push_str("; HttpOnly");
        }
        if self.secure {
            v.push_str("; Secure");
        }
        match self.same_site {
            Some(SameSite::Strict) => v.push_str("; SameSite=Strict"),
            Some(SameSite::Lax) => v.push_str("; SameSite=Lax"),
            Some(SameSite::None) => v.push_str("; SameSite=None"),
            None => {}
        }
        v
    }
}

/// Access check run on every handshake: `Err(message)` refuses it with HTTP 403
/// `{"code":4,"message":<message>}` (an empty message becomes `Forbidden`).
pub type AllowRequest =
    Arc<dyn Fn(&http::request::Parts, SocketAddr) -> Result<(), String> + Send + Sync>;

/// Engine options. `Default` gives the reference server's defaults.
#[derive(Clone)]
pub struct EngineConfig {
    /// Path prefix served, with a trailing slash (`/engine.io/`).
    pub path: String,
    /// v4: time between server pings; v3: advertised to the client (25 s).
    pub ping_interval: Duration,
    /// v4: time to wait for a pong; v3: added to the interval (20 s).
    pub ping_timeout: Duration,
    /// Time a WebSocket upgrade may take from its opening to the `5` packet (10 s).
    pub upgrade_timeout: Duration,
    /// Largest HTTP body and WebSocket message accepted, in bytes (1e6).
    pub max_payload: usize,
    /// Transports accepted (polling and WebSocket).
    pub transports: Vec<TransportKind>,
    /// Whether polling sessions are offered the WebSocket upgrade (true).
    pub allow_upgrades: bool,
    /// Whether Engine.IO v3 clients are accepted (false).
    pub allow_eio3: bool,
    /// Cross-origin settings; `None` sends no CORS headers (the reference's default).
    pub cors: Option<CorsConfig>,
    /// Session cookie; `None` sets none (the reference's default).
    pub cookie: Option<CookieConfig>,
    /// WebSocket permessage-deflate. Not supported by the WebSocket library in use:
    /// when set, the extension is still not negotiated (clients fall back to
    /// uncompressed frames, which every client accepts).
    pub per_message_deflate: bool,
    /// Compress polling responses with gzip or deflate when the client accepts
    /// it and the body reaches [`EngineConfig::http_compression_threshold`] (true).
    pub http_compression: bool,
    /// Smallest polling response compressed, in bytes (1024).
    pub http_compression_threshold: usize,
    /// A message sent right after the open packet.
    pub initial_packet: Option<Message>,
    /// Access check run on every handshake.
    pub allow_request: Option<AllowRequest>,
    /// Largest outgoing queue of one session in bytes of packet data; a send
    /// past it closes the session with `transport error` (and is counted).
    pub max_buffered_bytes: usize,
    /// How many received messages wait for the application before the
    /// transport stops reading (WebSocket) or a POST waits (polling).
    pub incoming_queue: usize,
    /// How long a closing polling session waits for a GET to carry the close
    /// packet before it is dropped (30 s, as the reference).
    pub close_timeout: Duration,
    /// WebSocket read buffer per connection, in bytes (1 KiB). tungstenite
    /// zero-fills all of it, so every idle connection pays for it in RSS; a
    /// larger message grows the buffer for as long as it takes to read it.
    pub ws_read_buffer: usize,
    /// WebSocket write buffer per connection, in bytes (4 KiB).
    pub ws_write_buffer: usize,
    /// Limits of the engine's own HTTP/1.1 server ([`crate::Engine::serve`]).
    pub http: HttpConfig,
}

/// Limits of the engine's own HTTP/1.1 server ([`crate::Engine::serve`],
/// [`crate::HttpServer`]). An engine embedded in an application's hyper
/// service ([`crate::Engine::handle`]) is under that service's limits instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// Largest request head (request line and headers), in bytes; a larger
    /// one is answered 431 and the connection closed (16 KiB, as Node).
    pub max_head_bytes: usize,
    /// Most header lines in a request; more is answered 431 (100).
    pub max_headers: usize,
    /// Time a client has to send a whole request, head and body, counted from
    /// the connection's opening or from its first byte on a kept-alive
    /// connection; past it the answer is 408 and the connection closes (60 s,
    /// as Node's `headersTimeout`).
    pub request_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request before
    /// it is closed (5 s, as Node's `keepAliveTimeout`). A pending long-poll
    /// is not idle: it waits for its answer, however long that takes.
    pub keep_alive_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_head_bytes: 16 * 1024,
            max_headers: 100,
            request_timeout: Duration::from_secs(60),
            keep_alive_timeout: Duration::from_secs(5),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/engine.io/".to_owned(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            transports: vec![TransportKind::Polling, TransportKind::Websocket],
            allow_upgrades: true,
            allow_eio3: false,
            cors: None,
            cookie: None,
            per_message_deflate: false,
            http_compression: true,
            http_compression_threshold: 1024,
            initial_packet: None,
            allow_request: None,
            max_buffered_bytes: 16 * 1024 * 1024,
            incoming_queue: 1024,
            close_timeout: Duration::from_secs(30),
            ws_read_buffer: 1024,
            ws_write_buffer: 4096,
            http: HttpConfig::default(),
        }
    }
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("path", &self.path)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("max_payload", &self.max_payload)
            .field("transports", &self.transports)
            .field("allow_upgrades", &self.allow_upgrades)
            .field("allow_eio3", &self.allow_eio3)
            .field("cors", &self.cors)
            .field("cookie", &self.cookie)
            .field("per_message_deflate", &self.per_message_deflate)
            .field("http_compression", &self.http_compression)
            .field("initial_packet", &self.initial_packet)
            .field("allow_request", &self.allow_request.is_some())
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cookie_matches_reference() {
        assert_eq!(
            CookieConfig::default().header_value("abc"),
            "io=abc; Path=/; HttpOnly; SameSite=Lax"
        );
    }
}
