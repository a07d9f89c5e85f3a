//! One simulated client over WebSocket: the TCP connection (from a chosen
//! loopback source address, so that more than one address's worth of ports is
//! available), the WebSocket handshake, the Engine.IO open packet and the
//! Socket.IO connect to `/`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::frames::{self, Frame};

/// A client's WebSocket.
pub(crate) type Ws = WebSocketStream<TcpStream>;

/// Where the server listens and which source addresses to spread clients over.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    /// Clients per loopback source address (127.0.0.1, then .2, ...).
    pub(crate) per_source: usize,
    /// Send [`BROWSER_HEADERS`] with each WebSocket handshake, as a browser would.
    pub(crate) browser_headers: bool,
}

/// The headers a desktop browser adds to a WebSocket handshake (about 530 bytes with the
/// handshake's own), for measuring what a server keeps of them per connection.
pub(crate) const BROWSER_HEADERS: &[(&str, &str)] = &[
    ("pragma", "no-cache"),
    ("cache-control", "no-cache"),
    (
        "user-agent",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    ("origin", "https://app.example.com"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("accept-language", "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7"),
    (
        "cookie",
        "_ga=GA1.1.123456789.1700000000; session=eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiMTIzNDU2Nzg5MCJ9.abcdefghijklmnopqrstuvwxyz0123456789; theme=dark",
    ),
    (
        "sec-websocket-extensions",
        "permessage-deflate; client_max_window_bits",
    ),
];

impl Target {
    /// The source address for the `n`th client.
    fn source(&self, n: usize) -> IpAddr {
        let k = (n / self.per_source.max(1)) as u8;
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1u8.saturating_add(k)))
    }

    /// A TCP connection for the `n`th client.
    pub(crate) async fn tcp(&self, n: usize) -> io::Result<TcpStream> {
        let source = self.source(n);
        let stream = if source == IpAddr::V4(Ipv4Addr::LOCALHOST) {
            // No explicit bind: the kernel's port search at bind time is far
            // slower than the one connect does, and would bound the connection rate.
            TcpStream::connect(self.addr).await?
        } else {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(source, 0))?;
            socket.connect(self.addr).await?
        };
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

fn small_buffers() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Opens a WebSocket to `/socket.io/` with `query` (and `EIO=4&transport=websocket`).
pub(crate) async fn websocket(target: &Target, n: usize, query: &str) -> io::Result<Ws> {
    let stream = target.tcp(n).await?;
    let url = format!(
        "ws://{}/socket.io/?EIO=4&transport=websocket{query}",
        target.addr
    );
    let mut request = url.into_client_request().map_err(io_err)?;
    if target.browser_headers {
        for &(name, value) in BROWSER_HEADERS {
            request
                .headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
    }
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(small_buffers()))
            .await
            .map_err(io_err)?;
    Ok(ws)
}

/// A WebSocket session connected to namespace `/`: open packet read, `40`
/// sent, `40{...}` received.
pub(crate) async fn connect(target: &Target, n: usize) -> io::Result<Ws> {
    let mut ws = websocket(target, n, "").await?;
    let open = next_text(&mut ws).await?;
    if !open.starts_with('0') {
        return Err(io_err(format!("expected an open packet, got {open:?}")));
    }
    send(&mut ws, "40").await?;
    wait_connected(&mut ws).await?;
    Ok(ws)
}

/// A WebSocket session connected to namespace `nsp` with an auth object
/// (`40<nsp>,<auth>` sent, `40<nsp>,{...}` received).
pub(crate) async fn connect_to(target: &Target, n: usize, nsp: &str, auth: &str) -> io::Result<Ws> {
    let mut ws = websocket(target, n, "").await?;
    let open = next_text(&mut ws).await?;
    if !open.starts_with('0') {
        return Err(io_err(format!("expected an open packet, got {open:?}")));
    }
    send(&mut ws, format!("40{nsp},{auth}")).await?;
    loop {
        let text = next_text(&mut ws).await?;
        if text.starts_with("40") {
            return Ok(ws);
        }
        if text.starts_with("44") {
            return Err(io_err(format!("connection refused: {text}")));
        }
        if text.as_str() == "2" {
            send(&mut ws, "3").await?;
        }
    }
}

/// Reads until `40{...}`, answering pings.
pub(crate) async fn wait_connected(ws: &mut Ws) -> io::Result<()> {
    loop {
        let text = next_text(ws).await?;
        match frames::parse(&text) {
            Frame::Connected => return Ok(()),
            Frame::Ping => send(ws, "3").await?,
            _ => {}
        }
    }
}

/// The next text frame; an error when the socket ends.
pub(crate) async fn next_text(ws: &mut Ws) -> io::Result<Utf8Bytes> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t),
            Some(Ok(Message::Close(_))) | None => return Err(io_err("closed by the server")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(io_err(e)),
        }
    }
}

/// Sends one text frame.
pub(crate) async fn send(ws: &mut Ws, text: impl Into<Utf8Bytes>) -> io::Result<()> {
    ws.send(Message::Text(text.into())).await.map_err(io_err)
}
