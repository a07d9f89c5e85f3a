//! Redis drops every connection of the adapters: the servers keep serving their clients, the
//! adapters connect again by themselves, and broadcasts cross nodes again.
//!
//! Alone in its test binary: it kills every Redis client but its own, which would disturb tests
//! running beside it.

mod support;

use std::time::Duration;

use support::{Client, config, node, redis, tag, unique_key, wait_for_servers};

#[tokio::test]
async fn adapters_come_back_after_redis_drops_them() {
    let key = unique_key("reconnect");
    let (a, b) = (node(config(&key)).await, node(config(&key)).await);
    wait_for_servers(&[&a, &b], 2).await;
    let mut on_b = Client::connect(b.addr).await;
    a.io.emit("got", tag("before")).unwrap();
    a.io.emit("end", Vec::new()).unwrap();
    assert_eq!(on_b.until_end().await, ["before"]);

    let mut conn = redis().await;
    for kind in ["pubsub", "normal"] {
        let killed: usize = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg(kind)
            .arg("SKIPME")
            .arg("yes")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(killed >= 2, "killed {killed} {kind} clients");
    }

    // Meanwhile each node still serves its own clients.
    b.io.emit("got", tag("local")).unwrap();
    b.io.emit("end", Vec::new()).unwrap();
    assert_eq!(on_b.until_end().await, ["local"]);

    // Both subscribers are back once Redis counts them again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while a.io.of("/").server_count().await != 2 || b.io.of("/").server_count().await != 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscribers did not come back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.io.emit("got", tag("after")).unwrap();
    a.io.emit("end", Vec::new()).unwrap();
    assert_eq!(on_b.until_end().await, ["after"]);
}
