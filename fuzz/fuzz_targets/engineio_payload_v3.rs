//! Engine.IO v3 polling payloads: the string form (`<length>:<packet>`, lengths in
//! UTF-16 code units), the XHR2 binary form and the JSONP form body. Decoding never
//! panics.
#![no_main]

use engineio::payload_v3;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = payload_v3::decode_string(text);
    }
    let _ = payload_v3::decode_binary(data);
    if let Some(form) = payload_v3::decode_jsonp_form(data) {
        let _ = payload_v3::decode_string(&form);
    }
});
