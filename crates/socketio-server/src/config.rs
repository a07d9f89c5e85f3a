//! Server options, with the reference server's defaults.

use std::time::Duration;

use engineio::EngineConfig;
use socketio_codec::Limits;

use crate::wire::Parser;

/// Options of a [`Server`](crate::Server).
#[derive(Clone)]
pub struct ServerConfig {
    /// The Engine.IO layer's options; its path defaults to `/socket.io/` here.
    pub engine: EngineConfig,
    /// How long a new connection may wait before joining a namespace (reference: 45 s).
    pub connect_timeout: Duration,
    /// Limits of the packet decoder (attachments per packet, nesting depth).
    pub limits: Limits,
    /// Connection state recovery; `None` (the default) turns it off.
    pub recovery: Option<RecoveryConfig>,
    /// Remove a child of a dynamic namespace once its last socket leaves.
    pub cleanup_empty_child_namespaces: bool,
    /// The packet parser every client of this server uses.
    pub parser: Parser,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("path", &self.engine.path)
            .field("connect_timeout", &self.connect_timeout)
            .field("recovery", &self.recovery)
            .field("parser", &self.parser)
            .field(
                "cleanup_empty_child_namespaces",
                &self.cleanup_empty_child_namespaces,
            )
            .finish_non_exhaustive()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        let engine = EngineConfig {
            path: "/socket.io/".to_owned(),
            ..EngineConfig::default()
        };
        Self {
            engine,
            connect_timeout: Duration::from_millis(45_000),
            limits: Limits::default(),
            recovery: None,
            cleanup_empty_child_namespaces: false,
            parser: Parser::Default,
        }
    }
}

/// Options of connection state recovery.
#[derive(Debug, Clone)]
pub struct RecoveryConfig {
    /// How long a disconnected session (and the packets it missed) is kept (reference: 2 minutes).
    pub max_disconnection_duration: Duration,
    /// Let a recovered socket skip the namespace's connect middlewares.
    pub skip_middlewares: bool,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            max_disconnection_duration: Duration::from_millis(120_000),
            skip_middlewares: true,
        }
    }
}
