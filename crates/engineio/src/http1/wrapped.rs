//! An [`HttpServer`]'s engines and fallback over connections that are not a plain `TcpStream`,
//! TLS above all. The server's own HTTP/1.1 code reads the socket's readiness directly (a waiting
//! long-poll holds no buffer), which a TLS stream's buffered plaintext hides; over such streams
//! HTTP is hyper's, routed the same way.

use std::convert::Infallible;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use super::*;
use crate::http_util::{BodyError, read_limited};

impl HttpServer {
    /// Serves on `listener` like [`serve`](HttpServer::serve), but each accepted connection first
    /// goes through `wrap`, on the connection's own task (a TLS handshake, say: pass a
    /// `tokio_rustls::TlsAcceptor`'s `accept`). A wrap that fails, or takes longer than
    /// [`HttpConfig::request_timeout`], drops the connection; the server goes on. HTTP over the
    /// wrapped stream is hyper's: keep-alive, upgrades to WebSocket, a head limit of
    /// `max_head_bytes` (at least 8 KiB, hyper's floor), and one timer where the own server has
    /// two: a head, the first or the next on a kept-alive connection, must arrive within the
    /// shorter of `request_timeout` and `keep_alive_timeout`, else the connection closes (so an
    /// idle kept-alive connection lasts as long as on the own server).
    /// With `encrypted`, every request is marked [`Encrypted`](crate::Encrypted), so handshakes
    /// say they came over TLS.
    pub async fn serve_wrapped<W, Fut, S>(
        self,
        listener: TcpListener,
        encrypted: bool,
        wrap: W,
    ) -> io::Result<()>
    where
        W: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let server = Arc::new(self);
        let wrap = Arc::new(wrap);
        loop {
            let (stream, remote) = accept(&listener).await;
            let (server, wrap) = (server.clone(), wrap.clone());
            tokio::spawn(async move {
                let limit = server.config.request_timeout;
                match tokio::time::timeout(limit, wrap(stream)).await {
                    Ok(Ok(io)) => serve_over_hyper(server, io, remote, encrypted).await,
                    Ok(Err(e)) => tracing::debug!(%remote, error = %e, "connection not wrapped"),
                    Err(_) => tracing::debug!(%remote, "connection not wrapped in time"),
                }
            });
        }
    }

    /// One request read by hyper: to the engine of its path, else to the fallback with its body
    /// read whole up to the fallback's limit, else 404.
    async fn answer(
        &self,
        mut req: Request<Incoming>,
        remote: SocketAddr,
        encrypted: bool,
    ) -> Response<EngineBody> {
        if encrypted {
            req.extensions_mut().insert(crate::Encrypted);
        }
        if let Some(engine) = self.route(req.uri().path()) {
            return engine.handle(req, remote).await;
        }
        let Some((max_body, handler)) = &self.fallback else {
            return crate::http_util::empty(StatusCode::NOT_FOUND);
        };
        let (parts, body) = req.into_parts();
        let body = match read_limited(body, *max_body).await {
            Ok(body) => Some(body),
            Err(BodyError::TooLarge) => None,
            Err(BodyError::Io) => return crate::http_util::empty(StatusCode::BAD_REQUEST),
        };
        handler(Request::from_parts(parts, BufferedBody::new(body)), remote).await
    }
}

async fn serve_over_hyper<S>(server: Arc<HttpServer>, io: S, remote: SocketAddr, encrypted: bool)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(
            server
                .config
                .request_timeout
                .min(server.config.keep_alive_timeout),
        )
        .max_buf_size(server.config.max_head_bytes.max(8192));
    let handler = server.clone();
    let service = hyper::service::service_fn(move |req| {
        let server = handler.clone();
        async move { Ok::<_, Infallible>(server.answer(req, remote, encrypted).await) }
    });
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    if let Err(e) = connection.await {
        tracing::debug!(%remote, error = %e, "connection ended with an error");
    }
}
