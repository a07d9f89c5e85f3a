//! The HTTP API: ingest (`/webhook...`, `/emit`), instance tokens (`/instances...`), `/healthz`
//! and `/metrics`. Every answer is JSON except the metrics text; every refusal is
//! `{"error": ...}` naming the problem, produced by [`ApiError`] in one place.
//!
//! Contract: "the global key in the `apikey` header or `?apikey=` query unless said otherwise";
//! the webhook routes also take "the instance's own token for its events", and the
//! `/webhook/key/<key>` forms carry the key in the path "for the Evolution API's global webhook,
//! which sends no headers". The Socket.IO endpoint is routed in [`crate::app`], not here.

use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};

use crate::{
    config::Origins,
    http_util::{self, Body, BodyError, json, json_error, percent_decode, query_param, read_body},
    hub::Hub,
    ingest::{self, IngestError},
    keys::{Access, Keys},
    metrics::{self, Metrics},
    names::valid_instance_name,
    store::{PutOutcome, StoreError},
};

/// The longest instance token accepted, in bytes.
pub const MAX_TOKEN: usize = 512;

/// Why a request is refused; the single place errors become HTTP answers.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No key where one is needed.
    #[error("an API key is required in the apikey header or the apikey query parameter")]
    KeyRequired,
    /// The key opens nothing.
    #[error("Invalid API key")]
    InvalidKey,
    /// The key is valid but does not open this.
    #[error("{0}")]
    Forbidden(String),
    /// The body could not be read.
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The body is not a valid event.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Something else in the request is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// The token belongs to another instance.
    #[error("the token is already used by another instance")]
    Conflict,
    /// No such instance.
    #[error("unknown instance {0:?}")]
    UnknownInstance(String),
    /// No such route.
    #[error("no route {0}")]
    NotFound(String),
    /// The route exists, not with this method.
    #[error("method {0} is not allowed here")]
    Method(Method),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::KeyRequired | ApiError::InvalidKey => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Body(BodyError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Body(BodyError::Read(_)) | ApiError::Ingest(_) | ApiError::BadRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::UnknownInstance(_) | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Method(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The label of the ingest rejections metric.
    fn label(&self) -> &'static str {
        match self {
            ApiError::KeyRequired | ApiError::InvalidKey => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Body(BodyError::TooLarge { .. }) => "too_large",
            ApiError::Ingest(e) => e.label(),
            _ => "bad_request",
        }
    }

    fn into_response(self) -> Response<Body> {
        json_error(self.status(), &self.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TokenInUse => ApiError::Conflict,
            other => ApiError::Store(other),
        }
    }
}

/// The HTTP API's state.
#[derive(Debug, Clone)]
pub struct Api {
    keys: Arc<Keys>,
    hub: Hub,
    metrics: Metrics,
    server_url: Option<String>,
    max_body: usize,
    cors: Origins,
}

impl Api {
    /// An API over these keys and this hub.
    pub fn new(
        keys: Arc<Keys>,
        hub: Hub,
        metrics: Metrics,
        server_url: Option<String>,
        max_body: usize,
        cors: Origins,
    ) -> Api {
        Api {
            keys,
            hub,
            metrics,
            server_url,
            max_body,
            cors,
        }
    }

    /// Answers one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: hyper::body::Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut res = if req.method() == Method::OPTIONS {
            preflight(&req)
        } else {
            let path = req.uri().path().to_owned();
            let method = req.method().clone();
            match self.route(req).await {
                Ok(res) => res,
                Err(e) => {
                    if path.starts_with("/webhook") || path == "/emit" {
                        self.metrics
                            .ingest_rejections
                            .with_label_values(&[e.label()])
                            .inc();
                    }
                    match &e {
                        ApiError::Store(err) => tracing::warn!(error = %err, "store failed"),
                        other => tracing::debug!(%method, path, error = %other, "request refused"),
                    }
                    e.into_response()
                }
            }
        };
        if let Some(v) = self
            .cors
            .allow_value(origin.as_deref())
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            res.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        res
    }

    async fn route<B>(&self, req: Request<B>) -> Result<Response<Body>, ApiError>
    where
        B: hyper::body::Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let path = req.uri().path();
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let segments: Vec<String> = trimmed
            .split('/')
            .map(|s| percent_decode(s, false))
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let method = req.method().clone();

        match (segments.as_slice(), &method) {
            (["healthz"], &Method::GET) => Ok(self.health()),
            (["metrics"], &Method::GET) => {
                self.require_global(&req)?;
                Ok(self.render_metrics())
            }
            (["webhook", "key", key], &Method::POST) => {
                let key = (*key).to_owned();
                self.webhook(req, Some(key), None).await
            }
            (["webhook", "key", key, event], &Method::POST) => {
                let (key, event) = ((*key).to_owned(), (*event).to_owned());
                self.webhook(req, Some(key), Some(event)).await
            }
            (["webhook"], &Method::POST) => {
                let key = request_key(&req);
                self.webhook(req, key, None).await
            }
            (["webhook", event], &Method::POST) => {
                let (key, event) = (request_key(&req), (*event).to_owned());
                self.webhook(req, key, Some(event)).await
            }
            (["emit"], &Method::POST) => self.emit(req).await,
            (["instances"], &Method::GET) => {
                self.require_global(&req)?;
                Ok(json(
                    StatusCode::OK,
                    &serde_json::json!({ "instances": self.keys.instances() }),
                ))
            }
            (["instances", name], &Method::PUT) => {
                let name = (*name).to_owned();
                self.put_instance(req, &name).await
            }
            (["instances", name], &Method::DELETE) => {
                let name = (*name).to_owned();
                self.require_global(&req)?;
                self.delete_instance(&name).await
            }
            (["healthz" | "metrics" | "webhook" | "emit" | "instances", ..], _) => {
                Err(ApiError::Method(method))
            }
            _ => Err(ApiError::NotFound(path.to_owned())),
        }
    }

    fn require_global<B>(&self, req: &Request<B>) -> Result<(), ApiError> {
        match request_key(req).map(|k| self.keys.resolve(&k)) {
            None => Err(ApiError::KeyRequired),
            Some(None) => Err(ApiError::InvalidKey),
            Some(Some(Access::Instance(_))) => Err(ApiError::Forbidden(
                "this route needs the global key".to_owned(),
            )),
            Some(Some(Access::Global)) => Ok(()),
        }
    }

    fn health(&self) -> Response<Body> {
        json(
            StatusCode::OK,
            &serde_json::json!({
                "status": "ok",
                "websocket": self.hub.server().is_some(),
                "clients": self.hub.client_count(),
            }),
        )
    }

    fn render_metrics(&self) -> Response<Body> {
        let counts = self.hub.connection_counts();
        let counts: Vec<(&str, &str, usize)> = counts
            .iter()
            .map(|(t, n, c)| (*t, n.as_str(), *c))
            .collect();
        self.metrics.set_connections(&counts);
        if let Some(dropped) = self.hub.dropped_publishes() {
            self.metrics.set_redis_dropped(dropped);
        }
        let mut res = Response::new(Body::from(self.metrics.render()));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(metrics::CONTENT_TYPE),
        );
        res
    }

    async fn webhook<B>(
        &self,
        req: Request<B>,
        key: Option<String>,
        path_event: Option<String>,
    ) -> Result<Response<Body>, ApiError>
    where
        B: hyper::body::Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let key = key.filter(|k| !k.is_empty()).ok_or(ApiError::KeyRequired)?;
        let access = self.keys.resolve(&key).ok_or(ApiError::InvalidKey)?;
        let body = read_body(req.into_body(), self.max_body).await?;
        let ev = ingest::parse_webhook(&body, path_event.as_deref(), self.server_url.as_deref())?;
        if let Access::Instance(own) = &access
            && *own != ev.instance
        {
            return Err(ApiError::Forbidden(format!(
                "this token may only send events of instance {own:?}"
            )));
        }

        self.metrics.events_in.with_label_values(&["webhook"]).inc();
        self.hub.emit_webhook(&ev);
        tracing::trace!(event = %ev.event, instance = %ev.instance, "event ingested");
        Ok(json(
            StatusCode::ACCEPTED,
            &serde_json::json!({ "status": "accepted", "event": ev.event, "instance": ev.instance }),
        ))
    }

    async fn emit<B>(&self, req: Request<B>) -> Result<Response<Body>, ApiError>
    where
        B: hyper::body::Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.require_global(&req)?;
        let body = read_body(req.into_body(), self.max_body).await?;
        let emit = ingest::parse_emit(&body)?;
        self.metrics.events_in.with_label_values(&["emit"]).inc();
        self.hub.emit(&emit);
        Ok(json(
            StatusCode::ACCEPTED,
            &serde_json::json!({ "status": "accepted", "namespace": emit.namespace, "event": emit.event }),
        ))
    }

    async fn put_instance<B>(&self, req: Request<B>, name: &str) -> Result<Response<Body>, ApiError>
    where
        B: hyper::body::Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        self.require_global(&req)?;
        check_instance_name(name)?;
        let body = read_body(req.into_body(), self.max_body).await?;
        let token = parse_token(&body)?;
        if self.keys.is_global(&token) {
            return Err(ApiError::BadRequest(
                "`token` may not be the global key".to_owned(),
            ));
        }

        let outcome = self.keys.put(name, &token).await?;
        let (status, word) = match outcome {
            PutOutcome::Created => (StatusCode::CREATED, "created"),
            PutOutcome::Replaced { .. } => (StatusCode::OK, "replaced"),
            PutOutcome::Unchanged => (StatusCode::OK, "unchanged"),
        };
        if matches!(outcome, PutOutcome::Replaced { .. }) {
            self.hub.drop_token_sockets(name);
        }
        tracing::debug!(instance = name, outcome = word, "instance token stored");
        Ok(json(
            status,
            &serde_json::json!({ "instance": name, "status": word }),
        ))
    }

    async fn delete_instance(&self, name: &str) -> Result<Response<Body>, ApiError> {
        check_instance_name(name)?;
        match self.keys.remove(name).await? {
            Some(_) => {
                self.hub.drop_token_sockets(name);
                Ok(json(
                    StatusCode::OK,
                    &serde_json::json!({ "instance": name, "status": "deleted" }),
                ))
            }
            None => Err(ApiError::UnknownInstance(name.to_owned())),
        }
    }
}

/// The key of an API request: the `apikey` header, else the `apikey` query parameter.
fn request_key<B>(req: &Request<B>) -> Option<String> {
    req.headers()
        .get("apikey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query_param(req.uri().query(), "apikey"))
        .filter(|k| !k.is_empty())
}

fn check_instance_name(name: &str) -> Result<(), ApiError> {
    if valid_instance_name(name) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "instance names are 1 to 128 characters of letters, digits, `.`, `_`, `~`, `-`"
                .to_owned(),
        ))
    }
}

/// The `token` of a `PUT /instances/<name>` body.
fn parse_token(body: &[u8]) -> Result<String, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "the body must be {{\"token\": \"...\"}} with 1 to {MAX_TOKEN} visible ASCII characters"
        ))
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON ({e})")))?;
    let token = value
        .get("token")
        .and_then(|t| t.as_str())
        .ok_or_else(bad)?;
    if token.is_empty() || token.len() > MAX_TOKEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(token.to_owned())
}

/// A CORS preflight answer for the API.
fn preflight<B>(req: &Request<B>) -> Response<Body> {
    let mut res = http_util::json_text(StatusCode::NO_CONTENT, String::new());
    res.headers_mut().remove(header::CONTENT_TYPE);
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, DELETE"),
    );
    let asked = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        asked.unwrap_or_else(|| HeaderValue::from_static("content-type, apikey")),
    );
    res
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
