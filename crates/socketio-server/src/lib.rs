//! A Socket.IO server on the `engineio` crate: namespaces, sockets, rooms, events, acknowledgements,
//! broadcasts, middlewares and connection state recovery, conformant with the official clients
//! (socket.io-client 4.x over protocol v5, and 2.x over protocol v4).
//!
//! - [`Server`]: namespaces ([`Server::of`], [`Server::of_dynamic`], [`Server::namespace`]),
//!   server-wide operations, and the HTTP entry points: [`Server::serve`] alone, or
//!   [`Server::handles`] and [`Server::handle`] inside your own hyper service.
//! - [`Namespace`]: connect middlewares, connection handlers, broadcasts to its sockets.
//! - [`Socket`]: handlers, acks both ways, rooms, data, disconnects.
//! - [`Adapter`]: rooms and delivery; [`InMemoryAdapter`] by default.
//! - Feature `msgpack`: `Parser::Msgpack`, as npm socket.io-msgpack-parser.
//!
//! Architecture and the path of a broadcast: `docs/server.md`.
//!
//! ```no_run
//! use socketio_server::{Server, ServerConfig, Value};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = Server::new(ServerConfig::default());
//! io.on_connection(|socket| {
//!     socket.on("chat", |socket, event| {
//!         let _ = socket.broadcast().emit("chat", event.args);
//!     });
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! io.serve(listener).await
//! # }
//! ```
#![warn(missing_docs)]

mod ack;
pub mod adapter;
mod broadcast;
mod client;
mod config;
mod error;
mod handshake;
mod id;
mod namespace;
mod reason;
mod server;
mod server_side;
mod socket;
mod wire;

pub use ack::{AckError, AckFuture, AckResponder, BroadcastAckError, BroadcastAckFuture};
pub use adapter::{Adapter, BroadcastFlags, BroadcastOptions, InMemoryAdapter, Room, Sid};
pub use broadcast::BroadcastOperator;
pub use config::{RecoveryConfig, ServerConfig};
pub use error::{ConnectError, EmitError};
pub use handshake::Handshake;
pub use namespace::{Namespace, NamespaceRef, ParentNamespace};
pub use reason::DisconnectReason;
pub use server::Server;
pub use server_side::ServerSideAck;
pub use socket::{Event, Socket};
pub use wire::Parser;

pub use engineio;
pub use socketio_codec::{self as codec, Value};
