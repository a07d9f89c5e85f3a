//! The engine's HTTP/1.1 request parsing (head, then a chunked body) over
//! arbitrary bytes: it never panics and never reports a length past its input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    engineio::fuzz_request(data);
});
