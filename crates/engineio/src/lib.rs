//! Engine.IO server, protocol v4 and v3.
//!
//! Layers, from the wire up:
//! - [`packet`], [`payload`], [`payload_v3`]: pure codecs of packets and
//!   polling bodies;
//! - [`session`]: the session as a pure state machine (heartbeat, upgrade,
//!   outgoing queue, close), driven with explicit time;
//! - the IO shell (private modules): the handlers for polling and the
//!   WebSocket upgrade, one task per WebSocket, one timer task per session,
//!   and the session table of the [`Engine`];
//! - HTTP: the engine's own lean HTTP/1.1 server ([`Engine::serve`],
//!   [`HttpServer`]), or an application's hyper server ([`Engine::handle`]);
//! - [`Connection`], [`Sender`], [`Receiver`]: what the application holds.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use engineio::{Engine, EngineConfig};
//! let engine = Engine::new(EngineConfig::default(), |conn| {
//!     let (tx, mut rx) = conn.into_parts();
//!     tokio::spawn(async move {
//!         while let Some(msg) = rx.recv().await {
//!             let _ = tx.send(msg); // echo
//!         }
//!     });
//! });
//! engine.serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?).await
//! # }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod connection;
mod engine;
mod error;
mod handshake;
mod http1;
mod http_util;
pub mod packet;
pub mod payload;
pub mod payload_v3;
mod polling;
mod reason;
pub mod session;
mod shell;
mod wakes;
mod websocket;

pub use config::{
    AllowRequest, CookieConfig, CorsConfig, CorsOrigins, EngineConfig, HttpConfig, ProtocolVersion,
    SameSite, TransportKind,
};
pub use connection::{Closed, Connection, Receiver, Sender};
pub use engine::{Encrypted, Engine, accept};
pub use error::RequestError;
pub use handshake::{Handshake, Headers, parse_query, percent_decode};
pub use http_util::EngineBody;
#[doc(hidden)]
pub use http1::fuzz_request;
pub use http1::{BodyTooLarge, BufferedBody, FallbackFuture, HttpServer};
pub use packet::{Message, Packet, PacketError};
pub use reason::CloseReason;
pub use wakes::WakeBatch;
