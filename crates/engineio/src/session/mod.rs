//! The Engine.IO session as a pure state machine: no sockets, no tasks, no clock.
//!
//! The IO shell feeds it events (packets from a transport, a poll arriving or
//! going away, a WebSocket opening or closing, the application sending) together
//! with the current time, and reads back what to do: the packets for the
//! pending poll or for a WebSocket, the next instant it wants to be woken at,
//! and the close reason once the session is over.
//!
//! Heartbeat: in v4 "the server sends a ping packet every `pingInterval` ms,
//! and the client has `pingTimeout` ms to send a pong packet back"; in v3 the
//! client pings and the server answers, giving up after `pingInterval +
//! pingTimeout` without a ping. Upgrade: a second transport (the probe) opens,
//! sends `2probe`, gets `3probe`, and switches with `5`; meanwhile polls are
//! answered with a noop so the client can pause polling.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::{ProtocolVersion, TransportKind};
use crate::packet::{Message, Packet};
use crate::reason::CloseReason;

#[cfg(test)]
mod tests;

/// The most room a new outgoing queue starts with (see `Session::last_batch`): a burst much
/// larger than usual costs a few more reallocations rather than a large allocation for every
/// queue after it.
const BATCH_HINT_MAX: usize = 256;

/// Timing and limit options of one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// See [`crate::EngineConfig::ping_interval`].
    pub ping_interval: Duration,
    /// See [`crate::EngineConfig::ping_timeout`].
    pub ping_timeout: Duration,
    /// See [`crate::EngineConfig::upgrade_timeout`].
    pub upgrade_timeout: Duration,
    /// See [`crate::EngineConfig::max_buffered_bytes`].
    pub max_buffered_bytes: usize,
    /// See [`crate::EngineConfig::close_timeout`].
    pub close_timeout: Duration,
}

/// Which transport of the session a packet or event concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// The transport currently carrying the session.
    Primary,
    /// The WebSocket being probed for an upgrade.
    Probe,
}

/// Why a send was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session is closing or closed.
    #[error("session closed")]
    Closed,
    /// The outgoing queue would exceed `max_buffered_bytes`; the session is now
    /// closed with `transport error`.
    #[error("outgoing queue over its limit")]
    Overflow,
}

/// Life cycle of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// Flushing the queue before closing with this reason.
    Closing(CloseReason),
    Closed(CloseReason),
}

/// An upgrade in progress.
#[derive(Clone, Copy, Debug)]
struct Upgrade {
    deadline: Instant,
    /// `2probe` was answered: polls now get a noop.
    probed: bool,
}

/// What a primary WebSocket should write now.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WsOutput {
    /// Packets to send, in order.
    pub packets: Vec<Packet>,
    /// Close the WebSocket after sending them.
    pub close: bool,
}

/// One Engine.IO session.
#[derive(Debug)]
pub struct Session {
    protocol: ProtocolVersion,
    cfg: SessionConfig,
    transport: TransportKind,
    state: State,
    outbox: VecDeque<Packet>,
    outbox_bytes: usize,
    /// How many packets the last drain handed over, up to [`BATCH_HINT_MAX`] and rounded up to a
    /// power of two. The queue given away left none behind, so the next one starts with this much
    /// room: a busy session (a broadcast recipient) then allocates once per batch instead of
    /// growing by doubling. The rounding keeps the sizes few, which the allocator serves faster
    /// when a thousand recipients each allocate one.
    last_batch: usize,
    /// A polling GET is waiting for data.
    poll_pending: bool,
    /// What a still-pending poll gets once the session is closed.
    final_poll: Packet,
    /// v4: when the next ping goes out.
    next_ping: Option<Instant>,
    /// v4: pong deadline; v3: deadline for the client's next ping.
    ping_deadline: Option<Instant>,
    /// v4: the pong deadline was already pushed back once in this cycle.
    refreshed: bool,
    upgrade: Option<Upgrade>,
    probe_out: Vec<Packet>,
    probe_close: bool,
    close_deadline: Option<Instant>,
    overflowed: bool,
}

impl Session {
    /// Opens a session: queues the open packet (and the initial message) and
    /// starts the heartbeat clock.
    pub fn new(
        protocol: ProtocolVersion,
        transport: TransportKind,
        cfg: SessionConfig,
        open: Bytes,
        initial: Option<Message>,
        now: Instant,
    ) -> Session {
        let mut s = Session {
            protocol,
            cfg,
            transport,
            state: State::Open,
            outbox: VecDeque::new(),
            outbox_bytes: 0,
            last_batch: 0,
            poll_pending: false,
            final_poll: Packet::Close,
            next_ping: None,
            ping_deadline: None,
            refreshed: false,
            upgrade: None,
            probe_out: Vec::new(),
            probe_close: false,
            close_deadline: None,
            overflowed: false,
        };
        s.push(Packet::Open(open));
        if let Some(msg) = initial {
            s.push(Packet::Message(msg));
        }
        match protocol {
            // "the first ping one interval after open": never at once.
            ProtocolVersion::V4 => s.next_ping = Some(now + cfg.ping_interval),
            ProtocolVersion::V3 => {
                s.ping_deadline = Some(now + cfg.ping_interval + cfg.ping_timeout)
            }
        }
        s
    }

    /// The protocol revision.
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// The transport carrying the session now.
    pub fn transport(&self) -> TransportKind {
        self.transport
    }

    /// Whether the session is fully closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    /// Whether the session accepts no more messages (closing or closed).
    pub fn is_closing(&self) -> bool {
        !matches!(self.state, State::Open)
    }

    /// The close reason, once closed.
    pub fn close_reason(&self) -> Option<CloseReason> {
        match self.state {
            State::Closed(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the last close came from a send over `max_buffered_bytes`.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Whether a transport could take a message right now.
    pub fn is_writable(&self) -> bool {
        matches!(self.state, State::Open)
            && match self.transport {
                TransportKind::Polling => self.poll_pending && self.outbox.is_empty(),
                TransportKind::Websocket => self.outbox.is_empty(),
            }
    }

    /// Whether an upgrade is in progress.
    pub fn is_upgrading(&self) -> bool {
        self.upgrade.is_some()
    }

    /// Bytes of packet data waiting in the outgoing queue.
    pub fn buffered_bytes(&self) -> usize {
        self.outbox_bytes
    }

    /// The earliest instant at which [`Session::on_timeout`] has work to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        // Folded pairwise rather than through `flatten().min()`: the shell asks after every
        // change, and this form compiles to a few comparisons.
        let upgrade = self.upgrade.map(|u| u.deadline);
        [self.ping_deadline, upgrade, self.close_deadline]
            .into_iter()
            .fold(self.next_ping, |earliest, d| match (earliest, d) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            })
    }

    /// Queues one message.
    pub fn send(&mut self, msg: Message) -> Result<(), SendError> {
        self.send_all(std::iter::once(msg))
    }

    /// Queues several messages back to back, or none of them.
    pub fn send_all(&mut self, msgs: impl IntoIterator<Item = Message>) -> Result<(), SendError> {
        if self.is_closing() {
            return Err(SendError::Closed);
        }
        // Queued first and checked after: over the limit, the session closes and
        // its queue is dropped whole, so nothing of these messages goes out.
        for msg in msgs {
            self.push(Packet::Message(msg));
        }
        if self.outbox_bytes > self.cfg.max_buffered_bytes {
            // Never drop silently: the peer cannot keep up, so the session ends.
            self.overflowed = true;
            self.close_now(CloseReason::TransportError);
            return Err(SendError::Overflow);
        }
        Ok(())
    }

    /// A packet arrived on `channel`. Returns the message to hand to the
    /// application, if the packet carried one.
    pub fn on_packet(&mut self, channel: Channel, packet: Packet, now: Instant) -> Option<Message> {
        if channel == Channel::Probe {
            self.on_probe_packet(packet);
            return None;
        }
        if self.state != State::Open {
            return None;
        }
        // v4: any packet but a pong pushes the pong deadline back, once per ping.
        if self.protocol == ProtocolVersion::V4
            && self.ping_deadline.is_some()
            && !self.refreshed
            && !matches!(packet, Packet::Pong(_))
        {
            self.ping_deadline = Some(now + self.cfg.ping_timeout);
            self.refreshed = true;
        }
        match (packet, self.protocol) {
            (Packet::Ping(_), ProtocolVersion::V3) => {
                self.ping_deadline = Some(now + self.cfg.ping_interval + self.cfg.ping_timeout);
                // The reference answers a bare `3`, whatever the ping carried (only
                // the upgrade probe, on its own channel, echoes `probe`).
                self.push(Packet::Pong(Bytes::new()));
            }
            (Packet::Pong(_), ProtocolVersion::V4) => {
                self.ping_deadline = None;
                self.next_ping = Some(now + self.cfg.ping_interval);
            }
            // A ping from a v4 client or a pong from a v3 one: wrong heartbeat direction.
            (Packet::Ping(_), ProtocolVersion::V4) | (Packet::Pong(_), ProtocolVersion::V3) => {
                tracing::debug!("invalid heartbeat direction");
                self.close_now(CloseReason::TransportError);
            }
            (Packet::Message(m), _) => return Some(m),
            (Packet::Close, _) => {
                // The client closes: a pending poll ends with a noop, not a close.
                self.final_poll = Packet::Noop;
                self.close_now(CloseReason::TransportClose);
            }
            (Packet::Open(_) | Packet::Upgrade | Packet::Noop, _) => {}
        }
        None
    }

    /// A packet on `channel` could not be decoded.
    pub fn on_parse_error(&mut self, channel: Channel) {
        match channel {
            Channel::Primary => self.close_now(CloseReason::ParseError),
            Channel::Probe => self.abort_upgrade(),
        }
    }

    /// A WebSocket for this session opened: starts an upgrade. Returns `false`
    /// when the probe must be refused (closed session, upgrade already running,
    /// or already upgraded).
    pub fn on_probe_open(&mut self, now: Instant) -> bool {
        if self.is_closing() || self.upgrade.is_some() || self.transport != TransportKind::Polling {
            return false;
        }
        self.upgrade = Some(Upgrade {
            deadline: now + self.cfg.upgrade_timeout,
            probed: false,
        });
        self.probe_close = false;
        true
    }

    /// A polling GET arrived. Returns `false` when another GET is already
    /// pending: the session then closes (`transport error`), the old poll is
    /// answered with a close packet, and the new request gets HTTP 400.
    pub fn on_poll(&mut self) -> bool {
        if self.poll_pending {
            tracing::debug!("overlapping polling GET");
            self.close_now(CloseReason::TransportError);
            return false;
        }
        self.poll_pending = true;
        true
    }

    /// The pending GET went away before it was answered (client aborted).
    pub fn on_poll_aborted(&mut self) {
        if self.poll_pending {
            self.poll_pending = false;
            self.close_now(CloseReason::TransportError);
        }
    }

    /// The answer for the pending poll, if it must be answered now.
    #[inline]
    pub fn take_poll(&mut self) -> Option<Vec<Packet>> {
        // The shell asks after every change (every message a broadcast queues), and most of the
        // time no poll is waiting: that check stays inline.
        if !self.poll_pending {
            return None;
        }
        self.answer_poll()
    }

    fn answer_poll(&mut self) -> Option<Vec<Packet>> {
        let answer = match self.state {
            State::Closed(_) => vec![self.final_poll.clone()],
            // After the upgrade the old transport only gets a noop.
            _ if self.transport == TransportKind::Websocket => vec![Packet::Noop],
            State::Closing(reason) => {
                let mut packets = self.drain();
                packets.push(Packet::Close);
                self.state = State::Closed(reason);
                packets
            }
            State::Open if !self.outbox.is_empty() => self.drain(),
            State::Open if self.upgrade.is_some_and(|u| u.probed) => vec![Packet::Noop],
            State::Open => return None,
        };
        self.poll_pending = false;
        Some(answer)
    }

    /// What the primary WebSocket must write now.
    pub fn take_ws(&mut self) -> WsOutput {
        if self.transport != TransportKind::Websocket {
            return WsOutput::default();
        }
        match self.state {
            State::Open => WsOutput {
                packets: self.drain(),
                close: false,
            },
            State::Closing(reason) => {
                self.state = State::Closed(reason);
                WsOutput {
                    packets: self.drain(),
                    close: true,
                }
            }
            State::Closed(_) => WsOutput {
                packets: Vec::new(),
                close: true,
            },
        }
    }

    /// Whether [`Session::take_ws`] has something for the primary WebSocket:
    /// packets to write, or a close to carry out.
    pub fn has_ws_output(&self) -> bool {
        self.transport == TransportKind::Websocket
            && (!self.outbox.is_empty() || self.state != State::Open)
    }

    /// Whether [`Session::take_probe`] has something for the probe WebSocket.
    pub fn has_probe_output(&self) -> bool {
        !self.probe_out.is_empty() || self.probe_close
    }

    /// What the probe WebSocket must write now, and whether to close it after.
    pub fn take_probe(&mut self) -> (Vec<Packet>, bool) {
        (std::mem::take(&mut self.probe_out), self.probe_close)
    }

    /// A transport closed (`error`: it failed rather than closed cleanly).
    pub fn on_transport_closed(&mut self, channel: Channel, error: bool) {
        match channel {
            Channel::Probe => self.abort_upgrade(),
            Channel::Primary => {
                let reason = if error {
                    CloseReason::TransportError
                } else {
                    CloseReason::TransportClose
                };
                self.close_now(reason);
            }
        }
    }

    /// Runs the timers that are due at `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.close_deadline.is_some_and(|d| d <= now) {
            // No GET came to carry the close packet: give up on it.
            let reason = match self.state {
                State::Closing(r) => r,
                _ => CloseReason::TransportClose,
            };
            self.close_now(reason);
            return;
        }
        if self.ping_deadline.is_some_and(|d| d <= now) {
            self.close_now(CloseReason::PingTimeout);
            return;
        }
        if self.upgrade.is_some_and(|u| u.deadline <= now) {
            tracing::debug!("upgrade timed out");
            self.abort_upgrade();
        }
        if self.next_ping.is_some_and(|d| d <= now) && self.state == State::Open {
            self.next_ping = None;
            self.refreshed = false;
            self.ping_deadline = Some(now + self.cfg.ping_timeout);
            self.push(Packet::Ping(Bytes::new()));
        }
    }

    /// Closes after flushing what is queued: the last poll carries a close
    /// packet; a WebSocket is closed once written.
    pub fn close(&mut self, reason: CloseReason, now: Instant) {
        if self.state != State::Open {
            return;
        }
        self.abort_upgrade();
        self.state = State::Closing(reason);
        self.next_ping = None;
        self.ping_deadline = None;
        if self.transport == TransportKind::Polling && !self.poll_pending {
            self.close_deadline = Some(now + self.cfg.close_timeout);
        }
    }

    /// Closes at once: nothing more is sent except a close packet to a pending poll.
    pub fn close_now(&mut self, reason: CloseReason) {
        if self.is_closed() {
            return;
        }
        self.abort_upgrade();
        self.state = State::Closed(reason);
        self.outbox.clear();
        self.outbox_bytes = 0;
        self.next_ping = None;
        self.ping_deadline = None;
        self.close_deadline = None;
    }

    fn on_probe_packet(&mut self, packet: Packet) {
        let Some(upgrade) = self.upgrade.as_mut() else {
            return;
        };
        match packet {
            Packet::Ping(data) if data.as_ref() == b"probe" => {
                upgrade.probed = true;
                self.probe_out.push(Packet::Pong(data));
            }
            Packet::Upgrade if self.state == State::Open => {
                self.upgrade = None;
                self.transport = TransportKind::Websocket;
            }
            _ => {
                tracing::debug!("unexpected packet during upgrade");
                self.abort_upgrade();
            }
        }
    }

    fn abort_upgrade(&mut self) {
        if self.upgrade.take().is_some() {
            self.probe_out.clear();
            self.probe_close = true;
        }
    }

    fn push(&mut self, packet: Packet) {
        if self.outbox.capacity() == 0 {
            self.outbox.reserve(self.last_batch);
        }
        self.outbox_bytes += packet.data_len();
        self.outbox.push_back(packet);
    }

    /// Hands the whole queue over, allocation included: no copy, and an idle
    /// session keeps no spare capacity.
    fn drain(&mut self) -> Vec<Packet> {
        self.outbox_bytes = 0;
        self.last_batch = self.outbox.len().min(BATCH_HINT_MAX).next_power_of_two();
        Vec::from(std::mem::take(&mut self.outbox))
    }
}
