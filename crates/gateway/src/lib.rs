//! The `sio-gateway` event gateway: events arrive over HTTP in the Evolution API's webhook shape
//! and go out to the Socket.IO clients of their instance's namespace; clients may send events
//! back through the relay. The binary in `main.rs` wires these modules together.
//!
//! The contract this crate implements (settings, namespaces, keys, filter, ingest, relay,
//! shutdown, HTTP API) is in the workspace's design document; each module quotes the part it
//! enforces.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod http_util;
pub mod hub;
pub mod ingest;
pub mod keys;
pub mod metrics;
pub mod names;
pub mod relay;
pub mod store;
pub mod tls;
