//! Events that servers emit to each other (`server_side_emit`), as a node receives them from its
//! adapter: the handlers a namespace runs for them, and the answer a sender may wait for.
//!
//! The adapter carries the events between nodes; this module only owns what happens once one
//! arrived: [`Namespace::on_server_side_emit`](crate::Namespace::on_server_side_emit) handlers,
//! and [`ServerSideAck`], the one answer this node gives.

use std::sync::{Arc, Mutex};

use socketio_codec::Value;

type Answer = Box<dyn FnOnce(Value) + Send>;

/// Answers another node's server-side emit that asked for acknowledgements. Every handler of the
/// event gets a clone; the first answer is sent and the others are ignored, as the reference
/// does. Dropped unanswered, it sends nothing, and the sender counts this node as silent.
#[derive(Clone)]
pub struct ServerSideAck(Arc<Mutex<Option<Answer>>>);

impl std::fmt::Debug for ServerSideAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSideAck").finish_non_exhaustive()
    }
}

impl ServerSideAck {
    /// An answer that `send` hands to `f` (an adapter builds it to send the answer back).
    pub fn new(f: impl FnOnce(Value) + Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(Some(Box::new(f)))))
    }

    /// Sends this node's answer (one value, as the reference passes one). Only the first call
    /// of all the clones sends.
    pub fn send(&self, answer: Value) {
        let f = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(f) = f {
            f(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_answer_is_sent() {
        let (tx, rx) = std::sync::mpsc::channel();
        let ack = ServerSideAck::new(move |v| tx.send(v).unwrap());
        let other = ack.clone();
        ack.send(Value::from(1u64));
        other.send(Value::from(2u64));
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![Value::from(1u64)]);
    }
}
