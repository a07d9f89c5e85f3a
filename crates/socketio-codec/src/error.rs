//! Why a frame was refused by the [`Decoder`](crate::Decoder).
//!
//! Every variant is a protocol violation by the peer: the reference server closes
//! the connection on each of them (disconnect reason `parse error`), and the
//! decoder resets itself so it can be reused. Messages name what was wrong.

use thiserror::Error;

/// A packet the reference parser (socket.io-parser 4.2.7) refuses, or one this
/// crate refuses where the reference would build a value Rust cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A text frame that is not UTF-8.
    #[error("text frame is not valid UTF-8")]
    InvalidUtf8,
    /// The first character is not a packet type (0 to 6).
    #[error("unknown packet type {0:?}")]
    UnknownPacketType(String),
    /// A BINARY_EVENT or BINARY_ACK whose attachment count is not a number, or
    /// not followed by `-`.
    #[error("illegal attachment count {0:?}")]
    InvalidAttachmentCount(String),
    /// A BINARY_EVENT or BINARY_ACK declaring fewer than one attachment.
    #[error("binary packet declares no attachments")]
    ZeroAttachments,
    /// More attachments declared than `Limits::max_attachments` allows.
    #[error("too many attachments: {count} declared, at most {max} allowed")]
    TooManyAttachments {
        /// The declared count.
        count: String,
        /// The limit.
        max: usize,
    },
    /// An ack id that is not a whole number from 0 to 2^64 - 1 (the reference
    /// would carry on with `NaN` or a rounded double).
    #[error("invalid ack id {0:?}")]
    InvalidAckId(String),
    /// The payload is not JSON.
    #[error("invalid JSON payload at byte {offset}")]
    InvalidJson {
        /// Where, in the JSON text, reading stopped.
        offset: usize,
    },
    /// Arrays and objects nested deeper than `Limits::max_depth`.
    #[error("payload nested deeper than {max} levels")]
    NestingTooDeep {
        /// The limit.
        max: usize,
    },
    /// A CONNECT payload that is not an object.
    #[error("CONNECT payload must be an object")]
    InvalidConnectPayload,
    /// A DISCONNECT with a payload.
    #[error("DISCONNECT must not carry a payload")]
    InvalidDisconnectPayload,
    /// An EVENT payload that is not an array starting with a string or a number.
    #[error("EVENT payload must be an array starting with the event name")]
    InvalidEventPayload,
    /// An ACK payload that is not an array.
    #[error("ACK payload must be an array")]
    InvalidAckPayload,
    /// A CONNECT_ERROR payload that is not a string or an object.
    #[error("CONNECT_ERROR payload must be a string or an object")]
    InvalidConnectErrorPayload,
    /// An EVENT named after a reserved event (`connect`, `disconnect`...).
    #[error("reserved event name {0:?}")]
    ReservedEventName(String),
    /// A placeholder whose `num` is not the index of a received attachment (the
    /// reference also refuses it, except for a fractional `num`, which it turns
    /// into `undefined`).
    #[error("placeholder does not point to an attachment")]
    PlaceholderOutOfRange,
    /// A binary frame when no BINARY_EVENT or BINARY_ACK awaits attachments.
    #[error("unexpected binary frame")]
    UnexpectedBinary,
    /// A MessagePack frame that is not one well-formed value.
    #[error("invalid MessagePack at byte {offset}")]
    InvalidMsgpack {
        /// Where reading stopped.
        offset: usize,
    },
    /// A MessagePack packet whose `nsp` is not a string.
    #[error("namespace must be a string")]
    InvalidNamespace,
    /// A text frame while a BINARY_EVENT or BINARY_ACK still awaits attachments.
    #[error("text frame while waiting for binary attachments")]
    UnexpectedText,
}
