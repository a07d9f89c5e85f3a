//! What a socket learned when it connected: the HTTP request that opened the Engine.IO session and the
//! auth payload of the namespace CONNECT.

use std::{net::SocketAddr, sync::Arc, time::SystemTime};

use engineio::{Headers, TransportKind};
use http::Uri;
use socketio_codec::Value;

/// Handshake data of one socket.
#[derive(Debug, Clone)]
pub struct Handshake {
    engine: Arc<engineio::Handshake>,
    auth: Value,
    time: SystemTime,
}

impl Handshake {
    pub(crate) fn new(engine: Arc<engineio::Handshake>, auth: Value) -> Self {
        Self {
            engine,
            auth,
            time: SystemTime::now(),
        }
    }

    /// The auth payload the client sent with CONNECT (`{}` when it sent none). For protocol v4 clients
    /// (socket.io 2.x) it holds the namespace's query parameters.
    pub fn auth(&self) -> &Value {
        &self.auth
    }

    /// Headers of the request that opened the connection (`get("user-agent")`,
    /// `get_all`, `iter`; `to_header_map()` for an `http::HeaderMap`).
    pub fn headers(&self) -> &Headers {
        &self.engine.headers
    }

    /// URL of the request that opened the connection.
    pub fn url(&self) -> &Uri {
        &self.engine.uri
    }

    /// A query parameter of the request that opened the connection, percent-decoded.
    pub fn query(&self, key: &str) -> Option<String> {
        self.engine.query(key)
    }

    /// The client's address.
    pub fn address(&self) -> SocketAddr {
        self.engine.remote_addr
    }

    /// Whether the connection came over TLS.
    pub fn secure(&self) -> bool {
        self.engine.secure
    }

    /// When the Engine.IO session was opened.
    pub fn issued(&self) -> SystemTime {
        self.engine.issued
    }

    /// When the socket connected to its namespace.
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// The transport the session was opened with.
    pub fn transport(&self) -> TransportKind {
        self.engine.transport
    }
}
