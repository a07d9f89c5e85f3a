//! The engine's own HTTP/1.1 server, used by [`crate::Engine::serve`] and
//! [`HttpServer`].
//!
//! Engine.IO needs little of HTTP: short GET and POST requests, long-polls
//! that wait for minutes, and upgrades to WebSocket. A general server keeps
//! buffers sized for any request on every connection, and a long-poll holds
//! its connection for most of its life; here a connection waiting on a
//! long-poll holds no read buffer at all (the peer's close is seen through
//! readiness alone), and between requests only the bytes already received.
//!
//! What it does: keep-alive and `Connection: close` (HTTP/1.0 closes unless
//! asked otherwise), pipelined requests answered in order, bodies framed by
//! `Content-Length` or chunked, `Expect: 100-continue`, HEAD, a `Date` on
//! every answer, and the limits of [`HttpConfig`]: a head over
//! `max_head_bytes` or with more than `max_headers` lines gets 431, a request
//! slower than `request_timeout` gets 408, an idle kept-alive connection is
//! closed after `keep_alive_timeout`, and a body over the engine's
//! `max_payload` gets 413. Each of those answers closes the connection. A
//! request no engine serves goes to the fallback handler if there is one
//! ([`HttpServer::fallback`]), else gets 404; a malformed one gets 400.
//!
//! Over streams that are not a plain `TcpStream` (TLS), [`HttpServer::serve_wrapped`] serves the
//! same engines and fallback through hyper (`wrapped.rs`).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::{Instant, timeout_at};

use crate::config::HttpConfig;
use crate::engine::{Dispatched, Engine, ReqBody, accept};
use crate::http_util::EngineBody;
use crate::websocket::{self, RawUpgrade, UpgradeIo};

mod wrapped;

/// Serves one or more engines over HTTP/1.1, each under its own path; other
/// paths get 404.
///
/// ```no_run
/// # async fn run(a: engineio::Engine, b: engineio::Engine) -> std::io::Result<()> {
/// use engineio::{HttpConfig, HttpServer};
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// HttpServer::new(HttpConfig::default())
///     .engine(a)
///     .engine(b)
///     .serve(listener)
///     .await
/// # }
/// ```
pub struct HttpServer {
    engines: Vec<Engine>,
    fallback: Option<Fallback>,
    config: HttpConfig,
}

/// The future of a fallback handler's answer (see [`HttpServer::fallback`]).
pub type FallbackFuture = Pin<Box<dyn Future<Output = Response<EngineBody>> + Send>>;

/// The handler of the requests no engine serves, and its body limit.
type Fallback = (
    usize,
    Arc<dyn Fn(Request<BufferedBody>, SocketAddr) -> FallbackFuture + Send + Sync>,
);

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("engines", &self.engines)
            .field("fallback", &self.fallback.is_some())
            .field("config", &self.config)
            .finish()
    }
}

/// A request body read whole by [`HttpServer`] for its fallback handler. A
/// body over the handler's limit is not read: reading it gives [`BodyTooLarge`].
#[derive(Debug)]
pub struct BufferedBody {
    data: Option<Bytes>,
    too_large: bool,
}

/// The error of a [`BufferedBody`] whose body was over the limit.
#[derive(Debug, thiserror::Error)]
#[error("request body over the limit")]
pub struct BodyTooLarge;

impl BufferedBody {
    /// The body read whole, or `None` if it was over the limit and left unread.
    pub(crate) fn new(body: Option<Bytes>) -> BufferedBody {
        BufferedBody {
            too_large: body.is_none(),
            data: body,
        }
    }

    /// The whole body; `None` if it was over the limit.
    pub(crate) fn into_bytes(self) -> Option<Bytes> {
        if self.too_large {
            None
        } else {
            Some(self.data.unwrap_or_default())
        }
    }
}

impl http_body::Body for BufferedBody {
    type Data = Bytes;
    type Error = BodyTooLarge;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BodyTooLarge>>> {
        if std::mem::take(&mut self.too_large) {
            return Poll::Ready(Some(Err(BodyTooLarge)));
        }
        Poll::Ready(
            self.data
                .take()
                .filter(|d| !d.is_empty())
                .map(|d| Ok(http_body::Frame::data(d))),
        )
    }

    fn is_end_stream(&self) -> bool {
        !self.too_large && self.data.as_ref().is_none_or(Bytes::is_empty)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match &self.data {
            Some(d) if !self.too_large => http_body::SizeHint::with_exact(d.len() as u64),
            _ => http_body::SizeHint::default(),
        }
    }
}

impl HttpServer {
    /// A server with these limits and no engine yet.
    pub fn new(config: HttpConfig) -> HttpServer {
        HttpServer {
            engines: Vec::new(),
            fallback: None,
            config,
        }
    }

    /// Answers the requests no engine serves with `handler` instead of 404,
    /// their bodies read whole first, up to `max_body` bytes. A larger body is
    /// not read: the handler gets [`BodyTooLarge`] when it reads it, and the
    /// connection closes after the answer. For an application's own routes
    /// beside its engines.
    pub fn fallback<F, Fut>(mut self, max_body: usize, handler: F) -> HttpServer
    where
        F: Fn(Request<BufferedBody>, SocketAddr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<EngineBody>> + Send + 'static,
    {
        let handler = move |req, remote| -> FallbackFuture { Box::pin(handler(req, remote)) };
        self.fallback = Some((max_body, Arc::new(handler)));
        self
    }

    /// Adds an engine; a request goes to the first engine whose path it starts with.
    pub fn engine(mut self, engine: Engine) -> HttpServer {
        self.engines.push(engine);
        self
    }

    /// Accepts connections on `listener` and serves each on its own task.
    /// Returns only if the runtime shuts down; accept errors are survived.
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        accept_loop(Arc::new(self), listener).await;
        Ok(())
    }

    /// Serves on `threads` threads in all (0: one per core): this task's
    /// thread accepts, and hands the connections in turn to itself and to
    /// more threads, each running its own single-threaded tokio runtime. A
    /// connection, its session and their tasks stay on the thread that got
    /// them; only what is shared (broadcasts, the session table) crosses
    /// threads. Unlike a work-stealing runtime, no thread is woken to take
    /// work another would have done at once, which matters when the cores are
    /// also busy with other processes. Call it from a current-thread runtime,
    /// so that this thread's share stays on it too.
    pub async fn serve_on_threads(self, listener: TcpListener, threads: usize) -> io::Result<()> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let server = Arc::new(self);
        let mut others = Vec::new();
        for i in 1..threads {
            let (tx, mut rx) =
                tokio::sync::mpsc::unbounded_channel::<(std::net::TcpStream, SocketAddr)>();
            let server = server.clone();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            std::thread::Builder::new()
                .name(format!("engineio-{i}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        while let Some((stream, remote)) = rx.recv().await {
                            match TcpStream::from_std(stream) {
                                Ok(stream) => {
                                    tokio::spawn(serve_connection(server.clone(), stream, remote));
                                }
                                Err(e) => tracing::warn!(error = %e, "connection not taken"),
                            }
                        }
                    })
                })?;
            others.push(tx);
        }
        let mut turn = 0usize;
        loop {
            let (stream, remote) = accept(&listener).await;
            turn = (turn + 1) % threads;
            let Some(other) = turn.checked_sub(1).and_then(|i| others.get(i)) else {
                tokio::spawn(serve_connection(server.clone(), stream, remote));
                continue;
            };
            // Out of this runtime's reactor, into the other thread's.
            match stream.into_std() {
                Ok(stream) => {
                    let _ = other.send((stream, remote));
                }
                Err(e) => tracing::warn!(error = %e, "connection not handed over"),
            }
        }
    }

    fn route(&self, path: &str) -> Option<&Engine> {
        self.engines.iter().find(|e| e.handles(path))
    }
}

async fn accept_loop(server: Arc<HttpServer>, listener: TcpListener) {
    loop {
        let (stream, remote) = accept(&listener).await;
        tokio::spawn(serve_connection(server.clone(), stream, remote));
    }
}

/// How a request's body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// A parsed request head.
#[derive(Debug)]
struct Head {
    request: Request<()>,
    framing: Framing,
    keep_alive: bool,
    expect_continue: bool,
}

/// Why a request head was refused; each closes the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeadError {
    /// 400: not HTTP, or framing that cannot be trusted.
    Malformed,
    /// 431: over `max_head_bytes` or `max_headers`.
    TooLarge,
}

impl HeadError {
    fn status(self) -> StatusCode {
        match self {
            HeadError::Malformed => StatusCode::BAD_REQUEST,
            HeadError::TooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }
}

/// Header storage for httparse on the stack, up to this many lines.
const STACK_HEADERS: usize = 128;

/// Parses a request head at the start of `buf`: `Ok(None)` while incomplete,
/// else the head and its length in bytes.
fn parse_head(buf: &[u8], cfg: &HttpConfig) -> Result<Option<(Head, usize)>, HeadError> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut heap;
    let storage: &mut [httparse::Header<'_>] = if cfg.max_headers <= STACK_HEADERS {
        &mut stack[..cfg.max_headers]
    } else {
        heap = vec![httparse::EMPTY_HEADER; cfg.max_headers];
        &mut heap
    };
    let mut parsed = httparse::Request::new(storage);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return if buf.len() >= cfg.max_head_bytes {
                Err(HeadError::TooLarge)
            } else {
                Ok(None)
            };
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => return Err(HeadError::Malformed),
    };
    if len > cfg.max_head_bytes {
        return Err(HeadError::TooLarge);
    }
    let method = Method::from_bytes(parsed.method.unwrap_or("").as_bytes())
        .map_err(|_| HeadError::Malformed)?;
    let uri: http::Uri = parsed
        .path
        .unwrap_or("")
        .parse()
        .map_err(|_| HeadError::Malformed)?;
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };

    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut transfer_encoding = false;
    let (mut close, mut keep_alive_token, mut expect_continue) = (false, false, false);
    for h in parsed.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| HeadError::Malformed)?;
        let value = HeaderValue::from_bytes(h.value).map_err(|_| HeadError::Malformed)?;
        if name == http::header::CONTENT_LENGTH {
            let n = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(HeadError::Malformed)?;
            // Two different lengths: which one the sender meant cannot be known.
            if length.is_some_and(|l| l != n) {
                return Err(HeadError::Malformed);
            }
            length = Some(n);
        } else if name == http::header::TRANSFER_ENCODING {
            transfer_encoding = true;
            // Only a final `chunked` frames a request body.
            chunked = h
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name == http::header::CONNECTION {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name == http::header::EXPECT {
            expect_continue = h.value.eq_ignore_ascii_case(b"100-continue");
        }
        headers.append(name, value);
    }
    let framing = match (transfer_encoding, length) {
        // Both at once is how requests are smuggled past proxies: refused.
        (true, Some(_)) => return Err(HeadError::Malformed),
        (true, None) if chunked => Framing::Chunked,
        (true, None) => return Err(HeadError::Malformed),
        (false, Some(0) | None) => Framing::None,
        (false, Some(n)) => Framing::Length(n),
    };
    let keep_alive = match version {
        Version::HTTP_10 => keep_alive_token && !close,
        _ => !close,
    };
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Ok(Some((
        Head {
            request,
            framing,
            keep_alive,
            expect_continue: expect_continue && framing != Framing::None,
        },
        len,
    )))
}

/// Decodes a chunked body from `buf`. `Ok(None)` while incomplete; else the
/// body (or `None` as body when it passed `limit`) and the bytes consumed.
#[allow(clippy::type_complexity)]
fn parse_chunked(buf: &[u8], limit: usize) -> Result<Option<(Option<Bytes>, usize)>, HeadError> {
    let mut pos = 0;
    let mut body = BytesMut::new();
    loop {
        let (consumed, size) = match httparse::parse_chunk_size(&buf[pos..]) {
            Ok(httparse::Status::Complete(c)) => c,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(HeadError::Malformed),
        };
        pos += consumed;
        if size == 0 {
            // Trailer lines, ignored, up to the empty line.
            loop {
                let rest = &buf[pos..];
                let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                pos += eol + 2;
                if eol == 0 {
                    return Ok(Some((Some(body.freeze()), pos)));
                }
            }
        }
        let size = usize::try_from(size).map_err(|_| HeadError::Malformed)?;
        if body.len().saturating_add(size) > limit {
            return Ok(Some((None, pos)));
        }
        let end = pos.checked_add(size).ok_or(HeadError::Malformed)?;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err(HeadError::Malformed);
        }
        body.extend_from_slice(&buf[pos..end]);
        pos = end + 2;
    }
}

/// Runs the request parsers over arbitrary bytes, for the fuzz target and its
/// corpus replay: a head (with default limits and with tight ones), then a
/// chunked body from what follows it. Panics only if a parser breaks its own
/// rules (a length past the input).
#[doc(hidden)]
pub fn fuzz_request(data: &[u8]) {
    let tight = HttpConfig {
        max_head_bytes: 256,
        max_headers: 4,
        ..HttpConfig::default()
    };
    for cfg in [HttpConfig::default(), tight] {
        if let Ok(Some((_, len))) = parse_head(data, &cfg) {
            assert!(len <= data.len() && len <= cfg.max_head_bytes);
        }
    }
    for limit in [0, 16, 1 << 20] {
        if let Ok(Some((body, used))) = parse_chunked(data, limit) {
            assert!(used <= data.len());
            assert!(body.is_none_or(|b| b.len() <= limit));
        }
    }
}

/// The smallest read buffer allocated when more bytes are needed.
const READ_CHUNK: usize = 1024;

/// One connection: the socket and the bytes received but not yet used.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

/// Why a connection stops.
enum Stop {
    /// Closed by the peer, an IO error or an idle timeout: nothing to answer.
    Quiet,
    /// Answer this status, then close.
    Answer(StatusCode),
}

impl Conn {
    /// Reads at least one more byte before `deadline`.
    async fn fill(&mut self, deadline: Instant, want: usize) -> Result<(), Stop> {
        let spare = self.buf.capacity() - self.buf.len();
        if spare < want.min(64 * 1024) {
            self.buf.reserve(want.clamp(READ_CHUNK, 64 * 1024));
        }
        match timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => Err(Stop::Quiet),
            Ok(Ok(_)) => Ok(()),
            Err(_) => Err(Stop::Answer(StatusCode::REQUEST_TIMEOUT)),
        }
    }

    /// Gives the read buffer back when nothing is left in it, so that an idle
    /// connection holds no buffer.
    fn release(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
    }

    /// The next request head; `Ok(None)` if the peer closed or went idle.
    async fn read_head(&mut self, cfg: &HttpConfig, first: bool) -> Result<Option<Head>, Stop> {
        if self.buf.is_empty() {
            // Nothing of the next request yet: an idle wait, not a slow request.
            let idle = if first {
                cfg.request_timeout
            } else {
                cfg.keep_alive_timeout
            };
            match tokio::time::timeout(idle, self.stream.readable()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return Ok(None),
            }
        }
        let deadline = Instant::now() + cfg.request_timeout;
        loop {
            match parse_head(&self.buf, cfg) {
                Ok(Some((head, len))) => {
                    self.buf.advance(len);
                    return Ok(Some(head));
                }
                Ok(None) => {}
                Err(e) => return Err(Stop::Answer(e.status())),
            }
            match self.fill(deadline, READ_CHUNK).await {
                Ok(()) => {}
                // A peer that closes between requests closed cleanly.
                Err(Stop::Quiet) => return Ok(None),
                Err(stop) => return Err(stop),
            }
        }
    }

    /// Reads the body framed as `framing`, up to `limit` bytes; `None` if it
    /// is larger (it is then left unread and the connection must close).
    async fn read_body(
        &mut self,
        framing: Framing,
        limit: usize,
        deadline: Instant,
    ) -> Result<Option<Bytes>, Stop> {
        match framing {
            Framing::None => Ok(Some(Bytes::new())),
            Framing::Length(n) => {
                let Ok(n) = usize::try_from(n) else {
                    return Ok(None);
                };
                if n > limit {
                    return Ok(None);
                }
                while self.buf.len() < n {
                    let missing = n - self.buf.len();
                    self.fill(deadline, missing).await?;
                }
                Ok(Some(self.buf.split_to(n).freeze()))
            }
            Framing::Chunked => loop {
                match parse_chunked(&self.buf, limit) {
                    Ok(Some((body, used))) => {
                        self.buf.advance(used);
                        return Ok(body);
                    }
                    Ok(None) => self.fill(deadline, READ_CHUNK).await?,
                    Err(e) => return Err(Stop::Answer(e.status())),
                }
            },
        }
    }

    async fn write(&mut self, data: &[u8], cfg: &HttpConfig) -> Result<(), Stop> {
        let deadline = Instant::now() + cfg.request_timeout;
        match timeout_at(deadline, self.stream.write_all(data)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Stop::Quiet),
        }
    }

    /// Answers `status` with no body and closes, reading what the peer still
    /// sends for a moment so that it sees the answer rather than a reset.
    async fn refuse(&mut self, status: StatusCode, cfg: &HttpConfig) {
        let mut out = BytesMut::with_capacity(128);
        let res = empty(status);
        write_head(&mut out, &res, 0, false);
        if self.write(&out, cfg).await.is_err() {
            return;
        }
        self.linger().await;
    }

    /// Closes the sending side, then drains the peer's bytes until it closes
    /// too or a short while passes.
    async fn linger(&mut self) {
        let _ = self.stream.shutdown().await;
        let deadline = Instant::now() + Duration::from_secs(2);
        // On the heap: a buffer held across an await would enlarge every
        // connection's future, lingering or not.
        let mut sink = vec![0u8; READ_CHUNK];
        while let Ok(Ok(n)) = timeout_at(deadline, self.stream.read(&mut sink)).await {
            if n == 0 {
                break;
            }
        }
    }
}

/// One non-blocking read into `buf`, through a stack buffer so that `buf`
/// only grows by what arrived.
fn read_ready(stream: &TcpStream, buf: &mut BytesMut) -> io::Result<usize> {
    let mut chunk = [0u8; READ_CHUNK];
    let n = stream.try_read(&mut chunk)?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn empty(status: StatusCode) -> Response<()> {
    let mut res = Response::new(());
    *res.status_mut() = status;
    res
}

/// A request being answered.
struct Exchange {
    started: Dispatched,
    reply: Reply,
}

/// What the answer's writing needs to know of its request.
struct Reply {
    keep_alive: bool,
    /// The body was over the limit and left unread: close after the answer.
    over_limit: bool,
    /// A HEAD request: the answer's head only.
    head_only: bool,
    /// Where the connection goes if the answer is 101.
    handover: Option<oneshot::Sender<RawUpgrade>>,
}

/// Serves the requests of one connection in turn.
///
/// Reading a request, starting the engine's work on it and writing the answer
/// are boxed futures that live only while they run; what stays in the task
/// between them is the connection and, during a long-poll, the small wait for
/// its answer. An idle polling session costs little more than that.
async fn serve_connection(server: Arc<HttpServer>, stream: TcpStream, remote: SocketAddr) {
    let max_pending = server.config.max_head_bytes;
    let mut conn = Conn {
        stream,
        buf: BytesMut::new(),
    };
    let mut first = true;
    loop {
        let exchange = Box::pin(next_exchange(&server, &mut conn, remote, first)).await;
        first = false;
        let Some(Exchange { started, reply }) = exchange else {
            return;
        };
        let response = match started {
            Dispatched::Ready(res) => res,
            Dispatched::Waiting(poll) => {
                // A peer that leaves drops the poll, which closes its session.
                let Conn { stream, buf } = &mut conn;
                tokio::select! {
                    res = poll.response() => res,
                    () = closed(stream, buf, max_pending) => return,
                }
            }
        };
        let answered = Box::pin(answer(&server.config, conn, response, reply));
        match answered.await {
            Some(kept) => conn = kept,
            None => return,
        }
    }
}

/// Reads the next request and starts the engine's work on it; `None` when
/// the connection is done (closed, idle, or refused with an answer already
/// written).
async fn next_exchange(
    server: &HttpServer,
    conn: &mut Conn,
    remote: SocketAddr,
    first: bool,
) -> Option<Exchange> {
    let cfg = &server.config;
    loop {
        let head = match conn.read_head(cfg, first).await {
            Ok(Some(head)) => head,
            Ok(None) | Err(Stop::Quiet) => return None,
            Err(Stop::Answer(status)) => {
                conn.refuse(status, cfg).await;
                return None;
            }
        };
        let deadline = Instant::now() + cfg.request_timeout;
        let Head {
            request,
            framing,
            keep_alive,
            expect_continue,
        } = head;
        let head_only = request.method() == Method::HEAD;

        let engine = server.route(request.uri().path());
        let limit = match (engine, &server.fallback) {
            (Some(engine), _) => engine.config().max_payload,
            (None, Some((max_body, _))) => *max_body,
            (None, None) => {
                // Nobody's: the body is not read, so the connection cannot go on.
                if framing != Framing::None {
                    conn.refuse(StatusCode::NOT_FOUND, cfg).await;
                    return None;
                }
                let mut out = BytesMut::with_capacity(128);
                write_head(&mut out, &empty(StatusCode::NOT_FOUND), 0, keep_alive);
                if conn.write(&out, cfg).await.is_err() || !keep_alive {
                    return None;
                }
                conn.release();
                continue;
            }
        };

        if expect_continue
            && conn
                .write(b"HTTP/1.1 100 Continue\r\n\r\n", cfg)
                .await
                .is_err()
        {
            return None;
        }
        let body = match conn.read_body(framing, limit, deadline).await {
            Ok(body) => body,
            Err(Stop::Quiet) => return None,
            Err(Stop::Answer(status)) => {
                conn.refuse(status, cfg).await;
                return None;
            }
        };
        conn.release();
        let over_limit = body.is_none();
        let Some(engine) = engine else {
            let Some((_, handler)) = &server.fallback else {
                return None;
            };
            let request = request.map(|()| BufferedBody::new(body));
            let answer = handler(request, remote);
            // A peer that leaves drops the request.
            let Conn { stream, buf } = conn;
            let res = tokio::select! {
                res = answer => res,
                () = closed(stream, buf, cfg.max_head_bytes) => return None,
            };
            return Some(Exchange {
                started: Dispatched::Ready(res),
                reply: Reply {
                    keep_alive,
                    over_limit,
                    head_only,
                    handover: None,
                },
            });
        };
        let (upgrade, handover) = if websocket::is_upgrade_request(request.headers()) {
            let (tx, rx) = oneshot::channel();
            (Some(UpgradeIo::Raw(rx)), Some(tx))
        } else {
            (None, None)
        };
        let request = request.map(|()| ReqBody::Buffered(BufferedBody::new(body)));
        // A peer that leaves drops the request.
        let started = {
            let Conn { stream, buf } = conn;
            tokio::select! {
                started = engine.start(request, remote, upgrade) => started,
                () = closed(stream, buf, cfg.max_head_bytes) => return None,
            }
        };
        return Some(Exchange {
            started,
            reply: Reply {
                keep_alive,
                over_limit,
                head_only,
                handover,
            },
        });
    }
}

/// Writes the answer; the connection back if it serves another request.
async fn answer(
    cfg: &HttpConfig,
    mut conn: Conn,
    response: Response<EngineBody>,
    reply: Reply,
) -> Option<Conn> {
    let Reply {
        keep_alive,
        over_limit,
        head_only,
        handover,
    } = reply;
    let (parts, body) = response.into_parts();
    let res = Response::from_parts(parts, ());
    let body = collect(body).await;
    let switching = res.status() == StatusCode::SWITCHING_PROTOCOLS;
    let keep_alive = keep_alive
        && !over_limit
        && !res
            .headers()
            .get(http::header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    let mut out = BytesMut::with_capacity(256 + body.len().min(64 * 1024));
    write_head(&mut out, &res, body.len(), keep_alive || switching);
    let written = if head_only {
        conn.write(&out, cfg).await
    } else if body.len() <= 64 * 1024 {
        out.extend_from_slice(&body);
        conn.write(&out, cfg).await
    } else {
        match conn.write(&out, cfg).await {
            Ok(()) => conn.write(&body, cfg).await,
            Err(e) => Err(e),
        }
    };
    if written.is_err() {
        return None;
    }
    if switching {
        if let Some(tx) = handover {
            let Conn { stream, buf } = conn;
            let _ = tx.send(RawUpgrade {
                stream,
                read: buf.to_vec(),
            });
        }
        return None;
    }
    if over_limit {
        conn.linger().await;
        return None;
    }
    if !keep_alive {
        let _ = conn.stream.shutdown().await;
        return None;
    }
    conn.release();
    Some(conn)
}

/// Resolves when the peer closes (or the socket fails) while a request is
/// being served. Bytes that arrive meanwhile (a pipelined request) are kept,
/// up to `max` of them; past that the socket is no longer read. Written on
/// readiness directly: this future is part of every waiting long-poll.
async fn closed(stream: &TcpStream, buf: &mut BytesMut, max: usize) {
    std::future::poll_fn(|cx| {
        loop {
            if buf.len() >= max {
                return Poll::Pending;
            }
            match stream.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {}
            }
            match read_ready(stream, buf) {
                Ok(0) => return Poll::Ready(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Poll::Ready(()),
            }
        }
    })
    .await
}

async fn collect(body: EngineBody) -> Bytes {
    match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    }
}

/// Writes the status line and headers of `res`, with `Content-Length` (where
/// the status allows a body), `Date` and `Connection` as needed.
fn write_head(out: &mut BytesMut, res: &Response<()>, body_len: usize, keep_alive: bool) {
    let status = res.status();
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.put_slice(b"\r\n");
    for (name, value) in res.headers() {
        if name == http::header::CONTENT_LENGTH
            || name == http::header::DATE
            || (name == http::header::CONNECTION && status != StatusCode::SWITCHING_PROTOCOLS)
        {
            continue;
        }
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    let bodyless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if !bodyless {
        let _ = write!(out, "content-length: {body_len}\r\n");
    }
    if status != StatusCode::SWITCHING_PROTOCOLS {
        out.put_slice(if keep_alive {
            b"connection: keep-alive\r\n".as_slice()
        } else {
            b"connection: close\r\n".as_slice()
        });
    }
    put_date(out);
    out.put_slice(b"\r\n");
}

thread_local! {
    /// The `Date` header of the current second, formatted once per second.
    static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

fn put_date(out: &mut BytesMut) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != second {
            *cached = (second, httpdate::fmt_http_date(now));
        }
        out.put_slice(b"date: ");
        out.put_slice(cached.1.as_bytes());
        out.put_slice(b"\r\n");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> HttpConfig {
        HttpConfig::default()
    }

    fn head(raw: &str) -> Result<Option<(Head, usize)>, HeadError> {
        parse_head(raw.as_bytes(), &cfg())
    }

    #[test]
    fn a_complete_head_is_parsed_with_its_length() {
        let raw =
            "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\nrest";
        let (h, len) = head(raw).unwrap().unwrap();
        assert_eq!(len, raw.len() - 4);
        assert_eq!(h.request.method(), Method::GET);
        assert_eq!(h.request.uri().path(), "/engine.io/");
        assert_eq!(h.request.uri().query(), Some("EIO=4&transport=polling"));
        assert_eq!(h.request.headers()["x-a"], "1");
        assert!(h.keep_alive);
        assert_eq!(h.framing, Framing::None);
    }

    #[test]
    fn a_partial_head_waits_until_it_is_too_large() {
        assert!(head("GET / HTTP/1.1\r\nHost: a\r\n").unwrap().is_none());
        let long = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(cfg().max_head_bytes));
        assert_eq!(head(&long).err(), Some(HeadError::TooLarge));
    }

    #[test]
    fn too_many_headers_is_too_large() {
        let mut raw = String::from("GET / HTTP/1.1\r\n");
        for i in 0..=cfg().max_headers {
            raw.push_str(&format!("x-{i}: v\r\n"));
        }
        raw.push_str("\r\n");
        assert_eq!(head(&raw).err(), Some(HeadError::TooLarge));
        let small = HttpConfig {
            max_headers: 2,
            ..cfg()
        };
        let raw = "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
        assert_eq!(
            parse_head(raw.as_bytes(), &small).err(),
            Some(HeadError::TooLarge)
        );
        let many = HttpConfig {
            max_headers: 200,
            ..cfg()
        };
        let mut raw = String::from("GET / HTTP/1.1\r\n");
        for i in 0..150 {
            raw.push_str(&format!("x-{i}: v\r\n"));
        }
        raw.push_str("\r\n");
        assert!(parse_head(raw.as_bytes(), &many).unwrap().is_some());
    }

    #[test]
    fn framing_and_connection_rules() {
        let f = |raw: &str| head(raw).map(|h| h.map(|(h, _)| (h.framing, h.keep_alive)));
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n"),
            Ok(Some((Framing::Length(12), true)))
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n"),
            Ok(Some((Framing::Chunked, false)))
        );
        assert_eq!(
            f("GET / HTTP/1.0\r\n\r\n"),
            Ok(Some((Framing::None, false)))
        );
        assert_eq!(
            f("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
            Ok(Some((Framing::None, true)))
        );
        for bad in [
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "NOT HTTP\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        ] {
            assert_eq!(f(bad), Err(HeadError::Malformed), "{bad:?}");
        }
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
            Ok(Some((Framing::Length(5), true)))
        );
    }

    #[test]
    fn expect_continue_only_with_a_body() {
        let (h, _) = head("POST / HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.expect_continue);
        let (h, _) = head("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.expect_continue);
    }

    #[test]
    fn chunked_bodies() {
        let raw = b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        let (body, used) = parse_chunked(raw, 100).unwrap().unwrap();
        assert_eq!(body.as_deref(), Some(&b"abcde"[..]));
        assert_eq!(&raw[used..], b"NEXT");
        // Incomplete at every cut.
        for cut in 0..raw.len() - 4 {
            assert_eq!(parse_chunked(&raw[..cut], 100), Ok(None), "cut {cut}");
        }
        // Over the limit: no body.
        assert_eq!(
            parse_chunked(raw, 4).unwrap().map(|(b, _)| b.is_none()),
            Some(true)
        );
        assert_eq!(parse_chunked(b"zz\r\n", 100), Err(HeadError::Malformed));
        assert_eq!(
            parse_chunked(b"3\r\nabcX\r\n", 100),
            Err(HeadError::Malformed)
        );
        assert_eq!(
            parse_chunked(b"ffffffffffffffff\r\n", 100)
                .unwrap()
                .map(|(b, _)| b.is_none()),
            Some(true)
        );
    }

    #[test]
    fn answers_carry_length_connection_and_date() {
        let mut res = empty(StatusCode::OK);
        res.headers_mut()
            .insert("content-type", HeaderValue::from_static("text/plain"));
        let mut out = BytesMut::new();
        write_head(&mut out, &res, 5, true);
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nconnection: keep-alive\r\ndate: "));
        assert!(text.ends_with(" GMT\r\n\r\n"));

        let mut out = BytesMut::new();
        write_head(&mut out, &empty(StatusCode::NO_CONTENT), 0, false);
        let text = std::str::from_utf8(&out).unwrap();
        assert!(!text.contains("content-length"));
        assert!(text.contains("connection: close\r\n"));

        let mut res = empty(StatusCode::SWITCHING_PROTOCOLS);
        res.headers_mut()
            .insert("connection", HeaderValue::from_static("Upgrade"));
        let mut out = BytesMut::new();
        write_head(&mut out, &res, 0, true);
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\n"));
        assert!(!text.contains("content-length"));
        assert!(!text.contains("keep-alive"));
    }
}
