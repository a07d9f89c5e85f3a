//! The relay: a client event named in `RELAY_EVENTS` goes upstream as an HTTP `POST`, and the
//! upstream's answer comes back as the client's ack.
//!
//! Contract: the POST goes to `RELAY_URL` (placeholders filled) "with `content-type:
//! application/json`, the instance's token in the `apikey` header and the client's first argument
//! as the body. The client's ack gets one argument: the upstream's JSON answer on a 2xx;
//! `{"error":..., "status":..., "body":...}` on any other status; `{"error":...}` on a timeout, an
//! unreachable upstream, a non-JSON answer, no `RELAY_URL`, or a relay asked on `/`."
//!
//! This module makes the request and builds the ack; attaching it to sockets is [`crate::hub`]'s.
//!
//! An `https` upstream's certificate is checked against the Mozilla roots built in (webpki-roots),
//! plus the authorities of `RELAY_CA_FILE` when set ([`tls_config`]); an `http` one is plain TCP.

use std::{collections::HashSet, path::Path, sync::Arc, time::Duration};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, header};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    pki_types::{CertificateDer, ServerName, UnixTime},
};
use socketio_server::Value;

use crate::{
    config::RelayUrl,
    http_util::read_body,
    tls::{PemFileError, pem_certificates},
};

/// Why the relay's TLS settings could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `RELAY_CA_FILE` could not be read, or holds no usable certificate.
    #[error(transparent)]
    CaFile(#[from] PemFileError),
    /// rustls refused the protocol versions (not expected with its own defaults).
    #[error("TLS setup: {0}")]
    Setup(#[from] rustls::Error),
}

/// The TLS client settings for an https upstream: the Mozilla roots built in, plus every
/// certificate of the PEM file `extra_roots` (a private authority, or a self-signed upstream).
pub fn tls_config(extra_roots: Option<&Path>) -> Result<ClientConfig, TlsError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut pinned = Vec::new();
    if let Some(path) = extra_roots {
        pinned = pem_certificates("RELAY_CA_FILE", path)?;
        for cert in &pinned {
            roots.add(cert.clone()).map_err(|e| {
                PemFileError::new(
                    "RELAY_CA_FILE",
                    path,
                    format!("a certificate is not usable: {e}"),
                )
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsError::Setup(rustls::Error::General(e.to_string())))?;
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier { webpki, pinned }))
        .with_no_client_auth())
}

/// The usual WebPKI check, and one exception: an upstream whose certificate is, byte for byte,
/// one of `RELAY_CA_FILE`'s is trusted even where WebPKI refuses it, as it refuses the common
/// self-signed certificate that says it is an authority (`openssl req -x509` makes those). The
/// handshake's signatures are still checked against that certificate's key.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(_)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                Ok(ServerCertVerified::assertion())
            }
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Why a relayed event got no upstream answer to pass on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RelayError {
    /// `RELAY_URL` is not set.
    #[error("relay is not configured (RELAY_URL is not set)")]
    NoUrl,
    /// The event was sent on `/`, which belongs to no instance.
    #[error("relay needs an instance namespace; this socket is on /")]
    NoInstance,
    /// The upstream did not answer in time.
    #[error("upstream timed out after {ms} ms")]
    Timeout {
        /// The timeout.
        ms: u128,
    },
    /// The upstream could not be reached, or the exchange failed.
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
    /// The upstream answered 2xx with something that is not JSON.
    #[error("upstream answered {status} with a body that is not JSON")]
    NotJson {
        /// The status.
        status: u16,
    },
    /// The upstream answered with a status outside 2xx.
    #[error("upstream answered {status}")]
    Status {
        /// The status.
        status: u16,
        /// The upstream's body: its JSON, or its text.
        body: Value,
    },
}

impl RelayError {
    /// A short label for the failures metric.
    pub fn label(&self) -> &'static str {
        match self {
            RelayError::NoUrl => "no_url",
            RelayError::NoInstance => "no_instance",
            RelayError::Timeout { .. } => "timeout",
            RelayError::Unreachable(_) => "unreachable",
            RelayError::NotJson { .. } => "not_json",
            RelayError::Status { .. } => "status",
        }
    }

    /// The ack argument for this failure.
    pub fn to_ack(&self) -> Value {
        let mut fields = vec![("error".to_owned(), Value::String(self.to_string()))];
        if let RelayError::Status { status, body } = self {
            fields.push(("status".to_owned(), Value::from(u64::from(*status))));
            fields.push(("body".to_owned(), body.clone()));
        }
        Value::Object(fields)
    }
}

/// The relay's settings and HTTP client.
#[derive(Debug, Clone)]
pub struct Relay {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: Option<RelayUrl>,
    events: HashSet<String>,
    timeout: Duration,
    max_answer: usize,
}

impl Relay {
    /// A relay for `events`, posting to `url` with `timeout`, reading answers up to `max_answer`
    /// bytes; an https upstream is checked with `tls` (see [`tls_config`]).
    pub fn new(
        url: Option<RelayUrl>,
        events: &[String],
        timeout: Duration,
        max_answer: usize,
        tls: ClientConfig,
    ) -> Relay {
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(timeout));
        tcp.enforce_http(false);
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let events = events
            .iter()
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty())
            .collect();
        Relay {
            client,
            url,
            events,
            timeout,
            max_answer,
        }
    }

    /// The client events that are relayed.
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.events.iter().map(String::as_str)
    }

    /// Posts `body` for `event` of `instance` with `key` in the `apikey` header; the upstream's
    /// JSON answer on a 2xx.
    pub async fn send(
        &self,
        instance: Option<&str>,
        event: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Result<Value, RelayError> {
        let url = self.url.as_ref().ok_or(RelayError::NoUrl)?;
        let instance = instance.ok_or(RelayError::NoInstance)?;

        let mut req = Request::builder()
            .method(Method::POST)
            .uri(url.fill(instance, event))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
        if let Some(v) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
            req = req.header("apikey", v);
        }
        let req = req
            .body(Full::new(Bytes::from(body.to_json_string())))
            .map_err(|e| RelayError::Unreachable(e.to_string()))?;

        match tokio::time::timeout(self.timeout, self.exchange(req)).await {
            Ok(result) => result,
            Err(_) => Err(RelayError::Timeout {
                ms: self.timeout.as_millis(),
            }),
        }
    }

    async fn exchange(&self, req: Request<Full<Bytes>>) -> Result<Value, RelayError> {
        let res = self
            .client
            .request(req)
            .await
            .map_err(|e| RelayError::Unreachable(error_chain(&e)))?;
        let status = res.status();
        let bytes = read_body(res.into_body(), self.max_answer)
            .await
            .map_err(|e| RelayError::Unreachable(e.to_string()))?;
        let json = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| Value::from_json_str(t).ok());

        if status.is_success() {
            return json.ok_or(RelayError::NotJson {
                status: status.as_u16(),
            });
        }
        let body =
            json.unwrap_or_else(|| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Err(RelayError::Status {
            status: status.as_u16(),
            body,
        })
    }
}

/// The error and its causes on one line (hyper's top-level message alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use tokio::{
        io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
        net::TcpListener,
    };

    /// A one-request upstream that answers `response` (raw HTTP) after `delay`, and hands back
    /// the request it read.
    async fn upstream(
        response: &'static str,
        delay: Duration,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/message/{{event}}/{{instance}}",
            listener.local_addr().unwrap()
        );
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            answer_one(stream, response, delay).await
        });
        (url, task)
    }

    /// Reads one request (its body by Content-Length), answers `response` after `delay`, and
    /// returns the request.
    async fn answer_one(
        mut stream: impl AsyncRead + AsyncWrite + Unpin,
        response: &str,
        delay: Duration,
    ) -> String {
        let mut buf = vec![0u8; 64 * 1024];
        let mut req = Vec::new();
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        tokio::time::sleep(delay).await;
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        String::from_utf8_lossy(&req).to_string()
    }

    /// A certificate authority made for the test, and a certificate it signed for `localhost`.
    struct TestPki {
        ca_pem: String,
        server: tokio_rustls::TlsAcceptor,
    }

    /// A certificate for `localhost` signed by an authority made for the test, or with
    /// `self_signed`, one signed by its own key (no authority: `RELAY_CA_FILE` names the
    /// certificate itself).
    fn test_pki_of(self_signed: bool) -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let (cert, trusted_pem) = if self_signed {
            // As `openssl req -x509` makes them: a certificate that also says it is an authority,
            // which WebPKI refuses as a server's certificate.
            let mut params = params;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let cert = params.self_signed(&key).unwrap();
            let pem = cert.pem();
            (cert, pem)
        } else {
            let ca_key = KeyPair::generate().unwrap();
            let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
            ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
            let issuer = Issuer::new(ca_params, ca_key);
            (params.signed_by(&key, &issuer).unwrap(), ca_pem)
        };
        let key_der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key_der)
            .unwrap();
        TestPki {
            ca_pem: trusted_pem,
            server: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        }
    }

    fn test_pki() -> TestPki {
        test_pki_of(false)
    }

    /// A one-request https upstream on `localhost` with the certificate of `pki`; the task hands
    /// back the request, or the TLS error that ended the handshake.
    async fn tls_upstream(
        pki: &TestPki,
        response: &'static str,
    ) -> (String, tokio::task::JoinHandle<Result<String, String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("https://localhost:{port}/message/{{event}}/{{instance}}");
        let acceptor = pki.server.clone();
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            match acceptor.accept(stream).await {
                Ok(tls) => Ok(answer_one(tls, response, Duration::ZERO).await),
                Err(e) => Err(e.to_string()),
            }
        });
        (url, task)
    }

    fn relay_with_ca(url: &str, ca_file: Option<&Path>) -> Relay {
        Relay::new(
            Some(RelayUrl::from_str(url).unwrap()),
            &["send_message".into()],
            Duration::from_secs(5),
            1 << 20,
            tls_config(ca_file).unwrap(),
        )
    }

    #[tokio::test]
    async fn https_upstream_with_a_trusted_authority() {
        https_upstream_trusted_through_the_ca_file(test_pki_of(false), "ca").await;
    }

    #[tokio::test]
    async fn https_upstream_with_a_self_signed_certificate_in_the_ca_file() {
        https_upstream_trusted_through_the_ca_file(test_pki_of(true), "self").await;
    }

    async fn https_upstream_trusted_through_the_ca_file(pki: TestPki, tag: &str) {
        let dir = std::env::temp_dir().join(format!("relay-ca-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem).unwrap();

        let (url, task) = tls_upstream(
            &pki,
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"id\":\"T1\"}",
        )
        .await;
        let body = Value::from_json_str(r#"{"number":"5511","text":"over tls"}"#).unwrap();
        let answer = relay_with_ca(&url, Some(&ca_file))
            .send(Some("shop"), "send_message", Some("tok"), &body)
            .await;
        let req = task.await.unwrap().expect("the TLS handshake succeeds");
        assert!(
            req.starts_with("POST /message/send_message/shop HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(req.to_ascii_lowercase().contains("apikey: tok\r\n"));
        assert!(req.ends_with(r#"{"number":"5511","text":"over tls"}"#));
        assert_eq!(answer.unwrap().to_json_string(), r#"{"id":"T1"}"#);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn https_upstream_with_an_unknown_authority_is_unreachable() {
        let pki = test_pki();
        let (url, task) =
            tls_upstream(&pki, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").await;
        let err = relay_with_ca(&url, None)
            .send(Some("shop"), "send_message", None, &Value::Null)
            .await
            .unwrap_err();
        assert_eq!(err.label(), "unreachable", "{err}");
        assert!(
            err.to_string().to_ascii_lowercase().contains("certificate"),
            "the ack says why: {err}"
        );
        assert!(task.await.unwrap().is_err(), "no request got through");
    }

    #[test]
    fn a_ca_file_that_is_missing_or_not_pem_stops_the_start() {
        let missing = tls_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("RELAY_CA_FILE /nonexistent/ca.pem: "),
            "{missing}"
        );
        let dir = std::env::temp_dir().join(format!("relay-ca-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("ca.pem");
        std::fs::write(&not_pem, "hello\n").unwrap();
        let err = tls_config(Some(&not_pem)).unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn relay(url: &str, timeout_ms: u64) -> Relay {
        let url = RelayUrl::from_str(url).unwrap();
        Relay::new(
            Some(url),
            &["send_message".into()],
            Duration::from_millis(timeout_ms),
            1 << 20,
            tls_config(None).unwrap(),
        )
    }

    #[tokio::test]
    async fn success_passes_the_json_answer() {
        let (url, task) = upstream(
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 16\r\nconnection: close\r\n\r\n{\"id\":\"M\",\"a\":1}",
            Duration::ZERO,
        )
        .await;
        let body = Value::from_json_str(r#"{"number":"5511","text":"hi"}"#).unwrap();
        let answer = relay(&url, 2000)
            .send(Some("shop"), "send_message", Some("tok"), &body)
            .await;
        let req = task.await.unwrap();
        assert!(
            req.starts_with("POST /message/send_message/shop HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(req.to_ascii_lowercase().contains("apikey: tok\r\n"));
        assert!(
            req.to_ascii_lowercase()
                .contains("content-type: application/json\r\n")
        );
        assert!(req.ends_with(r#"{"number":"5511","text":"hi"}"#));
        assert_eq!(answer.unwrap().to_json_string(), r#"{"id":"M","a":1}"#);
    }

    #[tokio::test]
    async fn error_status_carries_status_and_body() {
        let (url, _task) = upstream(
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 13\r\nconnection: close\r\n\r\n{\"bad\":true}\n",
            Duration::ZERO,
        )
        .await;
        let err = relay(&url, 2000)
            .send(Some("shop"), "send_message", None, &Value::Null)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_ack().to_json_string(),
            r#"{"error":"upstream answered 400","status":400,"body":{"bad":true}}"#
        );
    }

    #[tokio::test]
    async fn non_json_success_is_an_error() {
        let (url, _task) = upstream(
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            Duration::ZERO,
        )
        .await;
        let err = relay(&url, 2000)
            .send(Some("shop"), "e", None, &Value::Null)
            .await
            .unwrap_err();
        assert_eq!(err, RelayError::NotJson { status: 200 });
    }

    #[tokio::test]
    async fn timeout_is_an_error_ack() {
        let (url, _task) = upstream(
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
            Duration::from_millis(500),
        )
        .await;
        let err = relay(&url, 100)
            .send(Some("shop"), "e", None, &Value::Null)
            .await
            .unwrap_err();
        assert_eq!(err, RelayError::Timeout { ms: 100 });
        assert_eq!(
            err.to_ack().to_json_string(),
            r#"{"error":"upstream timed out after 100 ms"}"#
        );
    }

    #[tokio::test]
    async fn unreachable_no_url_and_root() {
        // A port that was just free: nothing listens there.
        let port = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let r = relay(&format!("http://127.0.0.1:{port}/{{event}}"), 2000);
        let err = r
            .send(Some("shop"), "e", None, &Value::Null)
            .await
            .unwrap_err();
        assert_eq!(err.label(), "unreachable");
        assert_eq!(
            r.send(None, "e", None, &Value::Null).await,
            Err(RelayError::NoInstance)
        );
        let none = Relay::new(
            None,
            &[],
            Duration::from_secs(1),
            1024,
            tls_config(None).unwrap(),
        );
        assert_eq!(
            none.send(Some("shop"), "e", None, &Value::Null).await,
            Err(RelayError::NoUrl)
        );
    }
}
