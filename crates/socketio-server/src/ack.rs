//! Acknowledgements: the ids a socket waits on, the futures that wait for them, and the responder a
//! handler uses to answer a client's ack.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use socketio_codec::{Packet, Value};
use tokio::sync::{mpsc, oneshot};

use crate::socket::Socket;

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

/// A broadcast with acknowledgements that did not gather every answer in time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("operation has timed out: {} of {expected} clients answered", responses.len())]
pub struct BroadcastAckError {
    /// The answers that did arrive, in arrival order.
    pub responses: Vec<Vec<Value>>,
    /// How many clients were sent the packet.
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
