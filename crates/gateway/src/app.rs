//! Starting, serving and stopping the gateway: opens the store, builds the hub and the API, binds
//! the listener, routes each request to the Socket.IO endpoint or the HTTP API, and on SIGTERM or
//! SIGINT shuts down as the contract says.
//!
//! Contract: "On SIGTERM or SIGINT the gateway stops accepting, closes every transport without a
//! DISCONNECT packet (server-side reason `server shutting down` ...), and exits with status 0."

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use socketio_redis_adapter::{RedisAdapterConfig, RedisCluster};
use socketio_server::engineio::{HttpConfig, HttpServer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::{
    api::Api,
    config::{Config, HostList, ServerType},
    hub::Hub,
    keys::Keys,
    metrics::Metrics,
    relay::{self, Relay},
    store::{Store, StoreError},
};

/// How long shutdown waits for closed transports to flush before the process exits.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `REDIS_URL` is set, but Redis cannot be reached (or the URL is not a Redis URL).
    #[error("REDIS_URL: cannot join other nodes through Redis: {0}")]
    Redis(#[from] socketio_redis_adapter::Error),
    /// `RELAY_CA_FILE` could not be used.
    #[error(transparent)]
    RelayTls(#[from] relay::TlsError),
    /// `SERVER_TYPE=https`, but its certificate or key could not be used.
    #[error(transparent)]
    ServerTls(#[from] crate::tls::ServerTlsError),
    /// The store could not be opened.
    #[error("DATA_DIR {dir}: {source}")]
    Store {
        /// The directory.
        dir: PathBuf,
        /// What failed.
        source: StoreError,
    },
    /// The metrics registry could not be built.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The listener could not be bound.
    #[error("cannot listen on {addr} (SERVER_HOST, SERVER_PORT): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
}

/// A gateway ready to serve: everything built, nothing bound yet.
#[derive(Debug, Clone)]
pub struct Gateway {
    api: Api,
    hub: Hub,
    keys: Arc<Keys>,
    max_body_bytes: usize,
    /// The listener's TLS settings with `SERVER_TYPE=https`.
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Gateway {
    /// Builds the gateway of `config`: opens the store and loads the tokens. With `cluster`
    /// (from `REDIS_URL`, see [`connect_cluster`]) its namespaces join the other nodes.
    pub fn build(config: &Config, cluster: Option<RedisCluster>) -> Result<Gateway, StartError> {
        let store = Store::open(&config.data_dir).map_err(|source| StartError::Store {
            dir: config.data_dir.clone(),
            source,
        })?;
        let keys =
            Keys::load(store, config.api_key.clone()).map_err(|source| StartError::Store {
                dir: config.data_dir.clone(),
                source,
            })?;
        let keys = Arc::new(keys);
        let metrics = Metrics::new()?;
        let relay = Relay::new(
            config.relay_url.clone(),
            &config.relay_events,
            config.relay_timeout(),
            config.max_body_bytes,
            relay::tls_config(config.relay_ca_file.as_deref())?,
        );
        let hub = match (config.websocket_enabled, cluster) {
            (true, cluster) => Hub::new(config, keys.clone(), relay, metrics.clone(), cluster),
            (false, Some(cluster)) => {
                Hub::disabled(metrics.clone()).forwarding(cluster, config.global_events)
            }
            (false, None) => Hub::disabled(metrics.clone()),
        };
        let api = Api::new(
            keys.clone(),
            hub.clone(),
            metrics,
            config.server_url.clone(),
            config.max_body_bytes,
            config.cors_origin.clone(),
        );
        let tls = match config.server_type {
            ServerType::Https => Some(crate::tls::server_config(
                config.ssl_fullchain.as_deref(),
                config.ssl_privkey.as_deref(),
            )?),
            ServerType::Http => None,
        };
        Ok(Gateway {
            api,
            hub,
            keys,
            max_body_bytes: config.max_body_bytes,
            tls,
        })
    }

    /// Serves on `listener` until `shutdown` resolves, then closes every client. HTTP is the
    /// engine's own lean HTTP/1.1 server (hyper over TLS, with `SERVER_TYPE=https`): the
    /// Socket.IO path goes to the hub's engine, every other request to the API, its body read
    /// whole first up to `MAX_BODY_BYTES`.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut http = HttpServer::new(HttpConfig::default());
        if let Some(io) = self.hub.server() {
            http = http.engine(io.engine().clone());
        }
        let api = self.api.clone();
        let http = http.fallback(self.max_body_bytes, move |req, _remote| {
            let api = api.clone();
            async move { api.handle(req).await }
        });
        let tls = self.tls.clone().map(TlsAcceptor::from);
        let serving = async move {
            match tls {
                None => http.serve(listener).await,
                Some(tls) => {
                    http.serve_wrapped(listener, true, move |tcp| tls.accept(tcp))
                        .await
                }
            }
        };
        tokio::select! {
            () = shutdown => {}
            served = serving => {
                if let Err(e) = served {
                    tracing::error!(error = %e, "the HTTP server stopped");
                }
            }
        }

        let clients = self.hub.client_count();
        tracing::info!(clients, "shutting down: closing every client");
        self.hub.close();
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while self.hub.client_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let the last close frames leave the sockets.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the gateway of `config` until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<(), StartError> {
    let cluster = connect_cluster(&config).await?;
    let gateway = Gateway::build(&config, cluster)?;
    let addr = SocketAddr::new(config.host, config.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;

    print_banner(&config, &gateway.keys, bound);
    tracing::info!(address = %bound, websocket = config.websocket_enabled, "gateway started");
    gateway.serve(listener, shutdown_signal()).await;
    tracing::info!("gateway stopped");
    Ok(())
}

/// Connects to Redis when `REDIS_URL` is set (an error when it cannot be reached now; later
/// losses are logged and recovered from while the gateway goes on serving its own clients).
pub async fn connect_cluster(config: &Config) -> Result<Option<RedisCluster>, StartError> {
    let Some(url) = &config.redis_url else {
        return Ok(None);
    };
    let cluster = RedisCluster::connect(RedisAdapterConfig::new(url.as_str())).await?;
    tracing::info!("joining other nodes through Redis (REDIS_URL)");
    Ok(Some(cluster))
}

/// Where the gateway listens and how to connect, on stdout (the key only when it was generated).
/// The `listening on` line comes last, so a script that waits for it has seen the rest.
fn print_banner(config: &Config, keys: &Keys, bound: SocketAddr) {
    let host = if bound.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        bound.ip().to_string()
    };
    let scheme = match config.server_type {
        ServerType::Http => "http",
        ServerType::Https => "https",
    };
    let base = format!("{scheme}://{host}:{}", bound.port());
    if keys.generated() {
        println!(
            "global key (generated, shown only this once; set AUTHENTICATION_API_KEY to keep one): {}",
            keys.global()
        );
    }
    if config.websocket_enabled {
        println!("socket.io: io(\"{base}/<instance>\", {{ auth: {{ apikey: \"<key>\" }} }})");
    } else {
        println!("socket.io: off (WEBSOCKET_ENABLED=false); the HTTP API stays");
    }
    println!(
        "webhook:   POST {base}/webhook (or {base}/webhook/key/<key> for senders without headers)"
    );
    println!("data:      {}", config.data_dir.display());
    if config.redis_url.is_some() {
        println!("cluster:   joined with the other nodes on REDIS_URL");
    }
    println!(
        "sio-gateway {} listening on {bound}",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(hosts) = &config.allowed_hosts {
        let open = match hosts {
            HostList::Any => true,
            HostList::List(list) => list.iter().any(|ip| !ip.to_canonical().is_loopback()),
        };
        if open {
            tracing::warn!(
                "WEBSOCKET_ALLOWED_HOSTS lets non-loopback clients into instance namespaces without a key"
            );
        }
    }
}

/// Resolves on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM handler unavailable; only SIGINT stops the gateway");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
