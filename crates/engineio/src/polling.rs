//! HTTP long-polling: a GET waits for the session's next packets, a POST
//! carries the client's packets.
//!
//! The pending GET holds a one-shot channel that the session answers through
//! [`crate::shell::SessionHandle::settle`]. If hyper drops the GET (the client
//! went away) the guard reports the abort and the session closes, so a later
//! request with the same sid gets `Session ID unknown`.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use tokio::sync::oneshot;

use crate::config::ProtocolVersion;
use crate::engine::{EngineInner, ReqBody};
use crate::http_util::{self, BodyError, Encoding, EngineBody, compress, pick_encoding};
use crate::packet::Packet;
use crate::payload::{Decoded, decode_v4, encode_v4};
use crate::payload_v3;
use crate::session::Channel;
use crate::shell::SessionHandle;

/// Answers the handshake GET: the open packet (and initial message) at once.
pub(crate) fn first_poll(
    engine: &EngineInner,
    handle: &Arc<SessionHandle>,
    req: &HeaderMap,
) -> Response<EngineBody> {
    let packets = handle.with(|inner| {
        inner.machine.on_poll();
        inner.machine.take_poll()
    });
    let answer = Answer::for_request(engine, req);
    encode_response(engine, handle, &answer, &packets.unwrap_or_default())
}

/// How a request of an existing polling session was served.
pub(crate) enum Served {
    /// Answered.
    Ready(Response<EngineBody>),
    /// A GET waiting for the session's next packets.
    Waiting(LongPoll),
}

/// Serves a GET or POST for an existing polling session.
pub(crate) async fn serve(
    engine: &Arc<EngineInner>,
    handle: Arc<SessionHandle>,
    req: Request<ReqBody>,
) -> Served {
    let answer = Answer::for_request(engine, req.headers());
    match *req.method() {
        // A long-poll may wait for minutes: the request is not kept meanwhile.
        Method::GET => poll(engine, handle, answer),
        Method::POST => Served::Ready(post(engine, handle, req, answer).await),
        // The reference's polling transport answers other methods with a bare 500.
        _ => Served::Ready(http_util::empty(StatusCode::INTERNAL_SERVER_ERROR)),
    }
}

/// What an answer needs to know of its request.
#[derive(Clone, Copy, Debug)]
struct Answer {
    /// The compression the client accepts, if compression is on.
    encoding: Option<Encoding>,
    /// Old Internet Explorer, which flags the answers as XSS without `x-xss-protection: 0`.
    old_ie: bool,
}

impl Answer {
    fn for_request(engine: &EngineInner, req: &HeaderMap) -> Answer {
        Answer {
            encoding: engine
                .config
                .http_compression
                .then(|| pick_encoding(req))
                .flatten(),
            old_ie: req
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ua| ua.contains(";MSIE") || ua.contains("Trident/")),
        }
    }
}

/// Reports a GET dropped before its answer.
struct AbortGuard(Option<Arc<SessionHandle>>);

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.with(|inner| {
                // Our receiver is gone, so a still-registered sender is ours.
                if inner.poll_tx.as_ref().is_some_and(|tx| tx.is_closed()) {
                    inner.poll_tx = None;
                    tracing::debug!(sid = %handle.sid, "poll aborted by the client");
                    inner.machine.on_poll_aborted();
                }
            });
        }
    }
}

fn poll(engine: &Arc<EngineInner>, handle: Arc<SessionHandle>, answer: Answer) -> Served {
    let (tx, rx) = oneshot::channel();
    let accepted = handle.with(|inner| {
        if inner.machine.on_poll() {
            inner.poll_tx = Some(tx);
            true
        } else {
            false
        }
    });
    if !accepted {
        // "overlap from client": the session is closed, this GET gets a bare 400.
        return Served::Ready(http_util::empty(StatusCode::BAD_REQUEST));
    }
    Served::Waiting(LongPoll {
        engine: engine.clone(),
        rx,
        guard: AbortGuard(Some(handle.clone())),
        handle,
        answer,
    })
}

/// A GET waiting for its session's next packets: only what the answer needs,
/// since idle polling sessions hold one each for most of their life.
pub(crate) struct LongPoll {
    pub(crate) engine: Arc<EngineInner>,
    handle: Arc<SessionHandle>,
    /// Declared before `guard` so that it is dropped first: the guard tells
    /// an aborted GET by its receiver being gone.
    rx: oneshot::Receiver<Vec<Packet>>,
    /// Reports the GET as aborted if this is dropped before the answer.
    guard: AbortGuard,
    answer: Answer,
}

impl LongPoll {
    /// Waits for the packets, then encodes them.
    pub(crate) async fn response(mut self) -> Response<EngineBody> {
        // A dropped sender means the session is gone: answer like a closed one.
        let packets = (&mut self.rx).await.unwrap_or_else(|_| vec![Packet::Close]);
        self.guard.0 = None;
        encode_response(&self.engine, &self.handle, &self.answer, &packets)
    }
}

/// Encodes packets as the session's polling body, with the reference's headers.
fn encode_response(
    engine: &EngineInner,
    handle: &SessionHandle,
    answer: &Answer,
    packets: &[Packet],
) -> Response<EngineBody> {
    let (body, binary) = match handle.protocol {
        ProtocolVersion::V4 => (Bytes::from(encode_v4(packets)), false),
        ProtocolVersion::V3 => {
            let flags = &handle.polling;
            if let Some(j) = &flags.jsonp {
                (
                    Bytes::from(payload_v3::encode_jsonp(
                        j,
                        &payload_v3::encode_string(packets),
                    )),
                    false,
                )
            } else if !flags.b64 && packets.iter().any(Packet::is_binary) {
                (Bytes::from(payload_v3::encode_binary(packets)), true)
            } else {
                (Bytes::from(payload_v3::encode_string(packets)), false)
            }
        }
    };
    tracing::trace!(sid = %handle.sid, packets = packets.len(), bytes = body.len(), "poll answered");
    let cfg = &engine.config;
    let encoding = answer
        .encoding
        .filter(|_| body.len() >= cfg.http_compression_threshold);
    let (body, encoding) = match encoding.and_then(|e| compress(e, &body).map(|c| (c, e))) {
        Some((c, e)) => (Bytes::from(c), Some(e)),
        None => (body, None),
    };
    let mut res = Response::new(Full::new(body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if binary {
            "application/octet-stream"
        } else {
            "text/plain; charset=UTF-8"
        }),
    );
    if let Some(e) = encoding {
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(match e {
                http_util::Encoding::Gzip => "gzip",
                http_util::Encoding::Deflate => "deflate",
            }),
        );
    }
    common_headers(answer, h);
    res
}

fn common_headers(answer: &Answer, h: &mut HeaderMap) {
    if answer.old_ie {
        h.insert("x-xss-protection", HeaderValue::from_static("0"));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

async fn read_body(body: ReqBody, max: usize) -> Result<Bytes, BodyError> {
    match body {
        ReqBody::Buffered(body) => body
            .into_bytes()
            .filter(|data| data.len() <= max)
            .ok_or(BodyError::TooLarge),
        ReqBody::Hyper(incoming) => http_util::read_limited(incoming, max).await,
    }
}

async fn post(
    engine: &EngineInner,
    handle: Arc<SessionHandle>,
    req: Request<ReqBody>,
    answer: Answer,
) -> Response<EngineBody> {
    let (parts, body) = req.into_parts();
    let binary = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/octet-stream");
    let busy = handle.with(|inner| {
        if inner.post_active {
            inner.machine.close_now(crate::CloseReason::TransportError);
            return true;
        }
        // v4 has no binary polling body: "invalid content".
        if binary && handle.protocol == ProtocolVersion::V4 {
            inner.machine.close_now(crate::CloseReason::TransportError);
            return true;
        }
        inner.post_active = true;
        false
    });
    if busy {
        tracing::debug!(sid = %handle.sid, "refused POST (overlap or binary body in v4)");
        return http_util::empty(StatusCode::BAD_REQUEST);
    }

    let body = read_body(body, engine.config.max_payload).await;
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            handle.with(|inner| {
                inner.post_active = false;
                inner.machine.close_now(crate::CloseReason::TransportError);
            });
            return match e {
                BodyError::TooLarge => {
                    tracing::debug!(sid = %handle.sid, "POST body over maxPayload");
                    http_util::empty(StatusCode::PAYLOAD_TOO_LARGE)
                }
                BodyError::Io => http_util::empty(StatusCode::BAD_REQUEST),
            };
        }
    };

    let decoded = decode_post(&handle, &body, binary);
    let now = Instant::now();
    handle.with(|inner| {
        for packet in decoded.packets {
            tracing::trace!(sid = %handle.sid, ?packet, "received over polling");
            if let Some(m) = inner.machine.on_packet(Channel::Primary, packet, now) {
                handle.deliver(inner, m);
            }
            if inner.machine.is_closing() {
                break;
            }
        }
        if let Some(e) = decoded.error {
            tracing::debug!(sid = %handle.sid, error = %e, "bad polling payload");
            inner.machine.on_parse_error(Channel::Primary);
        }
    });
    // The answer waits while the application is behind, which holds the client's next POST.
    handle.wait_for_room().await;
    // Released only now so that the messages of consecutive POSTs stay in order.
    handle.with(|inner| inner.post_active = false);

    let mut res = Response::new(Full::new(Bytes::from_static(b"ok")));
    // Some browsers offer a text/plain answer as a file to save; the
    // reference answers `ok` as text/html for that reason.
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    common_headers(&answer, res.headers_mut());
    res
}

fn decode_post(handle: &SessionHandle, body: &[u8], binary: bool) -> Decoded {
    match handle.protocol {
        ProtocolVersion::V4 => decode_v4(body),
        ProtocolVersion::V3 if binary => payload_v3::decode_binary(body),
        ProtocolVersion::V3 => {
            let text = if handle.polling.jsonp.is_some() {
                payload_v3::decode_jsonp_form(body)
            } else {
                std::str::from_utf8(body).ok().map(str::to_owned)
            };
            match text {
                Some(t) => payload_v3::decode_string(&t),
                None => Decoded {
                    packets: Vec::new(),
                    error: Some(crate::PacketError::InvalidUtf8),
                },
            }
        }
    }
}
