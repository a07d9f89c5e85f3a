// sio-gateway ingest with the official socket.io-client: webhook events reach
// their instance's namespace and no other, global mode adds `/`, the client
// filter, POST /emit, and bad input that emits nothing.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { client, once, connected, MODES } from "./lib/sio.mjs";
import { KEY, startGateway, tempDataDir, request, evolutionEvent, sleep } from "../gateway/gateway.mjs";

/// Collects every event a socket receives, by name.
function record(socket) {
  const got = [];
  socket.onAny((event, ...args) => got.push({ event, args }));
  return got;
}

describe("gateway ingest", () => {
  let gw;
  let data;
  before(async () => {
    data = tempDataDir();
    gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, SERVER_URL: "http://gateway.test" });
  });
  after(async () => {
    await gw.stop();
    data.cleanup();
  });

  for (const [mode, opts] of Object.entries(MODES)) {
    test(`an event reaches its instance's namespace and no other (${mode})`, async () => {
      const shop = client(gw.url, "/shop", { ...opts, auth: { apikey: KEY } });
      const other = client(gw.url, "/other", { ...opts, auth: { apikey: KEY } });
      const root = client(gw.url, "/", { ...opts, auth: { apikey: KEY } });
      await Promise.all([connected(shop), connected(other), connected(root)]);
      const otherGot = record(other);
      const rootGot = record(root);

      const payload = evolutionEvent("shop");
      const got = once(shop, "messages.upsert");
      const res = await request(gw.url, "POST", "/webhook", { key: KEY, body: payload });
      assert.equal(res.status, 202);
      assert.deepEqual(res.body, { status: "accepted", event: "messages.upsert", instance: "shop" });
      const args = await got;
      assert.equal(args.length, 1, "the whole object is the single argument");
      assert.deepEqual(args[0], payload, "the object arrives unchanged");
      assert.deepEqual(Object.keys(args[0]), Object.keys(payload), "keys keep their order");

      await sleep(200);
      assert.deepEqual(otherGot, []);
      assert.deepEqual(rootGot, [], "no global events unless WEBSOCKET_GLOBAL_EVENTS");
      for (const s of [shop, other, root]) s.disconnect();
    });
  }

  test("a namespace exists before its first event and for an instance with no token", async () => {
    const s = client(gw.url, "/brand-new.instance_1~x", { auth: { apikey: KEY } });
    await connected(s);
    const got = once(s, "connection.update");
    const body = { event: "connection.update", instance: "brand-new.instance_1~x", data: { state: "open" } };
    assert.equal((await request(gw.url, "POST", "/webhook", { key: KEY, body })).status, 202);
    const [ev] = await got;
    assert.equal(ev.server_url, "http://gateway.test", "SERVER_URL fills a missing server_url");
    assert.deepEqual(ev.data, { state: "open" });
    s.disconnect();
  });

  test("the /<event-name> routes and the key in the path", async () => {
    const s = client(gw.url, "/shop", { auth: { apikey: KEY } });
    await connected(s);
    const got = record(s);
    // The body's event wins over the path.
    await request(gw.url, "POST", "/webhook/messages-update", { key: KEY, body: evolutionEvent("shop", "messages.upsert") });
    // The path supplies the event when the body has none.
    await request(gw.url, "POST", `/webhook/key/${KEY}/qrcode-updated`, { body: { instance: "shop", data: { qrcode: "x" } } });
    await request(gw.url, "POST", `/webhook/key/${KEY}`, { body: evolutionEvent("shop", "contacts.update") });
    await sleep(300);
    assert.deepEqual(got.map((g) => g.event), ["messages.upsert", "qrcode-updated", "contacts.update"]);
    assert.equal(got[1].args[0].event, "qrcode-updated");
    s.disconnect();
  });

  test("bad input is a 4xx naming the problem, and nothing is emitted", async () => {
    const s = client(gw.url, "/shop", { auth: { apikey: KEY } });
    await connected(s);
    const got = record(s);
    const cases = [
      [{}, "`event`"],
      [{ event: "messages.upsert" }, "`instance`"],
      [{ event: "messages.upsert", instance: "sh/op" }, "`instance`"],
      [{ event: 12, instance: "shop" }, "`event`"],
      [{ event: "disconnect", instance: "shop" }, "reserved"],
      ["{not json", "JSON"],
      [[1, 2], "object"],
    ];
    for (const [body, needle] of cases) {
      const res = await request(gw.url, "POST", "/webhook", { key: KEY, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error, new RegExp(needle.replace(/[`]/g, "`")), JSON.stringify(res.body));
    }
    const noKey = await request(gw.url, "POST", "/webhook", { body: evolutionEvent("shop") });
    assert.equal(noKey.status, 401);
    assert.equal(typeof noKey.body.error, "string");
    await sleep(300);
    assert.deepEqual(got, []);
    s.disconnect();
  });

  test("the client filter: only the listed events, either spelling; [] means all", async () => {
    const upsertOnly = client(gw.url, "/shop", { auth: { apikey: KEY, events: ["MESSAGES_UPSERT"] } });
    const two = client(gw.url, "/shop", { auth: { apikey: KEY, events: ["messages.upsert", "connection.update"] } });
    const all = client(gw.url, "/shop", { auth: { apikey: KEY, events: [] } });
    await Promise.all([connected(upsertOnly), connected(two), connected(all)]);
    const [a, b, c] = [record(upsertOnly), record(two), record(all)];
    for (const ev of ["messages.upsert", "connection.update", "presence.update"]) {
      await request(gw.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("shop", ev) });
    }
    // The filter does not apply to POST /emit.
    await request(gw.url, "POST", "/emit", { key: KEY, body: { namespace: "/shop", event: "custom", args: [1, "two"] } });
    await sleep(300);
    assert.deepEqual(a.map((g) => g.event), ["messages.upsert", "custom"]);
    assert.deepEqual(b.map((g) => g.event), ["messages.upsert", "connection.update", "custom"]);
    assert.deepEqual(c.map((g) => g.event), ["messages.upsert", "connection.update", "presence.update", "custom"]);
    assert.deepEqual(c[3].args, [1, "two"]);
    for (const s of [upsertOnly, two, all]) s.disconnect();
  });

  test("a filter that is not a list of strings is refused", async () => {
    const s = client(gw.url, "/shop", { auth: { apikey: KEY, events: "messages.upsert" } });
    const err = await new Promise((resolve) => s.once("connect_error", resolve));
    assert.match(err.message, /events/);
    s.disconnect();
  });
});

describe("gateway global mode", () => {
  let gw;
  let data;
  before(async () => {
    data = tempDataDir();
    gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, WEBSOCKET_GLOBAL_EVENTS: "true" });
  });
  after(async () => {
    await gw.stop();
    data.cleanup();
  });

  test("every instance's events also go to /, filtered there too", async () => {
    const root = client(gw.url, "/", { auth: { apikey: KEY } });
    const rootFiltered = client(gw.url, "/", { auth: { apikey: KEY, events: ["connection.update"] } });
    const shop = client(gw.url, "/shop", { auth: { apikey: KEY } });
    await Promise.all([connected(root), connected(rootFiltered), connected(shop)]);
    const [r, f, s] = [record(root), record(rootFiltered), record(shop)];
    await request(gw.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("shop") });
    await request(gw.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("bar", "connection.update") });
    await sleep(300);
    assert.deepEqual(r.map((g) => [g.event, g.args[0].instance]), [["messages.upsert", "shop"], ["connection.update", "bar"]]);
    assert.deepEqual(f.map((g) => g.event), ["connection.update"]);
    assert.deepEqual(s.map((g) => g.event), ["messages.upsert"]);
    for (const x of [root, rootFiltered, shop]) x.disconnect();
  });
});

describe("gateway body limit", () => {
  let gw;
  let data;
  before(async () => {
    data = tempDataDir();
    gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, MAX_BODY_BYTES: "1000" });
  });
  after(async () => {
    await gw.stop();
    data.cleanup();
  });

  test("a webhook body over MAX_BODY_BYTES is a 413, sized or chunked, and nothing is emitted", async () => {
    const shop = client(gw.url, "/shop", { auth: { apikey: KEY } });
    await connected(shop);
    const got = record(shop);
    const big = evolutionEvent("shop", "messages.upsert", { text: "x".repeat(2000) });
    const sized = await request(gw.url, "POST", "/webhook", { key: KEY, body: big });
    assert.equal(sized.status, 413);
    // Without a length, node:http sends the body chunked.
    const chunked = await request(gw.url, "POST", "/webhook", {
      key: KEY,
      body: big,
      headers: { "transfer-encoding": "chunked" },
    });
    assert.equal(chunked.status, 413);
    // Under the limit, the same route works, on a fresh connection or a kept one.
    const small = await request(gw.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("shop") });
    assert.equal(small.status, 202);
    await sleep(200);
    assert.deepEqual(got.map((g) => g.event), ["messages.upsert"]);
    assert.ok(!JSON.stringify(got).includes("xxxx"), "the large event was not emitted");
    shop.disconnect();
  });
});
