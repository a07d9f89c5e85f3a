//! One socket.io-msgpack-parser frame: decoding never panics, and a decoded packet
//! encodes to a frame that decodes and encodes to the same bytes.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_codec::{Limits, msgpack};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_attachments: 10,
        max_depth: 64,
    };
    if let Ok(packet) = msgpack::decode(Bytes::copy_from_slice(data), &limits) {
        let encoded = msgpack::encode(&packet);
        match msgpack::decode(encoded.clone(), &limits) {
            Ok(again) => assert_eq!(msgpack::encode(&again), encoded, "{packet:?}"),
            Err(e) => panic!("{packet:?} re-decoded as {e}"),
        }
    }
});
