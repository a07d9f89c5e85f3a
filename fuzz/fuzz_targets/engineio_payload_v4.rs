//! An Engine.IO v4 polling payload (packets joined by 0x1e): decoding never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = engineio::payload::decode_v4(data);
    // What decoded cleanly encodes back to a payload holding the same packets.
    if decoded.error.is_none() && !decoded.packets.is_empty() {
        let again =
            engineio::payload::decode_v4(engineio::payload::encode_v4(&decoded.packets).as_bytes());
        assert_eq!(again.packets, decoded.packets);
    }
});
