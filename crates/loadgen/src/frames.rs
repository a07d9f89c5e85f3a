//! The few Socket.IO frames the generator writes and reads, by hand: the point
//! is that parsing on this side costs next to nothing.
//!
//! Written: `40` (connect to `/`), `42<id>["echo",<t>]`, `42<id>["bcast",<seq>,<t>]`.
//! Read: `0{...}` (open), `2` (ping), `40{...}` (connected), `43<id>[<t>]` (ack),
//! `42["bcast",<seq>,<t>]`.

/// What a received text frame is, as far as the generator cares.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// `2`: answer `3`.
    Ping,
    /// `40{...}`: connected to `/`.
    Connected,
    /// `43<id>[<t>...]` or `43<id>[]`: an ack; `t` when it carried a number first.
    Ack { id: u64, t: Option<u64> },
    /// `42["bcast",<seq>,<t>]`.
    Broadcast { seq: u64, t: u64 },
    /// Anything else.
    Other,
}

/// Classifies one Engine.IO text frame.
pub(crate) fn parse(text: &str) -> Frame {
    let b = text.as_bytes();
    match b {
        [b'2'] => Frame::Ping,
        [b'4', b'0', ..] => Frame::Connected,
        [b'4', b'3', rest @ ..] => {
            let (id, rest) = digits(rest);
            let t = rest.strip_prefix(b"[").and_then(|r| {
                let (t, after) = digits(r);
                let whole = after.len() < r.len() && matches!(after.first(), Some(b']' | b','));
                whole.then_some(t)
            });
            Frame::Ack { id, t }
        }
        [b'4', b'2', rest @ ..] => match rest.strip_prefix(b"[\"bcast\",") {
            Some(rest) => {
                let (seq, rest) = digits(rest);
                let (t, _) = digits(rest.strip_prefix(b",").unwrap_or(rest));
                Frame::Broadcast { seq, t }
            }
            None => Frame::Other,
        },
        _ => Frame::Other,
    }
}

/// The `seq` and `t` numbers of a gateway event (`42<nsp>,["<event>",{...,"data":{"seq":S,"t":T}}]`).
pub(crate) fn gateway_event(text: &str) -> Option<(u64, u64)> {
    if !text.starts_with("42") {
        return None;
    }
    let field = |name: &str| {
        let at = text.find(name)? + name.len();
        let (v, rest) = digits(&text.as_bytes()[at..]);
        (rest.len() < text.len() - at).then_some(v)
    };
    Some((field("\"seq\":")?, field("\"t\":")?))
}

fn digits(b: &[u8]) -> (u64, &[u8]) {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let v = b[..n].iter().fold(0u64, |acc, c| {
        acc.wrapping_mul(10).wrapping_add(u64::from(c - b'0'))
    });
    (v, &b[n..])
}

/// `42<id>["echo",<t>]`.
pub(crate) fn echo(id: u64, t: u64) -> String {
    format!("42{id}[\"echo\",{t}]")
}

/// `42<id>["bcast",<seq>,<t>]`.
pub(crate) fn bcast(id: u64, seq: u64, t: u64) -> String {
    format!("42{id}[\"bcast\",{seq},{t}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_classified() {
        assert_eq!(parse("2"), Frame::Ping);
        assert_eq!(parse("40{\"sid\":\"x\"}"), Frame::Connected);
        assert_eq!(
            parse("4317[123]"),
            Frame::Ack {
                id: 17,
                t: Some(123)
            }
        );
        assert_eq!(parse("435[]"), Frame::Ack { id: 5, t: None });
        assert_eq!(
            parse("42[\"bcast\",7,99]"),
            Frame::Broadcast { seq: 7, t: 99 }
        );
        assert_eq!(parse("42[\"other\",1]"), Frame::Other);
        assert_eq!(parse("3"), Frame::Other);
    }

    #[test]
    fn gateway_events_are_read() {
        let frame = r#"42/bench,["messages.upsert",{"event":"messages.upsert","instance":"bench","data":{"seq":12,"t":345}}]"#;
        assert_eq!(gateway_event(frame), Some((12, 345)));
        assert_eq!(gateway_event(r#"42/bench,["x",{"data":{}}]"#), None);
        assert_eq!(gateway_event("40/bench,{}"), None);
    }

    #[test]
    fn written_frames_read_back() {
        assert_eq!(echo(3, 42), "423[\"echo\",42]");
        // What the server sends back for them.
        assert_eq!(parse("433[42]"), Frame::Ack { id: 3, t: Some(42) });
        assert_eq!(bcast(1, 2, 3), "421[\"bcast\",2,3]");
    }
}
