// Several sio-gateway nodes joined through Redis (REDIS_URL): an event POSTed
// to one node reaches the official socket.io-client connected to another, once,
// with the client's filter applied there; POST /emit too; a node with its
// Socket.IO endpoint off forwards what it ingests. Needs Redis: see
// tests/lib/redis.mjs.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { client, once, connected } from "./lib/sio.mjs";
import { KEY, startGateway, tempDataDir, request, evolutionEvent, sleep } from "../gateway/gateway.mjs";
import { REDIS_URL, redisCommand, waitForNodes } from "./lib/redis.mjs";

function record(socket) {
  const got = [];
  socket.onAny((event, ...args) => got.push({ event, args }));
  return got;
}

describe("gateway cluster through Redis", () => {
  let a, b, dataA, dataB;
  before(async () => {
    assert.equal(await redisCommand("PING"), "PONG");
    dataA = tempDataDir();
    dataB = tempDataDir();
    a = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: dataA.dir, REDIS_URL });
    b = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: dataB.dir, REDIS_URL });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    dataA?.cleanup();
    dataB?.cleanup();
  });

  test("each node says it joined the cluster", () => {
    for (const gw of [a, b]) assert.ok(gw.stdout.some((l) => /^cluster: .*REDIS_URL/.test(l)), gw.stdout.join("\n"));
  });

  test("a webhook POSTed to node A reaches a client of node B", async () => {
    const s = client(b.url, "/cluster-shop", { auth: { apikey: KEY } });
    await connected(s);
    await waitForNodes("/cluster-shop", 1);
    const got = once(s, "messages.upsert");
    const payload = evolutionEvent("cluster-shop");
    const res = await request(a.url, "POST", "/webhook", { key: KEY, body: payload });
    assert.equal(res.status, 202);
    const [ev] = await got;
    assert.deepEqual(ev, payload);
    s.disconnect();
  });

  test("clients on both nodes get each event once, filters applied where they are", async () => {
    const onA = client(a.url, "/cluster-both", { auth: { apikey: KEY } });
    const onB = client(b.url, "/cluster-both", { auth: { apikey: KEY } });
    const filtered = client(b.url, "/cluster-both", { auth: { apikey: KEY, events: ["contacts.update"] } });
    await Promise.all([connected(onA), connected(onB), connected(filtered)]);
    await waitForNodes("/cluster-both", 2);
    const [gotA, gotB, gotF] = [record(onA), record(onB), record(filtered)];
    for (const event of ["messages.upsert", "contacts.update"]) {
      const res = await request(a.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("cluster-both", event) });
      assert.equal(res.status, 202);
    }
    // POST /emit on B reaches A's client too (no filter).
    const res = await request(b.url, "POST", "/emit", {
      key: KEY,
      body: { namespace: "/cluster-both", event: "custom", args: [1, "two"] },
    });
    assert.ok(res.status < 300, `POST /emit answered ${res.status}`);
    const deadline = Date.now() + 5000;
    while ((gotA.length < 3 || gotB.length < 3 || gotF.length < 2) && Date.now() < deadline) await sleep(20);
    await sleep(100);
    // Events from one node keep their order everywhere; events from two nodes have no order
    // between them (B's own emit may reach B's clients before A's earlier webhook does).
    const names = (got) => got.map((g) => g.event);
    assert.deepEqual(names(gotA), ["messages.upsert", "contacts.update", "custom"]);
    assert.deepEqual(names(gotB).filter((e) => e !== "custom"), ["messages.upsert", "contacts.update"]);
    assert.deepEqual(names(gotB).sort(), ["contacts.update", "custom", "messages.upsert"]);
    assert.deepEqual(names(gotF).sort(), ["contacts.update", "custom"]);
    assert.deepEqual(gotA.find((g) => g.event === "custom").args, [1, "two"]);
    for (const s of [onA, onB, filtered]) s.disconnect();
  });

  test("a node with its Socket.IO endpoint off still hands what it ingests to the others", async () => {
    const data = tempDataDir();
    const ingest = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, REDIS_URL, WEBSOCKET_ENABLED: "false" });
    try {
      const s = client(b.url, "/cluster-ingest", { auth: { apikey: KEY } });
      const root = client(b.url, "/", { auth: { apikey: KEY } });
      await Promise.all([connected(s), connected(root)]);
      await waitForNodes("/cluster-ingest", 1);
      await waitForNodes("/", 2);
      const got = record(s);
      const rootGot = record(root);
      const res = await request(ingest.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("cluster-ingest") });
      assert.equal(res.status, 202);
      const emitted = await request(ingest.url, "POST", "/emit", { key: KEY, body: { namespace: "/", event: "hello", args: ["all"] } });
      assert.ok(emitted.status < 300, `POST /emit answered ${emitted.status}`);
      const deadline = Date.now() + 5000;
      while ((got.length < 1 || rootGot.length < 1) && Date.now() < deadline) await sleep(20);
      await sleep(100);
      assert.deepEqual(got.map((g) => g.event), ["messages.upsert"]);
      // Not in global mode: the webhook's event does not go to `/`, POST /emit does.
      assert.deepEqual(rootGot, [{ event: "hello", args: ["all"] }]);
      s.disconnect();
      root.disconnect();
    } finally {
      await ingest.stop();
      data.cleanup();
    }
  });

  test("an instance with no client anywhere costs nothing and errs nowhere", async () => {
    const res = await request(a.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("cluster-nobody") });
    assert.equal(res.status, 202);
    assert.equal((await request(b.url, "GET", "/healthz")).status, 200);
  });
});
