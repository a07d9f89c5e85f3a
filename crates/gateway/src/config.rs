//! The gateway's settings: every option is a command-line flag and an environment variable (the
//! names the Evolution API already uses), a flag winning over its variable. Values are parsed into
//! typed settings here, so a bad value stops the gateway at start with a message naming the variable.
//!
//! This module only parses and checks; what a setting does lives with the code that uses it.

use std::{net::IpAddr, path::PathBuf, str::FromStr, time::Duration};

use clap::{ArgAction, Parser};

/// Every setting of the gateway.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "sio-gateway",
    version,
    about = "Real-time event gateway: webhook events in, Socket.IO out"
)]
pub struct Config {
    /// Serve Socket.IO on /socket.io/; false turns the endpoint off (the HTTP API stays).
    #[arg(long, env = "WEBSOCKET_ENABLED", value_name = "WEBSOCKET_ENABLED", default_value = "true",
          action = ArgAction::Set, value_parser = parse_bool)]
    pub websocket_enabled: bool,

    /// Also emit every instance's events on namespace `/`.
    #[arg(long, env = "WEBSOCKET_GLOBAL_EVENTS", value_name = "WEBSOCKET_GLOBAL_EVENTS",
          default_value = "false", action = ArgAction::Set, value_parser = parse_bool)]
    pub global_events: bool,

    /// The global key: opens every namespace and the HTTP API [default: generated and printed once].
    #[arg(long, env = "AUTHENTICATION_API_KEY", value_name = "AUTHENTICATION_API_KEY",
          value_parser = parse_key, hide_env_values = true)]
    pub api_key: Option<String>,

    /// Client addresses let into instance namespaces without a key (comma list of IPs, `*` for any)
    /// [default: none].
    #[arg(long, env = "WEBSOCKET_ALLOWED_HOSTS", value_name = "WEBSOCKET_ALLOWED_HOSTS",
          value_parser = HostList::from_str)]
    pub allowed_hosts: Option<HostList>,

    /// Allowed CORS origins (comma list, or `*` for any).
    #[arg(long, env = "CORS_ORIGIN", value_name = "CORS_ORIGIN", default_value = "*",
          value_parser = Origins::from_str)]
    pub cors_origin: Origins,

    /// Fills an event's `server_url` when the event has none [default: none].
    #[arg(long, env = "SERVER_URL", value_name = "SERVER_URL")]
    pub server_url: Option<String>,

    /// Address to listen on.
    #[arg(
        long,
        env = "SERVER_HOST",
        value_name = "SERVER_HOST",
        default_value = "0.0.0.0"
    )]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one; the bound address is printed).
    #[arg(
        long,
        env = "SERVER_PORT",
        value_name = "SERVER_PORT",
        default_value_t = 8080
    )]
    pub port: u16,

    /// `http`, or `https` to serve https and wss directly with `SSL_CONF_FULLCHAIN` and
    /// `SSL_CONF_PRIVKEY` (keep `http` behind a proxy that terminates TLS).
    #[arg(long, env = "SERVER_TYPE", value_name = "SERVER_TYPE", default_value = "http",
          value_parser = parse_server_type)]
    pub server_type: ServerType,

    /// PEM private key of the https certificate (with `SERVER_TYPE=https`).
    #[arg(
        long = "ssl-conf-privkey",
        env = "SSL_CONF_PRIVKEY",
        value_name = "SSL_CONF_PRIVKEY"
    )]
    pub ssl_privkey: Option<PathBuf>,

    /// PEM certificate chain for https, the server's certificate first (with `SERVER_TYPE=https`).
    #[arg(
        long = "ssl-conf-fullchain",
        env = "SSL_CONF_FULLCHAIN",
        value_name = "SSL_CONF_FULLCHAIN"
    )]
    pub ssl_fullchain: Option<PathBuf>,

    /// Directory of the embedded store (instance tokens).
    #[arg(
        long,
        env = "DATA_DIR",
        value_name = "DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Client events relayed upstream (comma list).
    #[arg(
        long,
        env = "RELAY_EVENTS",
        value_name = "RELAY_EVENTS",
        default_value = "send_message",
        value_delimiter = ','
    )]
    pub relay_events: Vec<String>,

    /// Upstream URL template (http or https) with `{instance}` and `{event}` [default: none, the
    /// relay answers an error].
    #[arg(long, env = "RELAY_URL", value_name = "RELAY_URL", value_parser = RelayUrl::from_str)]
    pub relay_url: Option<RelayUrl>,

    /// PEM file of certificate authorities trusted for an https `RELAY_URL`, besides the Mozilla
    /// roots built in (a private authority, or a self-signed upstream) [default: none].
    #[arg(long, env = "RELAY_CA_FILE", value_name = "RELAY_CA_FILE")]
    pub relay_ca_file: Option<PathBuf>,

    /// Upstream timeout in milliseconds.
    #[arg(long, env = "RELAY_TIMEOUT_MS", value_name = "RELAY_TIMEOUT_MS", default_value = "10000",
          value_parser = parse_millis)]
    pub relay_timeout_ms: Millis,

    /// Join other gateway nodes through Redis (`redis://host:port`) [default: none, single
    /// node]. The gateway does not start when Redis cannot be reached at start.
    #[arg(long, env = "REDIS_URL", value_name = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Log level (error, warn, info, debug, trace) or a tracing filter directive.
    #[arg(long, env = "LOG_LEVEL", value_name = "LOG_LEVEL", default_value = "info",
          value_parser = parse_log_level)]
    pub log_level: String,

    /// Largest HTTP request body accepted, and largest upstream answer read, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Runtime threads: 0 is one per core; 1 runs everything on one thread (the lowest latency
    /// when the gateway shares a small machine, as a Node process would).
    #[arg(
        long,
        env = "WORKER_THREADS",
        value_name = "WORKER_THREADS",
        default_value_t = 0
    )]
    pub worker_threads: usize,
}

impl Config {
    /// Parses the process's arguments and environment, exiting with a message on a bad value.
    pub fn from_env() -> Config {
        Config::parse()
    }

    /// Parses `args` (without the program name) and the environment.
    pub fn try_parse_args(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("sio-gateway").chain(args.iter().copied()))
    }

    /// The upstream timeout.
    pub fn relay_timeout(&self) -> Duration {
        self.relay_timeout_ms.0
    }
}

/// Whether the listener speaks plain HTTP or TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerType {
    /// Plain HTTP and WebSocket.
    Http,
    /// https and wss.
    Https,
}

fn parse_server_type(s: &str) -> Result<ServerType, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "http" => Ok(ServerType::Http),
        "https" => Ok(ServerType::Https),
        _ => Err("expected http or https".to_owned()),
    }
}

/// A duration given in whole milliseconds, at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub Duration);

fn parse_millis(s: &str) -> Result<Millis, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("expected a number of milliseconds greater than 0".to_owned()),
        Ok(n) => Ok(Millis(Duration::from_millis(n))),
        Err(_) => Err("expected a whole number of milliseconds".to_owned()),
    }
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

fn parse_key(s: &str) -> Result<String, String> {
    // The key travels in an `apikey` header, so it must be a valid header value.
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("expected a non-empty key of visible ASCII characters".to_owned());
    }
    Ok(s.to_owned())
}

fn parse_log_level(s: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(s)
        .map(|_| s.to_owned())
        .map_err(|e| format!("expected a level (error, warn, info, debug, trace) or a filter: {e}"))
}

/// Which client addresses may enter instance namespaces without a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostList {
    /// Any address (`*`).
    Any,
    /// Only these addresses.
    List(Vec<IpAddr>),
}

impl HostList {
    /// Whether `addr` is allowed. An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`) counts as itself.
    pub fn allows(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        match self {
            HostList::Any => true,
            HostList::List(list) => list.iter().any(|a| a.to_canonical() == addr),
        }
    }
}

impl FromStr for HostList {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let items: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .collect();
        if items.contains(&"*") {
            return Ok(HostList::Any);
        }
        let mut list = Vec::new();
        for item in items {
            let ip = match item {
                "localhost" => IpAddr::from([127, 0, 0, 1]),
                other => other.parse().map_err(|_| {
                    format!("expected a comma list of IP addresses or `*`, got {other:?}")
                })?,
            };
            list.push(ip);
        }
        Ok(HostList::List(list))
    }
}

/// Allowed CORS origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Any origin (`*`).
    Any,
    /// Only these origins, compared exactly.
    List(Vec<String>),
}

impl Origins {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed.
    pub fn allow_value(&self, origin: Option<&str>) -> Option<String> {
        match (self, origin) {
            (Origins::Any, _) => Some("*".to_owned()),
            (Origins::List(list), Some(o)) if list.iter().any(|a| a == o) => Some(o.to_owned()),
            _ => None,
        }
    }
}

impl FromStr for Origins {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let items: Vec<String> = s
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(str::to_owned)
            .collect();
        if items.is_empty() {
            return Err("expected a comma list of origins or `*`".to_owned());
        }
        if items.iter().any(|i| i == "*") {
            return Ok(Origins::Any);
        }
        if let Some(bad) = items
            .iter()
            .find(|o| !o.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(format!(
                "expected origins such as https://app.example.com, got {bad:?}"
            ));
        }
        Ok(Origins::List(items))
    }
}

/// The relay's upstream URL template, checked at start to be an http or https URL once filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayUrl(String);

impl RelayUrl {
    /// The URL for one relayed event. Instance names need no escaping (see
    /// [`valid_instance_name`](crate::names::valid_instance_name)); the event is escaped.
    pub fn fill(&self, instance: &str, event: &str) -> String {
        self.0
            .replace("{instance}", instance)
            .replace("{event}", &crate::http_util::percent_encode(event))
    }
}

impl FromStr for RelayUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let url = RelayUrl(s.to_owned());
        let sample = url.fill("instance", "event");
        match sample.parse::<http::Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() =>
            {
                Ok(url)
            }
            _ => Err(
                "expected an http:// or https:// URL with {instance} and {event} placeholders"
                    .to_owned(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_args(args)
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = parse(&[]).expect("defaults parse");
        assert!(c.websocket_enabled);
        assert!(!c.global_events);
        assert_eq!(c.cors_origin, Origins::Any);
        assert_eq!(c.host, IpAddr::from([0, 0, 0, 0]));
        assert_eq!(c.port, 8080);
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.relay_events, vec!["send_message".to_owned()]);
        assert_eq!(c.relay_timeout(), Duration::from_millis(10_000));
        assert_eq!(c.log_level, "info");
        assert_eq!(c.worker_threads, 0);
        assert_eq!(parse(&["--worker-threads", "1"]).unwrap().worker_threads, 1);
        assert!(parse(&["--worker-threads", "-1"]).is_err());
    }

    #[test]
    fn lists_and_flags_parse() {
        let c = parse(&[
            "--websocket-enabled",
            "false",
            "--relay-events",
            "send_message,send_media",
            "--allowed-hosts",
            "127.0.0.1, ::1",
            "--cors-origin",
            "http://a.test,http://b.test",
            "--relay-url",
            "http://127.0.0.1:9/message/{event}/{instance}",
        ])
        .expect("parses");
        assert!(
            RelayUrl::from_str("https://evolution.example/message/{event}/{instance}").is_ok(),
            "https upstreams are taken"
        );
        assert!(!c.websocket_enabled);
        assert_eq!(c.relay_events, vec!["send_message", "send_media"]);
        let hosts = c.allowed_hosts.expect("hosts");
        assert!(hosts.allows("127.0.0.1".parse().unwrap()));
        assert!(hosts.allows("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!hosts.allows("10.0.0.1".parse().unwrap()));
        assert_eq!(
            c.cors_origin.allow_value(Some("http://b.test")).as_deref(),
            Some("http://b.test")
        );
        assert_eq!(c.cors_origin.allow_value(Some("http://c.test")), None);
        let url = c.relay_url.expect("url");
        assert_eq!(
            url.fill("shop", "send message"),
            "http://127.0.0.1:9/message/send%20message/shop"
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: &[(&[&str], &str)] = &[
            (&["--port", "http"], "SERVER_PORT"),
            (&["--port", "70000"], "SERVER_PORT"),
            (&["--host", "example.com"], "SERVER_HOST"),
            (&["--websocket-enabled", "maybe"], "WEBSOCKET_ENABLED"),
            (&["--relay-timeout-ms", "0"], "RELAY_TIMEOUT_MS"),
            (&["--relay-timeout-ms=-5"], "RELAY_TIMEOUT_MS"),
            (&["--relay-url", "ftp://x/{event}"], "RELAY_URL"),
            (&["--relay-url", "https:///{event}"], "RELAY_URL"),
            (
                &["--allowed-hosts", "10.0.0.1,nonsense"],
                "WEBSOCKET_ALLOWED_HOSTS",
            ),
            (&["--api-key", "has space"], "AUTHENTICATION_API_KEY"),
            (&["--log-level", "loud[="], "LOG_LEVEL"),
        ];
        for (args, var) in cases {
            let err = parse(args).expect_err("must be refused").to_string();
            assert!(err.contains(var), "{args:?}: {err}");
        }
    }

    #[test]
    fn star_means_any() {
        assert_eq!("*".parse::<HostList>(), Ok(HostList::Any));
        assert!(HostList::Any.allows("203.0.113.9".parse().unwrap()));
        assert_eq!("http://a.test,*".parse::<Origins>(), Ok(Origins::Any));
        assert_eq!(HostList::from_str(""), Ok(HostList::List(vec![])));
    }
}
