//! Errors of the Socket.IO server API.

use socketio_codec::{RESERVED_EVENTS, Value};

/// A connect middleware's refusal, sent to the client as CONNECT_ERROR.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// The message the client's `connect_error` handler sees.
    pub message: String,
    /// Extra data for the client (`err.data`).
    pub data: Option<Value>,
}

impl ConnectError {
    /// A refusal with this message and no data.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data to the refusal.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// An emit the server cannot make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The event name is one the protocol reserves (`connect`, `disconnect`, ...).
    #[error("\"{0}\" is a reserved event name")]
    ReservedName(String),
    /// The socket is no longer connected.
    #[error("the socket is disconnected")]
    Disconnected,
}

/// Refuses the names the protocol keeps for itself.
pub(crate) fn check_event_name(name: &str) -> Result<(), EmitError> {
    if RESERVED_EVENTS.contains(&name) {
        Err(EmitError::ReservedName(name.to_owned()))
    } else {
        Ok(())
    }
}
