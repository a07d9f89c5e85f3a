//! The WebSocket transport: the handshake answer, then one task per
//! connection that owns the socket, reads packets into the session and writes
//! what the session queued (feeding every frame, then flushing once).
//!
//! Limits: a message over `maxPayload` closes the connection with 1009, a
//! text frame that is not UTF-8 with 1007. Read and write buffers are small
//! (see [`crate::EngineConfig::ws_read_buffer`]) because idle connections
//! dominate real deployments.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;

use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};

use crate::config::ProtocolVersion;
use crate::engine::{EngineInner, ReqBody};
use crate::error::RequestError;
use crate::http_util::EngineBody;
use crate::packet::{Message, Packet, WsFrame};
use crate::session::Channel;
use crate::shell::{SessionHandle, WsLink, next_ws_id};

type Ws = WebSocketStream<WsIo>;

/// How a WebSocket's connection reaches its task once the 101 answer is out.
#[derive(Debug)]
pub(crate) enum UpgradeIo {
    /// From a hyper server, which owns the connection until then.
    Hyper(OnUpgrade),
    /// From the engine's own HTTP server ([`crate::HttpServer`]).
    Raw(oneshot::Receiver<RawUpgrade>),
}

/// A connection handed over by the engine's own HTTP server, with the bytes
/// it had already read past the upgrade request.
#[derive(Debug)]
pub(crate) struct RawUpgrade {
    pub(crate) stream: TcpStream,
    pub(crate) read: Vec<u8>,
}

impl UpgradeIo {
    /// The WebSocket, once the connection is handed over; `None` if it never is.
    async fn into_ws(self, config: WebSocketConfig) -> Option<Ws> {
        match self {
            UpgradeIo::Hyper(up) => match up.await {
                Ok(upgraded) => Some(
                    WebSocketStream::from_raw_socket(
                        WsIo::Hyper(TokioIo::new(upgraded)),
                        Role::Server,
                        Some(config),
                    )
                    .await,
                ),
                Err(e) => {
                    tracing::debug!(error = %e, "WebSocket upgrade failed");
                    None
                }
            },
            UpgradeIo::Raw(rx) => {
                let RawUpgrade { stream, read } = rx.await.ok()?;
                let io = WsIo::Tcp(stream);
                Some(if read.is_empty() {
                    WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await
                } else {
                    WebSocketStream::from_partially_read(io, read, Role::Server, Some(config)).await
                })
            }
        }
    }
}

/// The connection under a WebSocket: a plain TCP stream from the engine's own
/// server, or hyper's upgraded connection.
#[derive(Debug)]
pub(crate) enum WsIo {
    Tcp(TcpStream),
    Hyper(TokioIo<hyper::upgrade::Upgraded>),
}

impl AsyncRead for WsIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            WsIo::Hyper(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WsIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WsIo::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            WsIo::Hyper(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WsIo::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            WsIo::Hyper(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            WsIo::Tcp(s) => s.is_write_vectored(),
            WsIo::Hyper(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(s) => Pin::new(s).poll_flush(cx),
            WsIo::Hyper(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            WsIo::Hyper(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Whether the request asks for a WebSocket upgrade.
pub(crate) fn is_upgrade_request(h: &HeaderMap) -> bool {
    h.get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// The RFC 6455 handshake headers; a bad handshake is a plain 400 before upgrading.
pub(crate) fn check_handshake_headers(h: &HeaderMap) -> Result<(), RequestError> {
    let version_ok = h
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    if !version_ok || h.get(header::SEC_WEBSOCKET_KEY).is_none() {
        return Err(RequestError::BadRequest);
    }
    Ok(())
}

fn switching_protocols(h: &HeaderMap) -> Result<Response<EngineBody>, RequestError> {
    check_handshake_headers(h)?;
    let key = h
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(RequestError::BadRequest)?;
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
        .map_err(|_| RequestError::BadRequest)?;
    let mut res = crate::http_util::empty(StatusCode::SWITCHING_PROTOCOLS);
    let out = res.headers_mut();
    out.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    out.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    out.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Ok(res)
}

fn ws_config(engine: &EngineInner) -> WebSocketConfig {
    let cfg = &engine.config;
    WebSocketConfig::default()
        .read_buffer_size(cfg.ws_read_buffer)
        .write_buffer_size(cfg.ws_write_buffer)
        .max_write_buffer_size(cfg.max_buffered_bytes.max(cfg.ws_write_buffer + 1))
        .max_message_size(Some(cfg.max_payload))
        .max_frame_size(Some(cfg.max_payload))
}

/// A session opened directly over WebSocket: this connection is its primary transport.
pub(crate) fn open_new(
    engine: &Arc<EngineInner>,
    handle: Arc<SessionHandle>,
    req: &Request<ReqBody>,
    up: UpgradeIo,
) -> Result<Response<EngineBody>, RequestError> {
    let res = switching_protocols(req.headers())?;
    let id = next_ws_id();
    let wake = Arc::new(Notify::new());
    handle.with(|inner| {
        inner.primary_ws = Some(WsLink {
            id,
            wake: wake.clone(),
        })
    });
    spawn(engine, handle, up, id, wake);
    Ok(res)
}

/// A WebSocket for an existing session: the upgrade probe, or refused.
pub(crate) fn upgrade_existing(
    engine: &Arc<EngineInner>,
    handle: Arc<SessionHandle>,
    req: &Request<ReqBody>,
    up: UpgradeIo,
) -> Result<Response<EngineBody>, RequestError> {
    let res = switching_protocols(req.headers())?;
    let id = next_ws_id();
    let wake = Arc::new(Notify::new());
    let accepted = handle.with(|inner| {
        let ok = inner.probe_ws.is_none() && inner.machine.on_probe_open(Instant::now());
        if ok {
            inner.probe_ws = Some(WsLink {
                id,
                wake: wake.clone(),
            });
        }
        ok
    });
    if accepted {
        spawn(engine, handle, up, id, wake);
    } else {
        // Upgrading twice, or after the upgrade: the reference closes the new socket.
        tracing::debug!(sid = %handle.sid, "second WebSocket for a session refused");
        let config = ws_config(engine);
        tokio::spawn(async move {
            if let Some(mut ws) = up.into_ws(config).await {
                let _ = ws.close(None).await;
            }
        });
    }
    Ok(res)
}

fn spawn(
    engine: &Arc<EngineInner>,
    handle: Arc<SessionHandle>,
    up: UpgradeIo,
    id: u64,
    wake: Arc<Notify>,
) {
    let config = ws_config(engine);
    // This task lives as long as the connection, and idle connections are
    // most of them: the hand-over future is boxed (it ends once the socket
    // is ready) and the socket is held here once, lent to `run`.
    tokio::spawn(async move {
        let Some(mut ws) = Box::pin(up.into_ws(config)).await else {
            return detach(&handle, id, true);
        };
        run(&mut ws, &handle, id, &wake).await;
    });
}

/// Which role this task's socket has in the session now.
fn role(handle: &SessionHandle, id: u64) -> Option<Channel> {
    let inner = handle.lock();
    if inner.primary_ws.as_ref().is_some_and(|w| w.id == id) {
        Some(Channel::Primary)
    } else if inner.probe_ws.as_ref().is_some_and(|w| w.id == id) {
        Some(Channel::Probe)
    } else {
        None
    }
}

/// Removes this socket from the session, telling the machine it closed.
fn detach(handle: &SessionHandle, id: u64, error: bool) {
    handle.with(|inner| {
        if inner.primary_ws.as_ref().is_some_and(|w| w.id == id) {
            inner.machine.on_transport_closed(Channel::Primary, error);
        } else if inner.probe_ws.as_ref().is_some_and(|w| w.id == id) {
            inner.probe_ws = None;
            inner.machine.on_transport_closed(Channel::Probe, error);
        }
    });
}

/// What the read side of the loop decided.
enum Read {
    Continue,
    /// Stop, after sending this close frame (if any); `error` if the peer failed.
    Stop {
        close: Option<CloseFrame>,
        error: bool,
    },
}

async fn run(ws: &mut Ws, handle: &Arc<SessionHandle>, id: u64, wake: &Notify) {
    // Something may already be queued (the open packet of a new session).
    wake.notify_one();
    let (close, error) = loop {
        tokio::select! {
            msg = ws.next() => {
                match on_read(handle, id, msg) {
                    Read::Continue => {
                        // Waits while the application is behind: the socket is not read meanwhile.
                        handle.wait_for_room().await;
                    }
                    Read::Stop { close, error } => break (close, error),
                }
            }
            _ = wake.notified() => {
                match write(ws, handle, id).await {
                    Ok(false) => {}
                    Ok(true) => break (None, false),
                    Err(()) => break (None, true),
                }
            }
        }
    };
    if let Some(frame) = close {
        let _ = ws.send(WsMessage::Close(Some(frame))).await;
    } else if !error {
        let _ = ws.close(None).await;
    }
    detach(handle, id, error);
}

fn on_read(handle: &SessionHandle, id: u64, msg: Option<Result<WsMessage, WsError>>) -> Read {
    let protocol = handle.protocol;
    let decoded = match msg {
        Some(Ok(WsMessage::Text(t))) => Packet::decode_ws_text(t.as_bytes(), protocol),
        Some(Ok(WsMessage::Binary(b))) => Packet::decode_ws_binary(b, protocol),
        Some(Ok(WsMessage::Close(_))) | None => {
            return Read::Stop {
                close: None,
                error: false,
            };
        }
        Some(Ok(_)) => return Read::Continue,
        Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
            tracing::debug!(sid = %handle.sid, size, max_size, "WebSocket message over maxPayload");
            return Read::Stop {
                close: Some(close_frame(CloseCode::Size)),
                error: true,
            };
        }
        Some(Err(WsError::Utf8(_))) => {
            tracing::debug!(sid = %handle.sid, "invalid UTF-8 in a text frame");
            return Read::Stop {
                close: Some(close_frame(CloseCode::Invalid)),
                error: true,
            };
        }
        Some(Err(e)) => {
            tracing::debug!(sid = %handle.sid, error = %e, "WebSocket read failed");
            return Read::Stop {
                close: None,
                error: true,
            };
        }
    };
    let Some(channel) = role(handle, id) else {
        return Read::Stop {
            close: None,
            error: false,
        };
    };
    let now = Instant::now();
    handle.with(|inner| match decoded {
        Ok(packet) => {
            tracing::trace!(sid = %handle.sid, ?packet, ?channel, "received over WebSocket");
            if let Some(m) = inner.machine.on_packet(channel, packet, now) {
                handle.deliver(inner, m);
            }
        }
        Err(e) => {
            tracing::debug!(sid = %handle.sid, error = %e, "bad WebSocket packet");
            inner.machine.on_parse_error(channel);
        }
    });
    Read::Continue
}

fn close_frame(code: CloseCode) -> CloseFrame {
    CloseFrame {
        code,
        reason: Utf8Bytes::from_static(""),
    }
}

/// Writes what the session has for this socket. `Ok(true)`: close now.
async fn write(ws: &mut Ws, handle: &SessionHandle, id: u64) -> Result<bool, ()> {
    let (packets, close) = {
        let mut inner = handle.lock();
        let out = if inner.primary_ws.as_ref().is_some_and(|w| w.id == id) {
            let out = inner.machine.take_ws();
            (out.packets, out.close)
        } else if inner.probe_ws.as_ref().is_some_and(|w| w.id == id) {
            inner.machine.take_probe()
        } else {
            (Vec::new(), true)
        };
        handle.settle(&mut inner);
        out
    };
    if !packets.is_empty() {
        for packet in &packets {
            let Some(frame) = ws_message(packet, handle.protocol) else {
                continue;
            };
            ws.feed(frame).await.map_err(|_| ())?;
        }
        ws.flush().await.map_err(|_| ())?;
        tracing::trace!(sid = %handle.sid, packets = packets.len(), "written over WebSocket");
    }
    Ok(close)
}

/// How many sets of recently framed messages [`ws_message`] keeps per thread,
/// two messages each: room for the broadcasts that pile up in every
/// recipient's queue when a server is busy.
const FRAME_SETS: usize = 64;

/// A message framed recently: its data, the protocol, and the frame.
type Framed = (Bytes, ProtocolVersion, WsMessage);

thread_local! {
    /// Messages framed recently on this thread, found by the address of their
    /// data. A broadcast hands the same `Bytes` to every recipient, and their
    /// WebSocket tasks frame them one after another; with this, the `4` prefix
    /// is written and the UTF-8 checked once per broadcast instead of once per
    /// recipient, and finding the frame costs one hash, not a scan. Holding a
    /// clone of the data keeps its address from being reused while it is a key.
    static RECENT_FRAMES: RefCell<Vec<[Option<Framed>; 2]>> = const { RefCell::new(Vec::new()) };
}

/// The set of [`RECENT_FRAMES`] where the message whose data starts at `ptr` is kept.
fn frame_set(ptr: *const u8) -> usize {
    // Fibonacci hashing of the address: its low bits are alignment, its high bits shared.
    let h = (ptr as usize as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 58) as usize % FRAME_SETS
}

/// The WebSocket message for a packet; `None` for text that is not UTF-8,
/// which the session never produces.
fn ws_message(packet: &Packet, protocol: ProtocolVersion) -> Option<WsMessage> {
    // v4 binary goes out as it is: nothing to build, nothing to remember.
    let (data, text) = match packet {
        Packet::Message(Message::Text(data)) => (data, true),
        Packet::Message(Message::Binary(data)) if protocol == ProtocolVersion::V3 => (data, false),
        _ => return build_ws_message(packet, protocol),
    };
    RECENT_FRAMES.with(|cell| {
        let mut sets = cell.borrow_mut();
        if sets.is_empty() {
            sets.resize_with(FRAME_SETS, Default::default);
        }
        let set = &mut sets[frame_set(data.as_ptr())];
        let hit = set.iter().flatten().find(|(seen, p, frame)| {
            *p == protocol
                && seen.as_ptr() == data.as_ptr()
                && seen.len() == data.len()
                && matches!(frame, WsMessage::Text(_)) == text
        });
        if let Some((_, _, frame)) = hit {
            return Some(frame.clone());
        }
        let frame = build_ws_message(packet, protocol)?;
        // The newer of the two stays; the older makes room.
        set[1] = set[0].take();
        set[0] = Some((data.clone(), protocol, frame.clone()));
        Some(frame)
    })
}

fn build_ws_message(packet: &Packet, protocol: ProtocolVersion) -> Option<WsMessage> {
    match packet.to_ws_frame(protocol) {
        WsFrame::Text(t) => Utf8Bytes::try_from(t).ok().map(WsMessage::Text),
        WsFrame::Binary(b) => Some(WsMessage::Binary(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_message_is_framed_once() {
        let data = Bytes::from_static(b"hello");
        let packet = Packet::Message(Message::Text(data.clone()));
        let a = ws_message(&packet, ProtocolVersion::V4).unwrap();
        let b = ws_message(&packet, ProtocolVersion::V4).unwrap();
        assert_eq!(a, WsMessage::text("4hello"));
        // The second frame is the first one shared, not a new copy.
        match (&a, &b) {
            (WsMessage::Text(x), WsMessage::Text(y)) => {
                assert_eq!(x.as_str().as_ptr(), y.as_str().as_ptr())
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn interleaved_broadcasts_are_each_framed_once() {
        let frames = |p: &Packet| match ws_message(p, ProtocolVersion::V4).unwrap() {
            WsMessage::Text(t) => t.as_str().as_ptr(),
            _ => unreachable!(),
        };
        let a = Packet::Message(Message::text("first"));
        let b = Packet::Message(Message::text("second"));
        // One recipient's queue holds both; the next recipient's holds the same.
        let (a1, b1) = (frames(&a), frames(&b));
        let (a2, b2) = (frames(&a), frames(&b));
        assert_eq!((a1, b1), (a2, b2));
    }

    #[test]
    fn same_bytes_as_binary_or_other_protocol_is_framed_anew() {
        let data = Bytes::from_static(b"\x01\x02");
        let text = ws_message(
            &Packet::Message(Message::Text(data.clone())),
            ProtocolVersion::V3,
        )
        .unwrap();
        let binary = ws_message(
            &Packet::Message(Message::Binary(data.clone())),
            ProtocolVersion::V3,
        )
        .unwrap();
        assert!(matches!(text, WsMessage::Text(_)));
        assert_eq!(
            binary,
            WsMessage::Binary(Bytes::from_static(b"\x04\x01\x02"))
        );
        let v4 = ws_message(&Packet::Message(Message::Text(data)), ProtocolVersion::V4).unwrap();
        assert_eq!(v4, WsMessage::text("4\x01\x02"));
    }
}
