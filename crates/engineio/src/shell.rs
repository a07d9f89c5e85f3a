//! The IO side of one session: the pure [`Session`] behind a lock, plus the
//! handles of whatever IO currently serves it (the pending poll, the WebSocket
//! tasks, the timer task, the application's receiver).
//!
//! Every change goes through [`SessionHandle::with`], which runs the change and
//! then [`Inner::settle`]: hand the pending poll its answer, wake the WebSocket
//! tasks that have something to write, re-arm the timer, and, once the session
//! is closed, release everything and leave the session table.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Instant;

use tokio::sync::{Notify, oneshot};

use crate::config::{ProtocolVersion, TransportKind};
use crate::engine::EngineInner;
use crate::packet::{Message, Packet};
use crate::reason::CloseReason;
use crate::session::Session;

/// How a polling session's bodies are encoded, fixed by its first request as
/// in the reference.
#[derive(Clone, Debug, Default)]
pub(crate) struct PollingFlags {
    /// JSONP index (`j`), when the session polls through JSONP.
    pub(crate) jsonp: Option<String>,
    /// `b64=1`: the client cannot take binary bodies.
    pub(crate) b64: bool,
}

/// A WebSocket task attached to the session.
#[derive(Debug)]
pub(crate) struct WsLink {
    pub(crate) id: u64,
    pub(crate) wake: Arc<Notify>,
}

/// Everything behind the session's lock.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) machine: Session,
    pub(crate) poll_tx: Option<oneshot::Sender<Vec<Packet>>>,
    pub(crate) post_active: bool,
    pub(crate) primary_ws: Option<WsLink>,
    pub(crate) probe_ws: Option<WsLink>,
    /// The primary WebSocket was woken for output it has not taken yet. A broadcast queues a
    /// message for every recipient, often several before their tasks run: one wake covers them
    /// all, and the extra ones would each cost a notify and a pass of the task over an empty
    /// queue.
    primary_woken: bool,
    /// Received messages the application has not taken yet. A plain queue under
    /// the session's lock rather than a channel: a channel costs every idle
    /// session about 2 KiB before its first message.
    inbound: VecDeque<Message>,
    /// The application dropped its receiver: messages are discarded.
    receiver_gone: bool,
    armed: Option<Instant>,
    finalized: bool,
}

/// One live session, shared by its IO tasks and the application's handles.
#[derive(Debug)]
pub(crate) struct SessionHandle {
    pub(crate) sid: Arc<str>,
    pub(crate) protocol: ProtocolVersion,
    pub(crate) polling: PollingFlags,
    inner: Mutex<Inner>,
    timer: Notify,
    /// Wakes the application's [`crate::Receiver`]: a message arrived, or the session closed.
    readable: Notify,
    /// Wakes a transport waiting for room in `inbound`.
    room: Notify,
    /// How many messages `inbound` holds before the transports stop reading.
    incoming_queue: usize,
    pub(crate) closed: OnceLock<CloseReason>,
    engine: Weak<EngineInner>,
}

/// Source of WebSocket task ids.
static NEXT_WS_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id for a WebSocket task.
pub(crate) fn next_ws_id() -> u64 {
    NEXT_WS_ID.fetch_add(1, Ordering::Relaxed)
}

impl SessionHandle {
    /// Wraps a new session.
    pub(crate) fn new(
        sid: Arc<str>,
        machine: Session,
        polling: PollingFlags,
        incoming_queue: usize,
        engine: Weak<EngineInner>,
    ) -> Arc<SessionHandle> {
        Arc::new(SessionHandle {
            sid,
            protocol: machine.protocol(),
            polling,
            inner: Mutex::new(Inner {
                machine,
                poll_tx: None,
                post_active: false,
                primary_ws: None,
                probe_ws: None,
                primary_woken: false,
                inbound: VecDeque::new(),
                receiver_gone: false,
                armed: None,
                finalized: false,
            }),
            timer: Notify::new(),
            readable: Notify::new(),
            room: Notify::new(),
            incoming_queue: incoming_queue.max(1),
            closed: OnceLock::new(),
            engine,
        })
    }

    /// Locks the session state. A poisoned lock means a panic while holding it
    /// (our bug); the state is still used rather than spreading the panic.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the state, then settles the consequences.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut inner = self.lock();
        let r = f(&mut inner);
        self.settle(&mut inner);
        r
    }

    /// Hands a received message to the application. Called under the lock, in
    /// the same step that decoded it, so that messages received before a close
    /// are still delivered after it.
    pub(crate) fn deliver(&self, inner: &mut Inner, msg: Message) {
        if inner.receiver_gone {
            return;
        }
        inner.inbound.push_back(msg);
        // One consumer: a stored permit covers a receiver that is not waiting yet.
        self.readable.notify_one();
    }

    /// Waits while the application is `incoming_queue` messages behind; the
    /// transport does not read meanwhile. Returns at once on a closed session.
    pub(crate) async fn wait_for_room(&self) {
        loop {
            {
                let inner = self.lock();
                if inner.finalized
                    || inner.receiver_gone
                    || inner.inbound.len() < self.incoming_queue
                {
                    return;
                }
            }
            // A permit stored by a `recv` between the check and here is not lost.
            self.room.notified().await;
        }
    }

    /// The next received message; `None` once the session is closed and every
    /// message received before was taken.
    pub(crate) async fn next_inbound(&self) -> Option<Message> {
        loop {
            {
                let mut inner = self.lock();
                if let Some(msg) = self.pop_inbound(&mut inner) {
                    return Some(msg);
                }
                if inner.finalized {
                    return None;
                }
            }
            self.readable.notified().await;
        }
    }

    /// A received message the application has not taken yet, if any; never waits.
    pub(crate) fn try_next_inbound(&self) -> Option<Message> {
        self.pop_inbound(&mut self.lock())
    }

    fn pop_inbound(&self, inner: &mut Inner) -> Option<Message> {
        let msg = inner.inbound.pop_front()?;
        if inner.inbound.len() + 1 >= self.incoming_queue {
            self.room.notify_one();
        }
        if inner.inbound.is_empty() {
            // Idle sessions are the many: they keep no spare capacity
            // (one small allocation per message is the price).
            inner.inbound = VecDeque::new();
        }
        Some(msg)
    }

    /// The application dropped its receiver: nothing will read the queue again.
    pub(crate) fn drop_receiver(&self) {
        let mut inner = self.lock();
        inner.receiver_gone = true;
        inner.inbound = VecDeque::new();
        self.room.notify_waiters();
        self.room.notify_one();
    }

    /// Applies the machine's outputs to the IO handles.
    pub(crate) fn settle(&self, inner: &mut Inner) {
        // The upgrade completed: the probe becomes the primary transport.
        if inner.machine.transport() == TransportKind::Websocket && inner.primary_ws.is_none() {
            inner.primary_ws = inner.probe_ws.take();
            inner.primary_woken = false;
        }
        if let Some(answer) = inner.machine.take_poll() {
            if let Some(tx) = inner.poll_tx.take() {
                // The GET may be gone already; its guard then reports the abort.
                let _ = tx.send(answer);
            }
        }
        // Only a socket with work is woken: a wake with nothing to write would
        // come back here and wake it again, for ever. Its task settles right
        // after taking its output, which finds nothing left and clears the flag.
        if let Some(ws) = &inner.primary_ws {
            if !inner.machine.has_ws_output() {
                inner.primary_woken = false;
            } else if !inner.primary_woken {
                inner.primary_woken = true;
                crate::wakes::wake(&ws.wake);
            }
        }
        if let Some(ws) = &inner.probe_ws
            && inner.machine.has_probe_output()
        {
            crate::wakes::wake(&ws.wake);
        }
        let deadline = inner.machine.next_deadline();
        if deadline != inner.armed {
            inner.armed = deadline;
            self.timer.notify_one();
        }
        if let Some(reason) = inner.machine.close_reason() {
            self.finalize(inner, reason);
        }
    }

    fn finalize(&self, inner: &mut Inner, reason: CloseReason) {
        if inner.finalized {
            return;
        }
        inner.finalized = true;
        tracing::debug!(sid = %self.sid, reason = reason.as_str(), "session closed");
        // The reason is set before the receiver can see the end, so that it
        // always finds it.
        let _ = self.closed.set(reason);
        self.readable.notify_one();
        // Every waiting transport, and a permit for one about to wait.
        self.room.notify_waiters();
        self.room.notify_one();
        self.timer.notify_one();
        if let Some(engine) = self.engine.upgrade() {
            if inner.machine.overflowed() {
                engine.buffer_overflows.fetch_add(1, Ordering::Relaxed);
            }
            engine.remove(&self.sid);
        }
    }

    /// Runs the session's timers until it closes. One task per session.
    pub(crate) async fn run_timer(self: Arc<Self>) {
        loop {
            let deadline = {
                let inner = self.lock();
                if inner.finalized {
                    return;
                }
                inner.machine.next_deadline()
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at.into()) => {
                            self.with(|inner| inner.machine.on_timeout(Instant::now()));
                        }
                        _ = self.timer.notified() => {}
                    }
                }
                None => self.timer.notified().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use futures_util::FutureExt;

    use super::*;
    use crate::session::SessionConfig;

    /// A WebSocket session whose primary link is `wake`, with the open packet already taken.
    fn websocket_session(wake: &Arc<Notify>) -> Arc<SessionHandle> {
        let cfg = SessionConfig {
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            upgrade_timeout: Duration::from_secs(10),
            max_buffered_bytes: 1 << 20,
            close_timeout: Duration::from_secs(60),
        };
        let machine = Session::new(
            ProtocolVersion::V4,
            TransportKind::Websocket,
            cfg,
            Bytes::from_static(b"{}"),
            None,
            Instant::now(),
        );
        let handle = SessionHandle::new(
            "sid".into(),
            machine,
            PollingFlags::default(),
            16,
            Weak::new(),
        );
        handle.with(|inner| {
            inner.primary_ws = Some(WsLink {
                id: 1,
                wake: wake.clone(),
            })
        });
        assert!(woken(wake), "the open packet wakes the socket");
        take_output(&handle);
        handle
    }

    /// Whether a wake is waiting for the socket's task (and consumes it).
    fn woken(wake: &Notify) -> bool {
        wake.notified().now_or_never().is_some()
    }

    /// What the WebSocket task does once woken: take the output, then settle.
    fn take_output(handle: &SessionHandle) -> usize {
        let mut inner = handle.lock();
        let out = inner.machine.take_ws();
        handle.settle(&mut inner);
        out.packets.len()
    }

    fn send(handle: &SessionHandle) {
        let sent = handle.with(|inner| inner.machine.send(Message::text("x")));
        assert_eq!(sent, Ok(()));
    }

    #[test]
    fn one_wake_for_everything_queued_before_the_socket_takes_it() {
        let wake = Arc::new(Notify::new());
        let handle = websocket_session(&wake);
        assert!(!woken(&wake));

        for _ in 0..3 {
            send(&handle);
        }
        assert!(woken(&wake));
        assert!(!woken(&wake), "sends after the first do not wake again");
        assert_eq!(take_output(&handle), 3);

        // Taken: the next send wakes the socket again.
        send(&handle);
        assert!(woken(&wake));
        assert_eq!(take_output(&handle), 1);
        assert!(!woken(&wake));
    }

    #[test]
    fn a_close_after_queued_output_is_still_taken() {
        let wake = Arc::new(Notify::new());
        let handle = websocket_session(&wake);
        send(&handle);
        handle.with(|inner| {
            inner
                .machine
                .close(CloseReason::ForcedClose, Instant::now())
        });
        // The pending wake covers the close too: the task finds both when it runs.
        assert!(woken(&wake));
        let out = {
            let mut inner = handle.lock();
            let out = inner.machine.take_ws();
            handle.settle(&mut inner);
            out
        };
        assert_eq!(out.packets.len(), 1);
        assert!(out.close);
    }
}
