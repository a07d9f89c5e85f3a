//! Acknowledgements: the ids a socket waits on, the futures that wait for them (one socket's
//! answer, or every answer of a broadcast), and the responder a handler uses to answer a client.
//!
//! It does not send packets: sockets and the adapter do, and register here what they wait for.

use std::{
    collections::HashMap,
    future::{Future, IntoFuture},
    pin::Pin,
    sync::Mutex,
    time::Duration,
};

use socketio_codec::{Packet, Value};
use tokio::sync::{mpsc, oneshot};

use crate::{adapter::BoxFuture, socket::Socket};

/// Why an awaited acknowledgement did not arrive.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AckError {
    /// The peer did not answer in time.
    #[error("operation has timed out")]
    Timeout,
    /// The socket disconnected before answering.
    #[error("socket has been disconnected")]
    Disconnected,
}

/// A broadcast with acknowledgements that did not gather every answer: the timeout expired, or
/// (without a timeout) every recipient that had not answered disconnected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("operation has timed out: {} of {expected} clients answered", responses.len())]
pub struct BroadcastAckError {
    /// The answers that did arrive, in arrival order.
    pub responses: Vec<Vec<Value>>,
    /// How many clients were sent the packet (0 when the timeout expired before every node
    /// said how many it reached).
    pub expected: usize,
}

/// Where an incoming ACK is delivered.
#[derive(Debug)]
pub(crate) enum AckSlot {
    /// A single emit waiting for this one socket.
    Once(oneshot::Sender<Vec<Value>>),
    /// A broadcast gathering answers from many sockets.
    Gather(mpsc::UnboundedSender<Vec<Value>>),
}

impl AckSlot {
    fn is_abandoned(&self) -> bool {
        match self {
            AckSlot::Once(tx) => tx.is_closed(),
            AckSlot::Gather(tx) => tx.is_closed(),
        }
    }

    fn deliver(self, args: Vec<Value>) {
        // A waiter that gave up (timeout) dropped its receiver; the late answer is dropped with it.
        match self {
            AckSlot::Once(tx) => drop(tx.send(args)),
            AckSlot::Gather(tx) => drop(tx.send(args)),
        }
    }
}

/// The acknowledgements one socket is waiting for, by ack id.
#[derive(Debug, Default)]
pub(crate) struct PendingAcks {
    slots: Mutex<HashMap<u64, AckSlot>>,
}

/// Above this many pending acks, abandoned slots (their waiter timed out) are swept on insert.
const SWEEP_THRESHOLD: usize = 64;

impl PendingAcks {
    pub(crate) fn insert(&self, id: u64, slot: AckSlot) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= SWEEP_THRESHOLD {
            slots.retain(|_, slot| !slot.is_abandoned());
        }
        slots.insert(id, slot);
    }

    /// Delivers a client's ACK; an id nobody waits for is ignored, as the reference does.
    pub(crate) fn resolve(&self, id: u64, args: Vec<Value>) {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(slot) = slot {
            slot.deliver(args);
        } else {
            tracing::debug!(id, "ack for an unknown id ignored");
        }
    }

    pub(crate) fn remove(&self, id: u64) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    /// Drops every waiter: they see [`AckError::Disconnected`].
    pub(crate) fn clear(&self) {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Answers a client's event that asked for an acknowledgement. Dropping it unanswered sends nothing.
#[derive(Debug)]
pub struct AckResponder {
    socket: Socket,
    id: u64,
}

impl AckResponder {
    pub(crate) fn new(socket: Socket, id: u64) -> Self {
        Self { socket, id }
    }

    /// The ack id the client chose.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends the acknowledgement with these arguments (binary parts allowed).
    pub fn send(self, args: Vec<Value>) {
        let packet = Packet::ack(self.socket.namespace_name(), self.id, args);
        self.socket.send_packet(&packet);
    }
}

/// Waits for one socket's acknowledgement, up to `timeout` when given.
pub(crate) async fn wait_once(
    rx: oneshot::Receiver<Vec<Value>>,
    timeout: Option<Duration>,
) -> Result<Vec<Value>, AckError> {
    match timeout {
        Some(t) => match tokio::time::timeout(t, rx).await {
            Ok(Ok(args)) => Ok(args),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => Err(AckError::Timeout),
        },
        None => rx.await.map_err(|_| AckError::Disconnected),
    }
}

/// The pending acknowledgement of [`Socket::emit_with_ack`]: await it for the client's answer.
#[derive(Debug)]
pub struct AckFuture {
    socket: Socket,
    id: u64,
    rx: oneshot::Receiver<Vec<Value>>,
    timeout: Option<Duration>,
}

impl AckFuture {
    pub(crate) fn new(socket: Socket, id: u64, rx: oneshot::Receiver<Vec<Value>>) -> Self {
        Self {
            socket,
            id,
            rx,
            timeout: None,
        }
    }

    /// Gives up after `timeout` with [`AckError::Timeout`] (counted from the await, as the
    /// packet already left).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl IntoFuture for AckFuture {
    type Output = Result<Vec<Value>, AckError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let result = wait_once(self.rx, self.timeout).await;
            if result.is_err() {
                self.socket.forget_ack(self.id);
            }
            result
        })
    }
}

/// The answers of a broadcast with acknowledgements
/// ([`BroadcastOperator::emit_with_ack`](crate::BroadcastOperator::emit_with_ack)).
pub struct BroadcastAckFuture {
    expected: BoxFuture<usize>,
    answers: mpsc::UnboundedReceiver<Vec<Value>>,
    deadline: Option<tokio::time::Instant>,
}

impl std::fmt::Debug for BroadcastAckFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastAckFuture")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl BroadcastAckFuture {
    /// `expected` resolves to how many clients were sent the packet; their answers come on
    /// `answers`; `timeout` runs from now, the moment the packet left.
    pub(crate) fn new(
        expected: BoxFuture<usize>,
        answers: mpsc::UnboundedReceiver<Vec<Value>>,
        timeout: Option<Duration>,
    ) -> Self {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        Self {
            expected,
            answers,
            deadline,
        }
    }
}

impl IntoFuture for BroadcastAckFuture {
    type Output = Result<Vec<Vec<Value>>, BroadcastAckError>;
    type IntoFuture = BoxFuture<Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(gather(self.expected, self.answers, self.deadline))
    }
}

/// Gathers answers until as many came as `expected` says were asked, the deadline passes, or
/// every recipient is gone.
async fn gather(
    expected: BoxFuture<usize>,
    mut answers: mpsc::UnboundedReceiver<Vec<Value>>,
    deadline: Option<tokio::time::Instant>,
) -> Result<Vec<Vec<Value>>, BroadcastAckError> {
    let sleep = async move {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);

    let mut responses = Vec::new();
    let expected = tokio::select! {
        n = expected => n,
        () = &mut sleep => return Err(BroadcastAckError { responses, expected: 0 }),
    };
    while responses.len() < expected {
        tokio::select! {
            answer = answers.recv() => match answer {
                Some(args) => responses.push(args),
                // Every waiting recipient disconnected: what did not come will not.
                None => break,
            },
            () = &mut sleep => break,
        }
    }
    if responses.len() < expected {
        return Err(BroadcastAckError {
            responses,
            expected,
        });
    }
    Ok(responses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(n: usize) -> BoxFuture<usize> {
        Box::pin(async move { n })
    }

    #[tokio::test]
    async fn gathers_every_answer() {
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(vec![Value::from(1u64)]).ok();
        tx.send(vec![Value::from(2u64)]).ok();
        let got = BroadcastAckFuture::new(ready(2), rx, Some(Duration::from_secs(5))).await;
        assert_eq!(
            got,
            Ok(vec![vec![Value::from(1u64)], vec![Value::from(2u64)]])
        );
    }

    #[tokio::test]
    async fn no_recipient_answers_at_once() {
        let (_tx, rx) = mpsc::unbounded_channel();
        assert_eq!(
            BroadcastAckFuture::new(ready(0), rx, None).await,
            Ok(vec![])
        );
    }

    #[tokio::test]
    async fn timeout_keeps_what_came() {
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(vec![Value::from("a")]).ok();
        let got = BroadcastAckFuture::new(ready(3), rx, Some(Duration::from_millis(20))).await;
        let err = got.err();
        assert_eq!(
            err.as_ref().map(|e| (e.responses.len(), e.expected)),
            Some((1, 3))
        );
        drop(tx);
    }

    #[tokio::test]
    async fn recipients_gone_ends_the_wait_without_timeout() {
        let (tx, rx) = mpsc::unbounded_channel();
        tx.send(vec![]).ok();
        drop(tx);
        let got = BroadcastAckFuture::new(ready(2), rx, None).await;
        assert_eq!(got.err().map(|e| e.expected), Some(2));
    }

    #[test]
    fn pending_acks_deliver_once_and_ignore_unknown_ids() {
        let acks = PendingAcks::default();
        let (tx, mut rx) = oneshot::channel();
        acks.insert(4, AckSlot::Once(tx));
        acks.resolve(9, vec![]);
        acks.resolve(4, vec![Value::from(true)]);
        assert_eq!(rx.try_recv().ok(), Some(vec![Value::from(true)]));
        let (gtx, mut grx) = mpsc::unbounded_channel();
        acks.insert(5, AckSlot::Gather(gtx));
        acks.clear();
        assert!(grx.try_recv().is_err());
    }
}
