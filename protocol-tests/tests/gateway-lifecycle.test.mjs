// sio-gateway as operators run it: configuration (flags, variables, --help,
// refused values), a start on embedded defaults, the Socket.IO endpoint turned
// off, tokens that survive kill -9, and SIGTERM as a rolling restart sees it.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { client, connected, refused, once, MODES } from "./lib/sio.mjs";
import { KEY, startGateway, tempDataDir, request, evolutionEvent, sleep } from "../gateway/gateway.mjs";

const bin = () => process.env.GATEWAY_BIN;

describe("gateway configuration", () => {
  test("--help lists every setting with its variable and default", () => {
    const out = spawnSync(bin(), ["--help"], { encoding: "utf8" });
    assert.equal(out.status, 0);
    const vars = [
      "WEBSOCKET_ENABLED", "WEBSOCKET_GLOBAL_EVENTS", "AUTHENTICATION_API_KEY", "WEBSOCKET_ALLOWED_HOSTS",
      "CORS_ORIGIN", "SERVER_URL", "SERVER_HOST", "SERVER_PORT", "DATA_DIR", "RELAY_EVENTS", "RELAY_URL",
      "RELAY_TIMEOUT_MS", "REDIS_URL", "LOG_LEVEL", "SERVER_TYPE", "SSL_CONF_PRIVKEY", "SSL_CONF_FULLCHAIN",
      "RELAY_CA_FILE",
    ];
    for (const v of vars) assert.match(out.stdout, new RegExp(`env: ${v}`), v);
    for (const d of ["[default: true]", "[default: false]", "[default: 8080]", "[default: 0.0.0.0]", "[default: ./data]",
      "[default: send_message]", "[default: 10000]", "[default: info]", "[default: *]"]) {
      assert.ok(out.stdout.includes(d), d);
    }
  });

  test("an invalid value stops the start, naming the variable and what it expected", () => {
    const cases = [
      [{ RELAY_TIMEOUT_MS: "soon" }, "RELAY_TIMEOUT_MS", /milliseconds/],
      [{ WEBSOCKET_ENABLED: "maybe" }, "WEBSOCKET_ENABLED", /true or false/],
      [{ SERVER_PORT: "99999" }, "SERVER_PORT", /65535|range/],
      [{ WEBSOCKET_ALLOWED_HOSTS: "10.0.0.1,not-an-ip" }, "WEBSOCKET_ALLOWED_HOSTS", /IP addresses/],
      [{ RELAY_URL: "ftp://x/{event}" }, "RELAY_URL", /http:\/\//],
    ];
    for (const [env, name, expected] of cases) {
      const out = spawnSync(bin(), [], { encoding: "utf8", env: { PATH: process.env.PATH, ...env }, timeout: 10000 });
      assert.notEqual(out.status, 0, name);
      assert.ok(out.stderr.includes(name), `${name}: ${out.stderr}`);
      assert.match(out.stderr, expected, out.stderr);
    }
  });

  test("a flag wins over its variable", async () => {
    const data = tempDataDir();
    const gw = await startGateway({ AUTHENTICATION_API_KEY: "from-env", DATA_DIR: data.dir }, { args: ["--api-key", "from-flag"] });
    assert.equal((await request(gw.url, "GET", "/instances", { key: "from-flag" })).status, 200);
    assert.equal((await request(gw.url, "GET", "/instances", { key: "from-env" })).status, 401);
    await gw.stop();
    data.cleanup();
  });

  test("with no configuration it starts, prints how to connect and a generated key once", async () => {
    const data = tempDataDir();
    const gw = await startGateway({ DATA_DIR: data.dir });
    assert.match(gw.key, /^[0-9a-f]{64}$/);
    assert.equal(gw.stdout.filter((l) => l.includes(gw.key)).length, 1, "printed exactly once");
    assert.ok(gw.stdout.some((l) => l.includes(`io("http://127.0.0.1:${gw.port}/<instance>"`)), gw.stdout.join("\n"));
    assert.ok(!gw.stderr.join("\n").includes(gw.key), "the key is not in the logs");
    const ok = client(gw.url, "/shop", { auth: { apikey: gw.key } });
    await connected(ok);
    const anonymous = client(gw.url, "/shop");
    assert.match((await refused(anonymous)).message, /API key is required/);
    ok.disconnect();
    anonymous.disconnect();
    const health = await request(gw.url, "GET", "/healthz");
    assert.equal(health.status, 200);
    await gw.stop();
    data.cleanup();
  });

  test("WEBSOCKET_ENABLED=false turns the endpoint off, says so, keeps the HTTP API", async () => {
    const data = tempDataDir();
    const gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, WEBSOCKET_ENABLED: "false" });
    assert.ok(gw.stdout.some((l) => /socket\.io: off/.test(l)));
    assert.equal((await request(gw.url, "GET", "/socket.io/?EIO=4&transport=polling")).status, 404);
    assert.equal((await request(gw.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("shop") })).status, 202);
    await gw.stop();
    data.cleanup();
  });

  test("a REDIS_URL with no Redis behind it refuses to start rather than run alone unnoticed", () => {
    const data = tempDataDir();
    const out = spawnSync(bin(), [], {
      encoding: "utf8",
      // Port 1: nothing listens there.
      env: { PATH: process.env.PATH, SERVER_HOST: "127.0.0.1", SERVER_PORT: "0", DATA_DIR: data.dir, REDIS_URL: "redis://127.0.0.1:1" },
      timeout: 10000,
    });
    assert.notEqual(out.status, 0);
    assert.match(out.stderr, /REDIS_URL/);
    data.cleanup();
  });
});

describe("gateway durability", () => {
  test("tokens answered with 2xx survive kill -9 and a restart", async () => {
    const data = tempDataDir();
    let gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir });
    const put = (name, token) => request(gw.url, "PUT", `/instances/${name}`, { key: KEY, body: { token } });
    assert.equal((await put("a", "T-a")).status, 201);
    assert.equal((await put("b", "T-b")).status, 201);
    assert.equal((await put("c", "T-c")).status, 201);
    assert.equal((await put("b", "T-b2")).status, 200);
    assert.equal((await request(gw.url, "DELETE", "/instances/c", { key: KEY })).status, 200);
    // Killed right after the last answer: no chance to flush anything more.
    assert.equal((await put("d", "T-d")).status, 201);
    const exit = await gw.stop("SIGKILL");
    assert.equal(exit.signal, "SIGKILL");

    gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir });
    assert.deepEqual((await request(gw.url, "GET", "/instances", { key: KEY })).body, { instances: ["a", "b", "d"] });
    await connected(client(gw.url, "/b", { auth: { apikey: "T-b2" } })).then((s) => s.disconnect());
    await connected(client(gw.url, "/d", { auth: { apikey: "T-d" } })).then((s) => s.disconnect());
    assert.equal((await refused(client(gw.url, "/b", { auth: { apikey: "T-b" } }))).message, "Invalid API key");
    assert.equal((await refused(client(gw.url, "/c", { auth: { apikey: "T-c" } }))).message, "Invalid API key");
    await gw.stop();
    data.cleanup();
  });
});

describe("gateway shutdown", () => {
  test("SIGTERM closes every transport so clients reconnect, and a new node takes them", async () => {
    const data = tempDataDir();
    const env = { AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir };
    const first = await startGateway(env);
    await request(first.url, "PUT", "/instances/shop", { key: KEY, body: { token: "T-shop" } });
    const reconnecting = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 };
    const sockets = [];
    for (const opts of Object.values(MODES)) {
      sockets.push(client(first.url, "/shop", { ...opts, ...reconnecting, auth: { apikey: "T-shop" } }));
      sockets.push(client(first.url, "/shop", { ...opts, ...reconnecting, auth: { apikey: KEY, events: ["messages.upsert"] } }));
    }
    await Promise.all(sockets.map((s) => connected(s)));
    await sleep(300); // let the upgrade-mode sockets finish upgrading

    const reasons = sockets.map((s) => once(s, "disconnect", 3000));
    const started = Date.now();
    await first.stop("SIGTERM");
    const exit = await first.exited;
    assert.equal(exit.code, 0, "exits with status 0");
    for (const r of await Promise.all(reasons)) assert.equal(r[0], "transport close");
    assert.ok(Date.now() - started < 2500, "disconnected at once");
    assert.ok(first.stderr.some((l) => l.includes("server shutting down")), "server-side reason logged");

    // The next node on the same port and data: every client comes back on its own.
    const back = sockets.map((s) => once(s, "connect", 10000));
    const second = await startGateway(env, { port: first.port });
    await Promise.all(back);
    const got = sockets.map((s) => once(s, "messages.upsert"));
    await request(second.url, "POST", "/webhook", { key: KEY, body: evolutionEvent("shop") });
    for (const [ev] of await Promise.all(got)) assert.equal(ev.instance, "shop");
    for (const s of sockets) s.disconnect();
    await second.stop();
    data.cleanup();
  });
});
