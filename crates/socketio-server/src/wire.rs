//! How packets travel on one connection: the default parser (a text frame, then one binary
//! frame per attachment) for protocol v5 or v4, or the MessagePack parser (one binary frame per
//! packet, with the `msgpack` feature). Writing ([`Wire::encode`] into [`Frames`]) and reading
//! ([`Reader`]) live here; what a packet means is the client's and the socket's business.

use bytes::Bytes;
use engineio::Message;
use socketio_codec::{DecodeError, Decoder, Encoded, Limits, Packet, ProtocolVersion};

/// The parser a server speaks; every client must use the same one, as with the reference's
/// `parser` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Parser {
    /// socket.io-parser: JSON text with binary attachments.
    #[default]
    Default,
    /// socket.io-msgpack-parser: one MessagePack binary frame per packet.
    #[cfg(feature = "msgpack")]
    Msgpack,
}

/// The encoding of one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wire {
    /// The default parser, protocol v5 (socket.io 3.x and 4.x clients).
    V5,
    /// The default parser, protocol v4 (socket.io 2.x clients).
    V4,
    /// The MessagePack parser.
    #[cfg(feature = "msgpack")]
    Msgpack,
}

/// How many distinct encodings a broadcast may need, one per [`Wire`].
pub(crate) const WIRE_COUNT: usize = 3;

impl Wire {
    pub(crate) fn new(parser: Parser, version: ProtocolVersion) -> Wire {
        match (parser, version) {
            (Parser::Default, ProtocolVersion::V5) => Wire::V5,
            (Parser::Default, ProtocolVersion::V4) => Wire::V4,
            #[cfg(feature = "msgpack")]
            (Parser::Msgpack, _) => Wire::Msgpack,
        }
    }

    /// A slot index below [`WIRE_COUNT`], to cache one encoding per wire.
    pub(crate) fn index(self) -> usize {
        match self {
            Wire::V5 => 0,
            Wire::V4 => 1,
            #[cfg(feature = "msgpack")]
            Wire::Msgpack => 2,
        }
    }

    /// Encodes a packet into the frames of this wire.
    pub(crate) fn encode(self, packet: &Packet) -> Frames {
        match self {
            Wire::V5 => Frames::Text(packet.encode(ProtocolVersion::V5)),
            Wire::V4 => Frames::Text(packet.encode(ProtocolVersion::V4)),
            #[cfg(feature = "msgpack")]
            Wire::Msgpack => Frames::Binary(socketio_codec::msgpack::encode(packet)),
        }
    }
}

/// An encoded packet, ready to be shared by every recipient (all parts are `Bytes`).
#[derive(Debug, Clone)]
pub(crate) enum Frames {
    /// A text frame and its attachments.
    Text(Encoded),
    /// A single binary frame (MessagePack).
    #[cfg_attr(not(feature = "msgpack"), allow(dead_code))]
    Binary(Bytes),
}

impl Frames {
    /// The Engine.IO messages carrying the packet, in order. An iterator rather than a vector:
    /// a broadcast hands them to every recipient, and an allocation each would be wasted.
    pub(crate) fn messages(&self) -> impl Iterator<Item = Message> + '_ {
        let (first, attachments) = match self {
            Frames::Text(encoded) => (
                Message::Text(encoded.text.clone()),
                encoded.attachments.as_slice(),
            ),
            Frames::Binary(frame) => (Message::Binary(frame.clone()), &[][..]),
        };
        std::iter::once(first).chain(attachments.iter().cloned().map(Message::Binary))
    }
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The packet decoder refused the frame.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A text frame on a MessagePack connection, where every packet is binary.
    #[cfg(feature = "msgpack")]
    #[error("text frame on a MessagePack connection")]
    TextOnMsgpack,
}

/// Reads the frames of one connection into packets.
#[derive(Debug)]
pub(crate) enum Reader {
    /// The default parser, which reassembles binary packets across frames.
    Text(Decoder),
    /// The MessagePack parser: each binary frame is a whole packet.
    #[cfg(feature = "msgpack")]
    Msgpack(Limits),
}

impl Reader {
    pub(crate) fn new(wire: Wire, limits: Limits) -> Reader {
        match wire {
            Wire::V5 => Reader::Text(Decoder::new(ProtocolVersion::V5, limits)),
            Wire::V4 => Reader::Text(Decoder::new(ProtocolVersion::V4, limits)),
            #[cfg(feature = "msgpack")]
            Wire::Msgpack => Reader::Msgpack(limits),
        }
    }

    /// The packet a message completes, if any.
    pub(crate) fn read(&mut self, message: Message) -> Result<Option<Packet>, ReadError> {
        match (self, message) {
            (Reader::Text(d), Message::Text(text)) => Ok(d.decode_text(text)?),
            (Reader::Text(d), Message::Binary(data)) => Ok(d.decode_binary(data)?),
            #[cfg(feature = "msgpack")]
            (Reader::Msgpack(limits), Message::Binary(data)) => {
                Ok(Some(socketio_codec::msgpack::decode(data, limits)?))
            }
            #[cfg(feature = "msgpack")]
            (Reader::Msgpack(_), Message::Text(_)) => Err(ReadError::TextOnMsgpack),
        }
    }
}

#[cfg(test)]
mod tests {
    use socketio_codec::Value;

    use super::*;

    #[test]
    fn text_wire_round_trip_with_attachments() {
        let packet = Packet::event("/", "e", vec![Value::from(vec![1u8, 2])], Some(3));
        let messages: Vec<_> = Wire::V5.encode(&packet).messages().collect();
        assert_eq!(messages.len(), 2);
        let mut reader = Reader::new(Wire::V5, Limits::default());
        let mut got = None;
        for m in messages {
            got = reader.read(m).ok().flatten();
        }
        assert_eq!(got, Some(packet));
    }

    #[test]
    fn every_recipient_shares_the_encoded_bytes() {
        let packet = Packet::event("/", "e", vec![Value::from(vec![7u8; 64])], None);
        let frames = Wire::V5.encode(&packet);
        let ptrs = |m: &Frames| -> Vec<*const u8> {
            m.messages()
                .map(|m| match m {
                    Message::Text(b) | Message::Binary(b) => b.as_ptr(),
                })
                .collect()
        };
        assert_eq!(ptrs(&frames), ptrs(&frames));
    }

    #[cfg(feature = "msgpack")]
    #[test]
    fn msgpack_wire_is_one_binary_frame() {
        let packet = Packet::event("/x", "e", vec![Value::from(vec![1u8])], None);
        let messages: Vec<_> = Wire::Msgpack.encode(&packet).messages().collect();
        assert!(matches!(messages.as_slice(), [Message::Binary(_)]));
        let mut reader = Reader::new(Wire::Msgpack, Limits::default());
        let got = messages.into_iter().next().map(|m| reader.read(m));
        assert!(matches!(got, Some(Ok(Some(p))) if p == packet));
        assert!(reader.read(Message::text("2[]")).is_err());
    }
}
