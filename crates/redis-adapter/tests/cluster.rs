//! Two of our servers on one Redis, as their clients see them: broadcasts from one node reach the
//! other's clients (rooms and exceptions respected, `local` kept local), requests across nodes
//! (server count, fetch, join, disconnect, broadcasts with acknowledgements), the request timeout,
//! separate prefixes, and malformed messages on the channels.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use socketio_server::{Room, Value};
use support::{Client, config, node, redis, tag, unique_key, wait_for_servers};

#[tokio::test]
async fn broadcasts_reach_the_other_nodes_clients() {
    let key = unique_key("broadcast");
    let (a, b) = (node(config(&key)).await, node(config(&key)).await);
    wait_for_servers(&[&a, &b], 2).await;
    let mut on_a = Client::connect(a.addr).await;
    let mut red = Client::connect(b.addr).await;
    let mut plain = Client::connect(b.addr).await;
    red.join("red").await;
    red.join("blue").await;
    plain.join("green").await;

    a.io.emit("got", tag("all")).unwrap();
    a.io.to("red").emit("got", tag("red")).unwrap();
    // Two rooms go on the namespace's channel; the client in both gets it once.
    a.io.to("red")
        .to("blue")
        .emit("got", tag("red+blue"))
        .unwrap();
    a.io.except("red").emit("got", tag("not-red")).unwrap();
    a.io.to("green")
        .except("red")
        .emit("got", tag("green"))
        .unwrap();
    a.io.of("/")
        .broadcast()
        .local()
        .emit("got", tag("local"))
        .unwrap();
    // A socket's own room, across nodes.
    a.io.to(plain.sid.as_str())
        .emit("got", tag("direct"))
        .unwrap();
    a.io.emit("end", Vec::new()).unwrap();

    assert_eq!(red.until_end().await, ["all", "red", "red+blue"]);
    assert_eq!(
        plain.until_end().await,
        ["all", "not-red", "green", "direct"]
    );
    assert_eq!(on_a.until_end().await, ["all", "not-red", "local"]);
}

#[tokio::test]
async fn nodes_on_other_prefixes_do_not_hear_each_other() {
    let key = unique_key("prefix");
    let (a, other) = (
        node(config(&key)).await,
        node(config(&unique_key("other"))).await,
    );
    wait_for_servers(&[&a, &other], 1).await;
    let mut client = Client::connect(other.addr).await;
    a.io.emit("got", tag("from-a")).unwrap();
    other.io.emit("got", tag("own")).unwrap();
    other.io.emit("end", Vec::new()).unwrap();
    assert_eq!(client.until_end().await, ["own"]);
}

#[tokio::test]
async fn fetch_join_and_disconnect_reach_the_other_node() {
    let key = unique_key("requests");
    let (a, b) = (node(config(&key)).await, node(config(&key)).await);
    wait_for_servers(&[&a, &b], 2).await;
    let mut on_b = Client::connect(b.addr).await;
    on_b.join("red").await;
    let _on_a = Client::connect(a.addr).await;

    let fetched = a.io.to("red").fetch_sockets().await;
    assert_eq!(fetched.len(), 1);
    assert_eq!(&*fetched[0].id, on_b.sid.as_str());
    assert!(fetched[0].local.is_none());
    assert!(fetched[0].rooms.iter().any(|r| &**r == "red"));
    assert_eq!(a.io.of("/").fetch_sockets().await.len(), 2);

    // Joined from A, then addressed by that room from A: the join arrives first.
    a.io.to("red").sockets_join(&[Room::from("gold")]);
    a.io.to("gold").emit("got", tag("gold")).unwrap();
    a.io.to("red").sockets_leave(&[Room::from("gold")]);
    a.io.to("gold").emit("got", tag("gold-again")).unwrap();
    a.io.emit("end", Vec::new()).unwrap();
    assert_eq!(on_b.until_end().await, ["gold"]);

    a.io.to("red").disconnect_sockets(false);
    assert!(on_b.until_disconnected().await);
}

#[tokio::test]
async fn broadcast_with_ack_counts_and_gathers_every_nodes_answers() {
    let key = unique_key("acks");
    let (a, b) = (node(config(&key)).await, node(config(&key)).await);
    wait_for_servers(&[&a, &b], 2).await;
    let mut on_a = Client::connect(a.addr).await;
    let mut b1 = Client::connect(b.addr).await;
    let mut b2 = Client::connect(b.addr).await;
    let answering = tokio::spawn(async move {
        let (x, y, z) = tokio::join!(on_a.until_end(), b1.until_end(), b2.until_end());
        drop((x, y, z));
        [on_a.sid, b1.sid, b2.sid]
    });

    let started = Instant::now();
    let answers =
        a.io.of("/")
            .broadcast()
            .timeout(Duration::from_secs(3))
            .emit_with_ack("ask", Vec::new())
            .unwrap()
            .await
            .expect("every client answers in time");
    // All three answered well before the timeout: the count from B arrived.
    assert!(started.elapsed() < Duration::from_secs(2));
    a.io.emit("end", Vec::new()).unwrap();
    let sids = answering.await.unwrap();
    let mut got: Vec<String> = answers
        .iter()
        .map(|args| args[0].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = sids.iter().map(|s| format!("answer-{s}")).collect();
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn a_silent_node_makes_requests_wait_the_configured_timeout() {
    let key = unique_key("timeout");
    let mut cfg = config(&key);
    cfg.request_timeout = Duration::from_millis(300);
    let a = node(cfg).await;
    wait_for_servers(&[&a], 1).await;

    // A "node" that listens on the request channel and never answers.
    let client = redis::Client::open(support::redis_url()).unwrap();
    let mut silent = client.get_async_pubsub().await.unwrap();
    silent.subscribe(format!("{key}-request#/#")).await.unwrap();
    wait_for_servers(&[&a], 2).await;

    let _client = Client::connect(a.addr).await;
    let started = Instant::now();
    let fetched = a.io.of("/").fetch_sockets().await;
    let waited = started.elapsed();
    assert_eq!(
        fetched.len(),
        1,
        "the local socket, whatever the others say"
    );
    assert!(waited >= Duration::from_millis(300), "waited {waited:?}");
    assert!(waited < Duration::from_secs(2), "waited {waited:?}");

    let started = Instant::now();
    assert!(
        a.io.of("/")
            .server_side_emit(Vec::new(), true)
            .await
            .is_empty()
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn malformed_messages_are_dropped_and_the_node_goes_on() {
    let key = unique_key("malformed");
    let a = node(config(&key)).await;
    wait_for_servers(&[&a], 1).await;
    let mut client = Client::connect(a.addr).await;
    let mut conn = redis().await;
    for (channel, payload) in [
        (format!("{key}#/#"), &b"\xc1\xff"[..]),
        (format!("{key}#/#"), b"\x93\xa1x\x80\x80"),
        (format!("{key}#/#room#"), b"not msgpack"),
        (format!("{key}-request#/#"), b"{\"type\":"),
        (format!("{key}-request#/#"), b"{\"type\":7,\"uid\":\"zz\"}"),
        (format!("{key}-request#/#"), b"\x91\x01"),
        (format!("{key}-response#/#"), b"{}"),
    ] {
        let _: () = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    // A well-formed broadcast from a "node" with another uid is still delivered.
    let packet = b"\x93\xa6other1\x83\xa4type\x02\xa4data\x92\xa3got\xa4from\xa3nsp\xa1/\
        \x83\xa5rooms\x90\xa6except\x90\xa5flags\x80";
    let _: () = redis::cmd("PUBLISH")
        .arg(format!("{key}#/#"))
        .arg(&packet[..])
        .query_async(&mut conn)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    a.io.emit("end", Vec::new()).unwrap();
    assert_eq!(client.until_end().await, ["from"]);
}

#[tokio::test]
async fn server_side_emits_reach_the_other_nodes_handlers_and_come_back_answered() {
    let key = unique_key("server-side");
    let (a, b, c) = (
        node(config(&key)).await,
        node(config(&key)).await,
        node(config(&key)).await,
    );
    wait_for_servers(&[&a, &b, &c], 3).await;
    let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    for (name, n) in [("b", &b), ("c", &c)] {
        let tx = tx.clone();
        n.io.of("/").on_server_side_emit(move |_, args, ack| {
            let _ = tx.send((name, args.clone()));
            if let Some(ack) = ack {
                ack.send(Value::from(format!("pong-{name}")));
                // Only the first answer counts.
                ack.send(Value::from("again"));
            }
        });
    }
    // A's own handler never sees its own emits.
    let tx_a = tx.clone();
    a.io.of("/").on_server_side_emit(move |_, args, _| {
        let _ = tx_a.send(("a", args));
    });

    let none =
        a.io.of("/")
            .server_side_emit(vec![Value::from("note"), Value::from(1u64)], false)
            .await;
    assert!(none.is_empty());
    let mut answers =
        a.io.of("/")
            .server_side_emit(vec![Value::from("ping")], true)
            .await;
    answers.sort_by_key(|a| a[0].as_str().map(str::to_owned));
    assert_eq!(
        answers,
        [vec![Value::from("pong-b")], vec![Value::from("pong-c")]]
    );

    drop(tx);
    let mut got = Vec::new();
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_millis(200), seen.recv()).await {
        got.push(item);
    }
    got.sort_by_key(|(name, args)| (*name, args.len()));
    let note = vec![Value::from("note"), Value::from(1u64)];
    let ping = vec![Value::from("ping")];
    assert_eq!(
        got,
        [
            ("b", ping.clone()),
            ("b", note.clone()),
            ("c", ping),
            ("c", note)
        ]
    );
}

#[tokio::test]
async fn requests_and_broadcasts_from_another_node_apply_in_publish_order() {
    let key = unique_key("order");
    let a = node(config(&key)).await;
    wait_for_servers(&[&a], 1).await;
    let mut client = Client::connect(a.addr).await;
    client.join("blue").await;
    let mut conn = redis().await;
    let request = format!("{key}-request#/#");
    let gold = format!("{key}#/#gold#");
    let all = format!("{key}#/#");
    let broadcast = |tag: &str, room: &str| {
        let mut v = b"\x93\xa6other1\x83\xa4type\x02\xa4data\x92\xa3got".to_vec();
        v.push(0xa0 | tag.len() as u8);
        v.extend_from_slice(tag.as_bytes());
        v.extend_from_slice(b"\xa3nsp\xa1/\x83\xa5rooms");
        if room.is_empty() {
            v.push(0x90);
        } else {
            v.push(0x91);
            v.push(0xa0 | room.len() as u8);
            v.extend_from_slice(room.as_bytes());
        }
        v.extend_from_slice(b"\xa6except\x90\xa5flags\x80");
        v
    };
    let join =
        r#"{"uid":"other1","type":2,"opts":{"rooms":["blue"],"except":[]},"rooms":["gold"]}"#;
    let leave =
        r#"{"uid":"other1","type":3,"opts":{"rooms":["blue"],"except":[]},"rooms":["gold"]}"#;
    for (channel, payload) in [
        (&request, join.as_bytes().to_vec()),
        (&gold, broadcast("gold", "gold")),
        (&request, leave.as_bytes().to_vec()),
        (&gold, broadcast("gold-again", "gold")),
        (&all, broadcast("x", "")),
    ] {
        let _: () = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.io.emit("end", Vec::new()).unwrap();
    assert_eq!(client.until_end().await, ["gold", "x"]);
}

#[tokio::test]
async fn a_dynamic_namespace_emptied_and_created_again_still_hears_the_cluster() {
    let key = unique_key("dynamic");
    let a = node(config(&key)).await;
    let cluster = socketio_redis_adapter::RedisCluster::connect(config(&key))
        .await
        .unwrap();
    let server_config = socketio_server::ServerConfig {
        cleanup_empty_child_namespaces: true,
        ..Default::default()
    };
    let b = socketio_server::Server::with_adapter(server_config, cluster.factory());
    b.of_dynamic(|name, _| name.starts_with("/dyn-"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_addr = listener.local_addr().unwrap();
    let served = b.clone();
    tokio::spawn(async move { served.serve(listener).await });

    let a_dyn = a.io.of("/dyn-x");
    let count = |n: usize| {
        let a_dyn = a_dyn.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(5);
            while a_dyn.server_count().await != n {
                assert!(Instant::now() < deadline, "never {n} servers on /dyn-x");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let first = Client::connect_to(b_addr, "/dyn-x").await;
    count(2).await;
    drop(first);
    // The child is dropped with its last socket, and its subscriptions with it.
    count(1).await;

    let mut second = Client::connect_to(b_addr, "/dyn-x").await;
    count(2).await;
    a.io.of("/dyn-x").emit("got", tag("again")).unwrap();
    a.io.of("/dyn-x").emit("end", Vec::new()).unwrap();
    assert_eq!(second.until_end().await, ["again"]);
}

#[tokio::test]
async fn answers_on_the_requesting_nodes_own_channel_when_configured() {
    let key = unique_key("specific");
    let mut specific = config(&key);
    specific.publish_on_specific_response_channel = true;
    let (a, b) = (node(config(&key)).await, node(specific).await);
    wait_for_servers(&[&a, &b], 2).await;
    let on_b = Client::connect(b.addr).await;

    // Listen on the shared response channel: B must not answer there.
    let client = redis::Client::open(support::redis_url()).unwrap();
    let mut shared = client.get_async_pubsub().await.unwrap();
    shared
        .subscribe(format!("{key}-response#/#"))
        .await
        .unwrap();

    let fetched = a.io.of("/").fetch_sockets().await;
    assert_eq!(fetched.len(), 1);
    assert_eq!(&*fetched[0].id, on_b.sid.as_str());
    let mut messages = shared.on_message();
    let stray = tokio::time::timeout(Duration::from_millis(100), messages.next()).await;
    assert!(stray.is_err(), "B answered on the shared channel");
}

#[tokio::test]
async fn socket_ids_and_rooms_requests_from_other_nodes_are_answered() {
    let key = unique_key("rooms");
    let a = node(config(&key)).await;
    wait_for_servers(&[&a], 1).await;
    let mut blue = Client::connect(a.addr).await;
    blue.join("blue").await;
    let _other = Client::connect(a.addr).await;

    let client = redis::Client::open(support::redis_url()).unwrap();
    let mut responses = client.get_async_pubsub().await.unwrap();
    responses
        .subscribe(format!("{key}-response#/#"))
        .await
        .unwrap();
    let mut conn = redis().await;
    for request in [
        r#"{"uid":"other1","requestId":"r-sockets","type":0,"rooms":["blue"]}"#,
        r#"{"uid":"other1","requestId":"r-rooms","type":1}"#,
    ] {
        let _: () = redis::cmd("PUBLISH")
            .arg(format!("{key}-request#/#"))
            .arg(request)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let mut messages = responses.on_message();
    let mut next = async || -> serde_json::Value {
        let msg = tokio::time::timeout(Duration::from_secs(3), messages.next())
            .await
            .expect("an answer")
            .expect("the subscription is open");
        serde_json::from_slice(msg.get_payload_bytes()).expect("a JSON answer")
    };
    let sockets = next().await;
    assert_eq!(sockets["requestId"], "r-sockets");
    assert_eq!(sockets["sockets"], serde_json::json!([blue.sid]));
    let rooms = next().await;
    assert_eq!(rooms["requestId"], "r-rooms");
    let mut names: Vec<String> = serde_json::from_value(rooms["rooms"].clone()).unwrap();
    names.sort();
    assert!(names.contains(&"blue".to_owned()) && names.contains(&blue.sid));
    assert_eq!(names.len(), 3, "blue and each socket's own room: {names:?}");
}
