// sio-gateway access rules with the official socket.io-client: the global key,
// instance tokens (and their replacement), keys that match nothing (HTTP 403 at
// the handshake or CONNECT_ERROR), allowed hosts, namespace names and CORS.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { client, connected, refused, once, MODES } from "./lib/sio.mjs";
import { KEY, startGateway, tempDataDir, request } from "../gateway/gateway.mjs";

describe("gateway auth", () => {
  let gw;
  let data;
  before(async () => {
    data = tempDataDir();
    gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir });
    assert.equal((await request(gw.url, "PUT", "/instances/shop", { key: KEY, body: { token: "T-shop" } })).status, 201);
    assert.equal((await request(gw.url, "PUT", "/instances/bar", { key: KEY, body: { token: "T-bar" } })).status, 201);
  });
  after(async () => {
    await gw.stop();
    data.cleanup();
  });

  for (const [mode, opts] of Object.entries(MODES)) {
    test(`the global key opens every namespace; a token only its own (${mode})`, async () => {
      const ok = [
        client(gw.url, "/shop", { ...opts, auth: { apikey: KEY } }),
        client(gw.url, "/", { ...opts, auth: { apikey: KEY } }),
        client(gw.url, "/never-seen", { ...opts, auth: { apikey: KEY } }),
        client(gw.url, "/shop", { ...opts, auth: { apikey: "T-shop" } }),
        client(gw.url, "/shop", { ...opts, query: { apikey: "T-shop" } }),
        client(gw.url, "/shop", { ...opts, extraHeaders: { apikey: "T-shop" } }),
      ];
      await Promise.all(ok.map((s) => connected(s)));
      const wrong = client(gw.url, "/bar", { ...opts, auth: { apikey: "T-shop" } });
      assert.equal((await refused(wrong)).message, "this key does not open namespace /bar");
      // A token in the query passes the handshake (it matches an instance) and is refused by the namespace.
      const wrongQuery = client(gw.url, "/bar", { ...opts, query: { apikey: "T-shop" } });
      assert.equal((await refused(wrongQuery)).message, "this key does not open namespace /bar");
      const root = client(gw.url, "/", { ...opts, auth: { apikey: "T-shop" } });
      assert.equal((await refused(root)).message, "namespace / needs the global key");
      for (const s of [...ok, wrong, wrongQuery, root]) s.disconnect();
    });

    test(`no key and a wrong key in the auth payload are CONNECT_ERRORs (${mode})`, async () => {
      const none = client(gw.url, "/shop", opts);
      assert.match((await refused(none)).message, /API key is required/);
      const bad = client(gw.url, "/shop", { ...opts, auth: { apikey: "nope" } });
      assert.equal((await refused(bad)).message, "Invalid API key");
      none.disconnect();
      bad.disconnect();
    });

    test(`a wrong key in the query or a header is refused at the handshake (${mode})`, async () => {
      for (const extra of [{ query: { apikey: "nope" } }, ...(mode === "polling" ? [{ extraHeaders: { apikey: "nope" } }] : [])]) {
        const s = client(gw.url, "/shop", { ...opts, ...extra });
        const err = await refused(s);
        assert.notEqual(err.message, "Invalid API key", "not a namespace refusal: the Engine.IO handshake failed");
        assert.equal(s.connected, false);
        s.disconnect();
      }
    });
  }

  test("the handshake refusal is HTTP 403 {code:4}", async () => {
    const q = await request(gw.url, "GET", "/socket.io/?EIO=4&transport=polling&apikey=nope");
    assert.equal(q.status, 403);
    assert.deepEqual(q.body, { code: 4, message: "Invalid API key" });
    const h = await request(gw.url, "GET", "/socket.io/?EIO=4&transport=polling", { headers: { apikey: "nope" } });
    assert.equal(h.status, 403);
    assert.deepEqual(h.body, { code: 4, message: "Invalid API key" });
    const ok = await request(gw.url, "GET", "/socket.io/?EIO=4&transport=polling&apikey=T-bar");
    assert.equal(ok.status, 200);
  });

  test("an instance name outside the allowed characters is an Invalid namespace", async () => {
    // (A comma cannot be tested this way: it ends the namespace in the packet itself.)
    for (const nsp of ["/a b", "/é", "/a*b", "/" + "x".repeat(129)]) {
      const s = client(gw.url, nsp, { auth: { apikey: KEY } });
      assert.equal((await refused(s)).message, "Invalid namespace", nsp);
      s.disconnect();
    }
  });

  test("replacing or deleting a token disconnects the sockets that came in with it", async () => {
    await request(gw.url, "PUT", "/instances/rot", { key: KEY, body: { token: "T-rot-1" } });
    const byToken = client(gw.url, "/rot", { auth: { apikey: "T-rot-1" } });
    const byGlobal = client(gw.url, "/rot", { auth: { apikey: KEY } });
    await Promise.all([connected(byToken), connected(byGlobal)]);
    const gone = once(byToken, "disconnect");
    assert.equal((await request(gw.url, "PUT", "/instances/rot", { key: KEY, body: { token: "T-rot-2" } })).status, 200);
    assert.deepEqual(await gone, ["io server disconnect", undefined]);
    assert.equal(byGlobal.connected, true);
    assert.equal((await refused(client(gw.url, "/rot", { auth: { apikey: "T-rot-1" } }))).message, "Invalid API key");

    const second = client(gw.url, "/rot", { auth: { apikey: "T-rot-2" } });
    await connected(second);
    const gone2 = once(second, "disconnect");
    assert.equal((await request(gw.url, "DELETE", "/instances/rot", { key: KEY })).status, 200);
    assert.equal((await gone2)[0], "io server disconnect");
    byGlobal.disconnect();
  });

  test("the token API: 201, 200, 409, 404, names only", async () => {
    assert.equal((await request(gw.url, "PUT", "/instances/x1", { key: KEY, body: { token: "T-shop" } })).status, 409);
    assert.equal((await request(gw.url, "PUT", "/instances/x1", { key: "T-shop", body: { token: "t" } })).status, 403);
    assert.equal((await request(gw.url, "DELETE", "/instances/x1", { key: KEY })).status, 404);
    const list = await request(gw.url, "GET", `/instances?apikey=${KEY}`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { instances: ["bar", "shop"] });
    // An instance token sends its own events only.
    const own = await request(gw.url, "POST", "/webhook", { key: "T-shop", body: { event: "e", instance: "shop" } });
    assert.equal(own.status, 202);
    const other = await request(gw.url, "POST", "/webhook", { key: "T-shop", body: { event: "e", instance: "bar" } });
    assert.equal(other.status, 403);
  });

  test("CORS: any origin by default", async () => {
    const res = await request(gw.url, "GET", "/socket.io/?EIO=4&transport=polling", { headers: { origin: "http://app.test" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers["access-control-allow-origin"], "*");
  });
});

describe("gateway allowed hosts and CORS list", () => {
  let gw;
  let data;
  before(async () => {
    data = tempDataDir();
    gw = await startGateway({
      AUTHENTICATION_API_KEY: KEY,
      DATA_DIR: data.dir,
      WEBSOCKET_ALLOWED_HOSTS: "127.0.0.1",
      CORS_ORIGIN: "http://allowed.test,http://also.test",
    });
  });
  after(async () => {
    await gw.stop();
    data.cleanup();
  });

  test("a client from an allowed host needs no key for instance namespaces, but does for /", async () => {
    const s = client(gw.url, "/shop");
    await connected(s);
    const root = client(gw.url, "/");
    assert.equal((await refused(root)).message, "namespace / needs the global key");
    // A wrong key is judged as a key even from an allowed host.
    const bad = client(gw.url, "/shop", { auth: { apikey: "nope" } });
    assert.equal((await refused(bad)).message, "Invalid API key");
    for (const x of [s, root, bad]) x.disconnect();
  });

  test("listed origins are echoed, others get no CORS header", async () => {
    const ok = await request(gw.url, "GET", "/socket.io/?EIO=4&transport=polling", { headers: { origin: "http://also.test" } });
    assert.equal(ok.headers["access-control-allow-origin"], "http://also.test");
    const no = await request(gw.url, "GET", "/socket.io/?EIO=4&transport=polling", { headers: { origin: "http://evil.test" } });
    assert.equal(no.headers["access-control-allow-origin"], undefined);
    const api = await request(gw.url, "GET", "/healthz", { headers: { origin: "http://allowed.test" } });
    assert.equal(api.headers["access-control-allow-origin"], "http://allowed.test");
  });
});

describe("gateway without allowed hosts", () => {
  test("loopback clients are not let in without a key by default", async () => {
    const data = tempDataDir();
    const gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, WEBSOCKET_ALLOWED_HOSTS: "10.9.9.9" });
    const s = client(gw.url, "/shop");
    assert.match((await refused(s)).message, /API key is required/);
    s.disconnect();
    await gw.stop();
    data.cleanup();
  });
});
