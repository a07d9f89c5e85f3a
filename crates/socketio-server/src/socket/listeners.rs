//! The listeners of a socket: event handlers, catch-all listeners both ways, event middlewares,
//! `disconnecting`, `disconnect` and error handlers; and the dispatch of one incoming event
//! through them. Handlers are cloned out of the lock before they run, so a handler may register
//! more listeners or emit without deadlocking.

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
};

use socketio_codec::{Packet, PacketKind, Value};

use super::Socket;
use crate::{ack::AckResponder, reason::DisconnectReason};

/// An event received from the client.
#[derive(Debug)]
pub struct Event {
    /// The event's name (a numeric name arrives as its decimal text).
    pub name: String,
    /// The arguments after the name; binary parts are [`Value::Binary`].
    pub args: Vec<Value>,
    /// Present when the client asked for an acknowledgement.
    pub ack: Option<AckResponder>,
}

type EventHandler = Arc<dyn Fn(Socket, Event) + Send + Sync>;
type AnyHandler = Arc<dyn Fn(&Socket, &str, &[Value]) + Send + Sync>;
type EventMiddleware = Arc<dyn Fn(&Socket, &mut Event) -> Result<(), String> + Send + Sync>;
type ReasonHandler = Arc<dyn Fn(&Socket, DisconnectReason) + Send + Sync>;
type ErrorHandler = Arc<dyn Fn(&Socket, &str) + Send + Sync>;

#[derive(Default)]
pub(super) struct Listeners {
    pub(super) events: HashMap<String, EventHandler>,
    pub(super) any_incoming: Vec<AnyHandler>,
    pub(super) any_outgoing: Vec<AnyHandler>,
    pub(super) middlewares: Vec<EventMiddleware>,
    pub(super) disconnecting: Vec<ReasonHandler>,
    pub(super) disconnect: Vec<ReasonHandler>,
    pub(super) error: Vec<ErrorHandler>,
}

impl Socket {
    pub(super) fn listeners_mut(&self) -> std::sync::RwLockWriteGuard<'_, Listeners> {
        self.0.listeners.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn listeners(&self) -> std::sync::RwLockReadGuard<'_, Listeners> {
        self.0.listeners.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles the client's event `name` (one handler per name; a later one replaces it). Handlers
    /// run on the connection's task in arrival order: spawn for long work.
    pub fn on(&self, name: &str, f: impl Fn(Socket, Event) + Send + Sync + 'static) -> &Self {
        self.listeners_mut()
            .events
            .insert(name.to_owned(), Arc::new(f));
        self
    }

    /// Sees every incoming event (name and arguments) before its handler.
    pub fn on_any(&self, f: impl Fn(&Socket, &str, &[Value]) + Send + Sync + 'static) -> &Self {
        self.listeners_mut().any_incoming.push(Arc::new(f));
        self
    }

    /// Sees every outgoing event (name and arguments), broadcasts included.
    pub fn on_any_outgoing(
        &self,
        f: impl Fn(&Socket, &str, &[Value]) + Send + Sync + 'static,
    ) -> &Self {
        self.listeners_mut().any_outgoing.push(Arc::new(f));
        self.0.has_outgoing_listeners.store(true, Ordering::Release);
        self
    }

    /// Adds a middleware on incoming events: it may change the event; an `Err` drops it and is
    /// reported to the socket's error handlers.
    pub fn use_middleware(
        &self,
        f: impl Fn(&Socket, &mut Event) -> Result<(), String> + Send + Sync + 'static,
    ) -> &Self {
        self.listeners_mut().middlewares.push(Arc::new(f));
        self
    }

    /// Runs when the socket is about to leave (its rooms are still there).
    pub fn on_disconnecting(
        &self,
        f: impl Fn(&Socket, DisconnectReason) + Send + Sync + 'static,
    ) -> &Self {
        self.listeners_mut().disconnecting.push(Arc::new(f));
        self
    }

    /// Runs once the socket has left.
    pub fn on_disconnect(
        &self,
        f: impl Fn(&Socket, DisconnectReason) + Send + Sync + 'static,
    ) -> &Self {
        self.listeners_mut().disconnect.push(Arc::new(f));
        self
    }

    /// Runs when an event middleware refuses an event.
    pub fn on_error(&self, f: impl Fn(&Socket, &str) + Send + Sync + 'static) -> &Self {
        self.listeners_mut().error.push(Arc::new(f));
        self
    }

    /// Whether [`notify_outgoing`](Self::notify_outgoing) has anything to run.
    pub(crate) fn has_outgoing_listeners(&self) -> bool {
        self.0.has_outgoing_listeners.load(Ordering::Acquire)
    }

    pub(crate) fn notify_outgoing(&self, packet: &Packet) {
        if !self.has_outgoing_listeners() {
            return;
        }
        let PacketKind::Event(args) = &packet.kind else {
            return;
        };
        let Some(name) = packet.event_name() else {
            return;
        };
        let handlers = self.listeners().any_outgoing.clone();
        for handler in handlers {
            handler(self, name, args.get(1..).unwrap_or_default());
        }
    }

    pub(super) fn on_event(&self, mut event: Event) {
        let (any, middlewares) = {
            let l = self.listeners();
            (l.any_incoming.clone(), l.middlewares.clone())
        };
        for listener in &any {
            listener(self, &event.name, &event.args);
        }
        for middleware in &middlewares {
            if let Err(message) = middleware(self, &mut event) {
                let handlers = self.listeners().error.clone();
                for handler in handlers {
                    handler(self, &message);
                }
                return;
            }
        }
        let handler = self.listeners().events.get(&event.name).cloned();
        match handler {
            Some(handler) => handler(self.clone(), event),
            None => tracing::trace!(sid = %self.0.id, event = %event.name, "no handler for event"),
        }
    }
}

/// A numeric event name as JavaScript would turn it into a listener key.
pub(super) fn event_name_text(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}
