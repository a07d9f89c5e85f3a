//! Round trips over random packets (a seeded generator, so failures replay):
//! decoding what the encoder wrote gives the packet back, and encoding that again
//! gives the same bytes.

use bytes::Bytes;
use socketio_codec::{Decoder, Limits, Packet, ProtocolVersion, Value};

/// xorshift64*: small, seeded, good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn string(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "0",
            "7",
            " ",
            "\"",
            "\\",
            "/",
            "\n",
            "\u{0}",
            "\u{1f}",
            "é",
            "€",
            "😀",
            "\u{2028}",
            "\u{FFFD}",
            ",",
            "-",
            "_placeholder",
        ];
        (0..self.below(6))
            .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
            .collect()
    }

    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 5 } else { 7 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => match self.below(4) {
                0 => Value::from(self.below(1 << 53)),
                1 => Value::from(-(self.below(1 << 53) as i64)),
                2 => Value::from(
                    f64::from_bits(self.next() >> 2) * if self.below(2) == 0 { 1.0 } else { -1.0 },
                ),
                _ => Value::from((self.below(2_000_001) as f64 - 1e6) / 1000.0),
            },
            3 => Value::String(self.string()),
            4 => Value::Binary(Bytes::from(
                (0..self.below(5)).map(|i| i as u8).collect::<Vec<u8>>(),
            )),
            5 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
            _ => {
                // JavaScript's shape: unique keys, array indices first and ascending.
                let mut fields: Vec<(String, Value)> = Vec::new();
                for _ in 0..self.below(4) {
                    let key = if self.below(4) == 0 {
                        self.below(20).to_string()
                    } else {
                        self.string()
                    };
                    if !fields.iter().any(|(k, _)| *k == key) {
                        fields.push((key, self.value(depth - 1)));
                    }
                }
                let index = |k: &str| k.parse::<u32>().ok().filter(|n| n.to_string() == k);
                fields.sort_by_key(|(k, _)| index(k).map_or((1, 0), |n| (0, n)));
                Value::Object(fields)
            }
        }
    }

    fn packet(&mut self) -> Packet {
        let nsp = ["/", "/chat", "/a-b_c.d", "/é/ü", "/x?y=1"][self.below(5) as usize];
        // Ids past 2^53 are rounded as JavaScript reads them; stay within.
        let id = (self.below(2) == 0).then(|| (self.next() >> 11) >> self.below(54));
        let args: Vec<Value> = (0..self.below(4)).map(|_| self.value(3)).collect();
        match self.below(5) {
            0 => Packet::connect(
                nsp,
                (self.below(2) == 0)
                    .then(|| Value::Object(vec![("token".into(), Value::String(self.string()))])),
            ),
            1 => Packet::disconnect(nsp),
            2 | 3 => {
                let name = format!("ev{}", self.string());
                Packet::event(nsp, &name, args, id)
            }
            _ => Packet::ack(nsp, id.unwrap_or(0), args),
        }
    }
}

/// Decodes a text frame and its attachments with a fresh decoder.
fn decode_all(version: ProtocolVersion, text: Bytes, attachments: &[Bytes]) -> Option<Packet> {
    let mut d = Decoder::new(version, Limits::default());
    let mut out = d.decode_text(text).ok()?;
    for a in attachments {
        assert!(out.is_none());
        out = d.decode_binary(a.clone()).ok()?;
    }
    out
}

#[test]
fn random_packets_round_trip() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for round in 0..5000 {
        let version = if round % 3 == 0 {
            ProtocolVersion::V4
        } else {
            ProtocolVersion::V5
        };
        let packet = rng.packet();
        let encoded = packet.encode(version);
        let decoded = decode_all(version, encoded.text.clone(), &encoded.attachments);
        let Some(decoded) = decoded else {
            panic!(
                "round {round}: {packet:?} as {:?} did not decode",
                encoded.text
            )
        };
        assert_eq!(decoded, packet, "round {round}: {:?}", encoded.text);
        assert_eq!(decoded.encode(version), encoded, "round {round}");
    }
}

#[test]
fn decoding_any_json_then_encoding_is_stable() {
    // Text built from random values, reordered and deduplicated by the decoder,
    // re-encodes to itself.
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let v = rng.value(4);
        let text = v.to_json_string();
        let parsed = Value::from_json_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed.to_json_string(), text);
    }
}
