//! Why a socket left its namespace: the reasons the reference server reports, mapped from the Engine.IO
//! close reasons and from the Socket.IO layer's own decisions.

use engineio::CloseReason;

/// Why a socket was disconnected, as seen on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The connection failed (for example a slow client went over its outgoing buffer limit).
    TransportError,
    /// The client's transport went away (closed tab, network drop, client-side `engine.close()`).
    TransportClose,
    /// The Engine.IO session was closed from the server side.
    ForcedClose,
    /// The client stopped answering heartbeats.
    PingTimeout,
    /// The client sent something that is not a valid Socket.IO packet.
    ParseError,
    /// The server is stopping.
    ServerShuttingDown,
    /// The server closed the whole connection on its own (the connect timeout; the reference also
    /// reports it after a packet in an invalid state when the transport closes asynchronously).
    ForcedServerClose,
    /// The client left the namespace (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server removed the socket from its namespace (`socket.disconnect()` on the server).
    ServerNamespaceDisconnect,
}

impl DisconnectReason {
    /// The reason's text, exactly as the reference names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransportError => "transport error",
            Self::TransportClose => "transport close",
            Self::ForcedClose => "forced close",
            Self::PingTimeout => "ping timeout",
            Self::ParseError => "parse error",
            Self::ServerShuttingDown => "server shutting down",
            Self::ForcedServerClose => "forced server close",
            Self::ClientNamespaceDisconnect => "client namespace disconnect",
            Self::ServerNamespaceDisconnect => "server namespace disconnect",
        }
    }

    /// Whether connection state recovery keeps the session after this reason. A deliberate leave or a
    /// protocol violation is final.
    pub fn is_recoverable(self) -> bool {
        !matches!(
            self,
            Self::ParseError | Self::ClientNamespaceDisconnect | Self::ServerNamespaceDisconnect
        )
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::TransportClose => Self::TransportClose,
            CloseReason::TransportError => Self::TransportError,
            CloseReason::PingTimeout => Self::PingTimeout,
            CloseReason::ParseError => Self::ParseError,
            CloseReason::ForcedClose => Self::ForcedClose,
            CloseReason::ServerShuttingDown => Self::ServerShuttingDown,
        }
    }
}
