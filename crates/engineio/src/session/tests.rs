//! Fake-clock tests of the session machine: time only moves when a test says so.

use super::*;

const MS: Duration = Duration::from_millis(1);

fn cfg() -> SessionConfig {
    SessionConfig {
        ping_interval: 300 * MS,
        ping_timeout: 200 * MS,
        upgrade_timeout: 1000 * MS,
        max_buffered_bytes: 100,
        close_timeout: 5000 * MS,
    }
}

fn open(protocol: ProtocolVersion, transport: TransportKind) -> (Session, Instant) {
    let t0 = Instant::now();
    let s = Session::new(
        protocol,
        transport,
        cfg(),
        Bytes::from_static(b"{}"),
        None,
        t0,
    );
    (s, t0)
}

fn ping() -> Packet {
    Packet::Ping(Bytes::new())
}

fn pong() -> Packet {
    Packet::Pong(Bytes::new())
}

#[test]
fn v4_first_ping_one_interval_after_open() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Websocket);
    assert_eq!(
        s.take_ws().packets,
        vec![Packet::Open(Bytes::from_static(b"{}"))]
    );
    assert_eq!(s.next_deadline(), Some(t0 + 300 * MS));
    s.on_timeout(t0 + 299 * MS);
    assert!(s.take_ws().packets.is_empty());
    s.on_timeout(t0 + 300 * MS);
    assert_eq!(s.take_ws().packets, vec![ping()]);
    assert_eq!(s.next_deadline(), Some(t0 + 500 * MS));
}

#[test]
fn v4_pong_schedules_next_ping() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Websocket);
    s.on_timeout(t0 + 300 * MS);
    s.take_ws();
    assert_eq!(s.on_packet(Channel::Primary, pong(), t0 + 350 * MS), None);
    assert_eq!(s.next_deadline(), Some(t0 + 650 * MS));
    s.on_timeout(t0 + 600 * MS);
    assert!(!s.is_closed());
}

#[test]
fn v4_ping_timeout_closes() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Websocket);
    s.on_timeout(t0 + 300 * MS);
    s.on_timeout(t0 + 499 * MS);
    assert!(!s.is_closed());
    s.on_timeout(t0 + 500 * MS);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
    assert_eq!(
        s.take_ws(),
        WsOutput {
            packets: vec![],
            close: true
        }
    );
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn v4_other_packet_extends_pong_wait_once() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Websocket);
    s.on_timeout(t0 + 300 * MS);
    let m = Packet::Message(Message::text("a"));
    assert_eq!(
        s.on_packet(Channel::Primary, m.clone(), t0 + 400 * MS),
        Some(Message::text("a"))
    );
    assert_eq!(s.next_deadline(), Some(t0 + 600 * MS));
    s.on_packet(Channel::Primary, m, t0 + 550 * MS);
    assert_eq!(s.next_deadline(), Some(t0 + 600 * MS));
}

#[test]
fn v4_client_ping_is_a_transport_error() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Websocket);
    s.on_packet(Channel::Primary, ping(), t0);
    assert_eq!(s.close_reason(), Some(CloseReason::TransportError));
}

#[test]
fn v3_server_answers_pings_bare_and_times_out_on_silence() {
    let (mut s, t0) = open(ProtocolVersion::V3, TransportKind::Websocket);
    s.take_ws();
    assert_eq!(s.next_deadline(), Some(t0 + 500 * MS));
    let p = Packet::Ping(Bytes::from_static(b"x"));
    s.on_packet(Channel::Primary, p, t0 + 400 * MS);
    assert_eq!(s.take_ws().packets, vec![Packet::Pong(Bytes::new())]);
    assert_eq!(s.next_deadline(), Some(t0 + 900 * MS));
    s.on_timeout(t0 + 899 * MS);
    assert!(!s.is_closed());
    s.on_timeout(t0 + 900 * MS);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn poll_gets_queued_packets_then_waits() {
    let (mut s, _) = open(ProtocolVersion::V4, TransportKind::Polling);
    assert!(s.on_poll());
    assert_eq!(
        s.take_poll(),
        Some(vec![Packet::Open(Bytes::from_static(b"{}"))])
    );
    assert!(s.on_poll());
    assert_eq!(s.take_poll(), None);
    assert!(s.is_writable());
    s.send(Message::text("hi")).unwrap();
    assert_eq!(
        s.take_poll(),
        Some(vec![Packet::Message(Message::text("hi"))])
    );
}

#[test]
fn overlapping_poll_closes_with_close_packet() {
    let (mut s, _) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_poll();
    s.take_poll();
    assert!(s.on_poll());
    assert!(!s.on_poll());
    assert_eq!(s.close_reason(), Some(CloseReason::TransportError));
    assert_eq!(s.take_poll(), Some(vec![Packet::Close]));
    assert_eq!(s.take_poll(), None);
}

#[test]
fn aborted_poll_closes_session() {
    let (mut s, _) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_poll();
    s.take_poll();
    s.on_poll();
    s.on_poll_aborted();
    assert_eq!(s.close_reason(), Some(CloseReason::TransportError));
}

#[test]
fn upgrade_success() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_poll();
    s.take_poll();
    assert!(s.on_probe_open(t0));
    assert!(!s.on_probe_open(t0), "a second probe is refused");
    s.on_packet(
        Channel::Probe,
        Packet::Ping(Bytes::from_static(b"probe")),
        t0,
    );
    assert_eq!(
        s.take_probe(),
        (vec![Packet::Pong(Bytes::from_static(b"probe"))], false)
    );
    s.on_packet(Channel::Probe, Packet::Upgrade, t0 + 10 * MS);
    assert_eq!(s.transport(), TransportKind::Websocket);
    assert!(!s.is_upgrading());
    s.send(Message::text("after")).unwrap();
    assert_eq!(
        s.take_ws().packets,
        vec![Packet::Message(Message::text("after"))]
    );
    assert!(!s.on_probe_open(t0), "no second upgrade");
}

#[test]
fn noop_answers_polls_during_upgrade() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_poll();
    s.take_poll();
    s.on_poll();
    s.on_probe_open(t0);
    assert_eq!(s.take_poll(), None, "no noop before the probe ping");
    s.on_packet(
        Channel::Probe,
        Packet::Ping(Bytes::from_static(b"probe")),
        t0,
    );
    assert_eq!(s.take_poll(), Some(vec![Packet::Noop]));
    s.on_poll();
    assert_eq!(s.take_poll(), Some(vec![Packet::Noop]), "a new poll too");
}

#[test]
fn pending_poll_after_upgrade_gets_noop() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_poll();
    s.take_poll();
    s.on_probe_open(t0);
    s.on_packet(
        Channel::Probe,
        Packet::Ping(Bytes::from_static(b"probe")),
        t0,
    );
    s.on_packet(Channel::Probe, Packet::Upgrade, t0);
    s.send(Message::text("x")).unwrap();
    s.on_poll();
    assert_eq!(s.take_poll(), Some(vec![Packet::Noop]));
    assert_eq!(
        s.take_ws().packets,
        vec![Packet::Message(Message::text("x"))]
    );
}

#[test]
fn upgrade_timeout_closes_probe_only() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_probe_open(t0);
    assert_eq!(s.next_deadline(), Some(t0 + 300 * MS));
    s.on_timeout(t0 + 300 * MS);
    s.on_packet(Channel::Primary, pong(), t0 + 310 * MS);
    assert_eq!(s.next_deadline(), Some(t0 + 610 * MS));
    s.on_timeout(t0 + 610 * MS);
    s.on_packet(Channel::Primary, pong(), t0 + 620 * MS);
    s.on_timeout(t0 + 1000 * MS);
    assert_eq!(s.take_probe(), (vec![], true));
    assert!(!s.is_closed());
    assert_eq!(s.transport(), TransportKind::Polling);
}

#[test]
fn unexpected_probe_packet_aborts_upgrade() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_probe_open(t0);
    s.on_packet(Channel::Probe, Packet::Message(Message::text("x")), t0);
    assert_eq!(s.take_probe(), (vec![], true));
    assert!(!s.is_upgrading());
}

#[test]
fn graceful_close_flushes_then_closes() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_poll();
    s.take_poll();
    s.send(Message::text("last")).unwrap();
    s.close(CloseReason::ForcedClose, t0);
    assert_eq!(s.send(Message::text("late")), Err(SendError::Closed));
    assert!(!s.is_closed());
    s.on_poll();
    assert_eq!(
        s.take_poll(),
        Some(vec![Packet::Message(Message::text("last")), Packet::Close])
    );
    assert_eq!(s.close_reason(), Some(CloseReason::ForcedClose));
}

#[test]
fn graceful_close_gives_up_without_poll() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.close(CloseReason::ForcedClose, t0);
    assert_eq!(s.next_deadline(), Some(t0 + 5000 * MS));
    s.on_timeout(t0 + 5000 * MS);
    assert_eq!(s.close_reason(), Some(CloseReason::ForcedClose));
}

#[test]
fn ws_close_after_flush() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Websocket);
    s.close(CloseReason::ForcedClose, t0);
    let out = s.take_ws();
    assert_eq!(out.packets.len(), 1);
    assert!(out.close);
    assert!(s.is_closed());
}

#[test]
fn overflow_closes_with_transport_error() {
    let (mut s, _) = open(ProtocolVersion::V4, TransportKind::Websocket);
    s.send(Message::binary(vec![0u8; 90])).unwrap();
    assert_eq!(
        s.send(Message::binary(vec![0u8; 20])),
        Err(SendError::Overflow)
    );
    assert!(s.overflowed());
    assert_eq!(s.close_reason(), Some(CloseReason::TransportError));
}

#[test]
fn client_close_packet_ends_pending_poll_with_noop() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Polling);
    s.on_poll();
    s.take_poll();
    s.on_poll();
    s.on_packet(Channel::Primary, Packet::Close, t0);
    assert_eq!(s.close_reason(), Some(CloseReason::TransportClose));
    assert_eq!(s.take_poll(), Some(vec![Packet::Noop]));
}

#[test]
fn ws_output_is_signalled_only_when_there_is_some() {
    let (mut s, t0) = open(ProtocolVersion::V4, TransportKind::Websocket);
    // The open packet is waiting.
    assert!(s.has_ws_output());
    s.take_ws();
    assert!(!s.has_ws_output());
    s.send(Message::text("a")).unwrap();
    assert!(s.has_ws_output());
    s.take_ws();
    assert!(!s.has_ws_output());
    s.close(CloseReason::ForcedClose, t0);
    assert!(s.has_ws_output());
}

#[test]
fn a_new_queue_starts_with_the_room_the_last_batch_needed() {
    let (mut s, _) = open(ProtocolVersion::V4, TransportKind::Websocket);
    s.take_ws();
    for _ in 0..10 {
        s.send(Message::text("x")).unwrap();
    }
    assert_eq!(s.take_ws().packets.len(), 10);
    // Nothing is kept while idle.
    assert_eq!(s.outbox.capacity(), 0);
    s.send(Message::text("x")).unwrap();
    assert!(s.outbox.capacity() >= 10);
    // A bigger burst than the bound does not make every later queue that large.
    s.take_ws();
    s.cfg.max_buffered_bytes = usize::MAX;
    for _ in 0..BATCH_HINT_MAX * 2 {
        s.send(Message::text("x")).unwrap();
    }
    s.take_ws();
    s.send(Message::text("x")).unwrap();
    assert!(s.outbox.capacity() < BATCH_HINT_MAX * 2);
}
