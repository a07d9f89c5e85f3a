//! The broadcast operator: whom to address (rooms, exceptions) and how (volatile, local, compress,
//! timeout), then what to do (emit, emit with acks, fetch, join, leave, disconnect).

use std::{sync::atomic::Ordering, time::Duration};

use socketio_codec::{Packet, Value};
use tokio::sync::mpsc;

use crate::{
    ack::BroadcastAckError,
    adapter::{BroadcastOptions, Room, SocketInfo},
    error::{EmitError, check_event_name},
    namespace::Namespace,
};

/// A broadcast being described. Built from a namespace or a socket; each method returns it for chaining.
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    nsp: Namespace,
    opts: BroadcastOptions,
}

impl BroadcastOperator {
    pub(crate) fn new(nsp: Namespace) -> Self {
        Self {
            nsp,
            opts: BroadcastOptions::default(),
        }
    }

    pub(crate) fn excluding(nsp: Namespace, room: Room) -> Self {
        let mut op = Self::new(nsp);
        op.opts.except.insert(room);
        op
    }

    /// Adds a room to address (sockets in any of the rooms are addressed).
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.opts.rooms.insert(room.into());
        self
    }

    /// Same as [`to`](Self::to).
    pub fn in_room(self, room: impl Into<Room>) -> Self {
        self.to(room)
    }

    /// Adds a room whose sockets are left out.
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.opts.except.insert(room.into());
        self
    }

    /// Recipients that cannot take the packet right now do not get it.
    pub fn volatile(mut self) -> Self {
        self.opts.flags.volatile = true;
        self
    }

    /// Only the sockets of this node.
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// Whether the transport should compress the packet.
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.flags.compress = compress;
        self
    }

    /// How long [`emit_with_ack`](Self::emit_with_ack) waits for every answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.flags.timeout = Some(timeout);
        self
    }

    /// The options as the adapter sees them.
    pub fn options(&self) -> &BroadcastOptions {
        &self.opts
    }

    /// Emits an event to every addressed socket. The packet is encoded once for all of them.
    pub fn emit(&self, event: &str, args: Vec<Value>) -> Result<(), EmitError> {
        check_event_name(event)?;
        let packet = Packet::event(self.nsp.name(), event, args, None);
        self.nsp.adapter().broadcast(packet, &self.opts);
        Ok(())
    }

    /// Emits an event that every addressed client acknowledges, and gathers the answers. Without a
    /// [`timeout`](Self::timeout) it waits as long as it takes; with one, a missing answer is a
    /// [`BroadcastAckError`] holding the answers that did arrive.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        args: Vec<Value>,
    ) -> Result<Result<Vec<Vec<Value>>, BroadcastAckError>, EmitError> {
        check_event_name(event)?;
        let id = self.nsp.0.ack_ids.fetch_add(1, Ordering::Relaxed);
        let packet = Packet::event(self.nsp.name(), event, args, Some(id));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let expected = self
            .nsp
            .adapter()
            .broadcast_with_ack(packet, &self.opts, tx);
        let deadline = self
            .opts
            .flags
            .timeout
            .map(|t| tokio::time::Instant::now() + t);
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
            () = &mut sleep => return Ok(Err(BroadcastAckError { responses, expected: 0 })),
        };
        while responses.len() < expected {
            tokio::select! {
                answer = rx.recv() => match answer {
                    Some(args) => responses.push(args),
                    // Every recipient is gone: what did not come will not.
                    None => break,
                },
                () = &mut sleep => break,
            }
        }
        if responses.len() < expected {
            return Ok(Err(BroadcastAckError {
                responses,
                expected,
            }));
        }
        Ok(Ok(responses))
    }

    /// The addressed sockets, on every node.
    pub async fn fetch_sockets(&self) -> Vec<SocketInfo> {
        self.nsp.adapter().fetch_sockets(&self.opts).await
    }

    /// Makes the addressed sockets join `rooms`.
    pub fn sockets_join(&self, rooms: &[Room]) {
        self.nsp.adapter().add_sockets(&self.opts, rooms);
    }

    /// Makes the addressed sockets leave `rooms`.
    pub fn sockets_leave(&self, rooms: &[Room]) {
        self.nsp.adapter().del_sockets(&self.opts, rooms);
    }

    /// Disconnects the addressed sockets; `close` also closes their whole connection.
    pub fn disconnect_sockets(&self, close: bool) {
        self.nsp.adapter().disconnect_sockets(&self.opts, close);
    }
}
