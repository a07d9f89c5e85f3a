//! Redis goes away and comes back: the servers keep serving their own clients meanwhile, the
//! adapters connect again by themselves, and broadcasts cross nodes again.
//!
//! The test runs a Redis of its own (the `redis-server` binary, on a free loopback port) so that
//! it can stop and restart it without touching the Redis other tests share.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{Client, config, node, tag, unique_key};

/// A `redis-server` process of this test's own, killed when dropped.
struct OwnRedis {
    port: u16,
    child: Child,
}

impl OwnRedis {
    async fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "this test runs a Redis of its own and needs the redis-server binary on PATH \
                     ({e}); Debian/Ubuntu: `apt-get install redis-server`"
                )
            });
        // Ready once it accepts a connection.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        OwnRedis { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn adapters_come_back_after_redis_restarts() {
    let redis = OwnRedis::start(free_port()).await;
    let mut cfg = config(&unique_key("reconnect"));
    cfg.url = redis.url();
    let (a, b) = (node(cfg.clone()).await, node(cfg).await);
    let count = |n: usize| {
        let (a, b) = (a.io.of("/"), b.io.of("/"));
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while a.server_count().await != n || b.server_count().await != n {
                assert!(tokio::time::Instant::now() < deadline, "never {n} servers");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    count(2).await;
    let mut on_b = Client::connect(b.addr).await;
    a.io.emit("got", tag("before")).unwrap();
    a.io.emit("end", Vec::new()).unwrap();
    assert_eq!(on_b.until_end().await, ["before"]);

    let port = redis.port;
    drop(redis);

    // Meanwhile each node still serves its own clients; what A broadcasts is lost for B.
    a.io.emit("got", tag("lost")).unwrap();
    b.io.emit("got", tag("local")).unwrap();
    b.io.emit("end", Vec::new()).unwrap();
    assert_eq!(on_b.until_end().await, ["local"]);
    // Server counts while Redis is away: this node alone, no error.
    assert_eq!(a.io.of("/").server_count().await, 1);

    let _redis = OwnRedis::start(port).await;
    count(2).await;
    a.io.emit("got", tag("after")).unwrap();
    a.io.emit("end", Vec::new()).unwrap();
    assert_eq!(on_b.until_end().await, ["after"]);
}

#[tokio::test]
async fn publishes_redis_does_not_take_are_counted_and_a_full_queue_drops_the_rest() {
    use socketio_redis_adapter::RedisCluster;
    use socketio_server::BroadcastOptions;
    use socketio_server::codec::Packet;

    let redis = OwnRedis::start(free_port()).await;
    let mut cfg = config(&unique_key("dropped"));
    cfg.url = redis.url();
    cfg.publish_queue = 4;
    let cluster = RedisCluster::connect(cfg).await.expect("connects");
    let packet = Packet::event("/", "tick", Vec::new(), None);

    // While Redis is there, nothing is dropped.
    for _ in 0..3 {
        cluster.broadcast(&packet, &BroadcastOptions::default());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cluster.dropped_publishes(), 0);

    // Redis gone: 50 publishes at once. The queue takes 4, the rest are refused and counted at
    // once; what the queue held is counted when Redis fails to take it.
    drop(redis);
    for _ in 0..50 {
        cluster.broadcast(&packet, &BroadcastOptions::default());
    }
    assert!(
        cluster.dropped_publishes() >= 46,
        "{} dropped at once",
        cluster.dropped_publishes()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while cluster.dropped_publishes() < 50 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of 50 counted",
            cluster.dropped_publishes()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(cluster.dropped_publishes(), 50);
}
