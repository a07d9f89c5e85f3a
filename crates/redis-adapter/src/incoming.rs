//! What arrives from the other nodes: broadcasts to deliver here, requests to act on and
//! answer, and responses to this node's own requests.

use std::sync::Arc;

use bytes::Bytes;
use socketio_codec::Value;
use socketio_server::{Adapter, BroadcastOptions, ServerSideAck};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::{
    adapter::Node,
    message::{self, MessageError, kind, object},
};

impl Node {
    /// A broadcast published by another node.
    pub(crate) fn on_broadcast(&self, channel: &str, payload: Bytes) {
        if !channel.starts_with(&self.channels.broadcast) {
            return;
        }
        let broadcast = match message::decode_broadcast(payload) {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, %channel, "malformed broadcast from redis dropped");
                return;
            }
        };
        if broadcast.uid == self.uid || broadcast.packet.nsp != self.nsp.name() {
            return;
        }
        self.local.broadcast(broadcast.packet, &broadcast.opts);
    }

    /// A request or a response on one of this namespace's channels.
    pub(crate) fn on_request_or_response(self: &Arc<Self>, channel: &str, payload: Bytes) {
        let result = if channel == self.channels.request {
            self.on_request(payload)
        } else if channel == self.channels.response || channel == self.channels.specific_response {
            self.on_response(payload)
        } else {
            Ok(())
        };
        if let Err(e) = result {
            warn!(error = %e, %channel, "malformed message from redis dropped");
        }
    }

    fn on_response(&self, payload: Bytes) -> Result<(), MessageError> {
        let response = message::decode_object(payload)?;
        let Some(id) = response.get("requestId").and_then(Value::as_str) else {
            return Err(MessageError::Malformed("response without requestId"));
        };
        let waiting = self.pending().get(id).cloned();
        if let Some(tx) = waiting {
            let _ = tx.send(response);
        }
        Ok(())
    }

    fn on_request(self: &Arc<Self>, payload: Bytes) -> Result<(), MessageError> {
        let request = message::decode_object(payload)?;
        // This node applied its own requests locally when it sent them.
        if request.get("uid").and_then(Value::as_str) == Some(self.uid.as_str()) {
            return Ok(());
        }
        let Some(ty) = request.get("type").and_then(Value::as_u64) else {
            return Err(MessageError::Malformed("request without a type"));
        };
        let request_id = request.get("requestId").cloned().unwrap_or(Value::Null);
        let opts = || message::opts_from_value(request.get("opts"));
        let reply = |fields: Vec<(&str, Value)>| {
            let mut all = vec![("requestId", request_id.clone())];
            all.extend(fields);
            self.respond(&request, message::json(&object(all)));
        };
        match ty {
            kind::SOCKETS => {
                let opts = BroadcastOptions {
                    rooms: message::room_list_from(request.get("rooms"))?
                        .into_iter()
                        .collect(),
                    ..Default::default()
                };
                let ids = self.local.local_sockets(&opts);
                reply(vec![("sockets", message::room_list(&ids))]);
            }
            kind::ALL_ROOMS => {
                reply(vec![("rooms", message::room_list(&self.local.rooms()))]);
            }
            kind::REMOTE_JOIN | kind::REMOTE_LEAVE | kind::REMOTE_DISCONNECT
                if request.get("opts").is_some() =>
            {
                let opts = opts()?;
                let rooms = message::room_list_from(request.get("rooms"))?;
                match ty {
                    kind::REMOTE_JOIN => self.local.add_sockets(&opts, &rooms),
                    kind::REMOTE_LEAVE => self.local.del_sockets(&opts, &rooms),
                    _ => {
                        let close = request.get("close").and_then(Value::as_bool);
                        self.local.disconnect_sockets(&opts, close.unwrap_or(false));
                    }
                }
            }
            kind::REMOTE_JOIN | kind::REMOTE_LEAVE | kind::REMOTE_DISCONNECT => {
                // The older form: one socket by id, answered when it is here.
                let socket = request
                    .get("sid")
                    .and_then(Value::as_str)
                    .and_then(|sid| self.nsp.upgrade()?.socket(sid));
                let Some(socket) = socket else {
                    return Ok(());
                };
                let room = request.get("room").and_then(Value::as_str).unwrap_or("");
                match ty {
                    kind::REMOTE_JOIN => socket.join(room),
                    kind::REMOTE_LEAVE => socket.leave(room),
                    _ => {
                        let close = request.get("close").and_then(Value::as_bool);
                        socket.disconnect(close.unwrap_or(false));
                    }
                }
                reply(vec![]);
            }
            kind::REMOTE_FETCH => {
                let opts = opts()?;
                let sockets = self.local_socket_details(&opts);
                reply(vec![("sockets", Value::Array(sockets))]);
            }
            kind::SERVER_SIDE_EMIT => self.on_server_side_emit(&request)?,
            kind::BROADCAST => self.on_broadcast_with_ack(&request, opts()?)?,
            other => debug!(request_type = other, "unknown redis request type ignored"),
        }
        Ok(())
    }

    /// Another node's server-side emit, handed to the namespace's handlers; with a request id,
    /// the first answer goes back on the shared response channel, as the reference sends it.
    fn on_server_side_emit(&self, request: &Value) -> Result<(), MessageError> {
        let Some(args) = request.get("data").and_then(Value::as_array) else {
            return Err(MessageError::Malformed(
                "server-side emit without a data list",
            ));
        };
        let Some(nsp) = self.nsp.upgrade() else {
            return Ok(());
        };
        let ack = request.get("requestId").cloned().map(|request_id| {
            let link = self.link.clone();
            let channel = self.channels.response.clone();
            ServerSideAck::new(move |answer| {
                let response = object(vec![
                    ("type", Value::from(kind::SERVER_SIDE_EMIT)),
                    ("requestId", request_id),
                    ("data", answer),
                ]);
                link.publish(channel, message::json(&response));
            })
        });
        if !nsp.handle_server_side_emit(args.to_vec(), ack) {
            debug!(
                nsp = nsp.name(),
                "server-side emit with no handler here dropped"
            );
        }
        Ok(())
    }

    /// Another node's broadcast with acknowledgements: delivered here under a local ack id; the
    /// count, then each answer, go back to that node.
    fn on_broadcast_with_ack(
        self: &Arc<Self>,
        request: &Value,
        opts: BroadcastOptions,
    ) -> Result<(), MessageError> {
        let request_id = request.get("requestId").cloned().unwrap_or(Value::Null);
        let mut packet = request
            .get("packet")
            .ok_or(MessageError::Malformed(
                "broadcast request without a packet",
            ))
            .and_then(message::packet_from_value)?;
        let Some(nsp) = self.nsp.upgrade() else {
            return Ok(());
        };
        if packet.nsp != nsp.name() {
            return Ok(());
        }
        packet.id = Some(nsp.next_ack_id());
        let (tx, mut answers) = mpsc::unbounded_channel();
        let count = self.local.broadcast_with_ack(packet, &opts, tx);
        let node = self.clone();
        let request = request.clone();
        let wait = opts.flags.timeout.unwrap_or(self.config.request_timeout);
        tokio::spawn(async move {
            let count = count.await;
            let counted = object(vec![
                ("type", Value::from(kind::BROADCAST_CLIENT_COUNT)),
                ("requestId", request_id.clone()),
                ("clientCount", Value::from(count as u64)),
            ]);
            node.respond(&request, message::json(&counted));
            let deadline = tokio::time::Instant::now() + wait;
            for _ in 0..count {
                let Ok(Some(args)) = tokio::time::timeout_at(deadline, answers.recv()).await else {
                    break;
                };
                // The reference passes each client's first argument along.
                let answer = object(vec![
                    ("type", Value::from(kind::BROADCAST_ACK)),
                    ("requestId", request_id.clone()),
                    ("packet", args.into_iter().next().unwrap_or(Value::Null)),
                ]);
                node.respond(&request, message::msgpack(&answer));
            }
        });
        Ok(())
    }

    /// What a fetch from another node learns of each addressed local socket.
    fn local_socket_details(&self, opts: &BroadcastOptions) -> Vec<Value> {
        let Some(nsp) = self.nsp.upgrade() else {
            return Vec::new();
        };
        self.local
            .local_sockets(opts)
            .into_iter()
            .filter_map(|id| nsp.socket(&id))
            .map(|socket| {
                object(vec![
                    ("id", Value::from(&**socket.id())),
                    ("handshake", crate::handshake::describe(socket.handshake())),
                    ("rooms", message::room_list(&socket.rooms())),
                    ("data", Value::from(socket.data())),
                ])
            })
            .collect()
    }
}
