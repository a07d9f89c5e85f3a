// Namespaces (static, guarded by middlewares, dynamic), refusals, and every way
// the server ends a socket, with the reasons both sides see; driven through
// `feature-server` with socket.io-client 4.8.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFeatureServer } from "./lib/server.mjs";
import { client, once, connected, refused, sleep } from "./lib/sio.mjs";

let server;
before(async () => {
  server = await startFeatureServer();
});
after(() => server.stop());

const call = (socket, ev, ...args) => socket.timeout(3000).emitWithAck(ev, ...args);

/// The server-side disconnect reason of socket `id`, once the server has recorded it.
async function reasonOf(observer, id) {
  for (let i = 0; i < 20; i++) {
    const reason = await call(observer, "reason-of", id);
    if (reason !== null) return reason;
    await sleep(50);
  }
  return null;
}

describe("connect middlewares", () => {
  for (const mode of ["websocket", "polling"]) {
    test(`a refusal is a CONNECT_ERROR with message and data (${mode})`, async () => {
      const socket = client(server.url, "/guarded", { transports: [mode], auth: { token: "wrong" } });
      const err = await refused(socket);
      assert.equal(err.message, "unauthorized");
      assert.deepEqual(err.data, { reason: "bad token" });
      socket.disconnect();
    });
  }

  test("the right auth passes; no auth is refused", async () => {
    const ok = client(server.url, "/guarded", { auth: { token: "secret" } });
    const hello = once(ok, "hello");
    await connected(ok);
    const [info] = await hello;
    assert.equal(info.id, ok.id);
    assert.equal(info.recovered, false);
    ok.disconnect();

    const none = client(server.url, "/guarded");
    assert.equal((await refused(none)).message, "unauthorized");
    none.disconnect();
  });

  test("an asynchronous middleware decides later", async () => {
    const no = client(server.url, "/async-guarded", { auth: { token: "x" } });
    assert.equal((await refused(no)).message, "slow no");
    no.disconnect();
    const yes = client(server.url, "/async-guarded", { auth: { token: "secret" } });
    await connected(yes);
    yes.disconnect();
  });

  test("a refused namespace leaves the others on the connection working", async () => {
    const main = client(server.url, "/");
    await connected(main);
    const guarded = main.io.socket("/guarded", { auth: {} });
    await refused(guarded);
    assert.equal(await call(main, "echo", 1), "ok");
    main.disconnect();
  });
});

describe("dynamic namespaces", () => {
  test("a name the matcher accepts is created on first connect", async () => {
    const socket = client(server.url, "/dyn-abc1");
    const welcome = once(socket, "welcome");
    await connected(socket);
    assert.deepEqual(await welcome, ["/dyn-abc1"]);
    socket.disconnect();
  });

  test("the parent's middleware applies to every child", async () => {
    const socket = client(server.url, "/dyn-banned");
    assert.equal((await refused(socket)).message, "banned");
    socket.disconnect();
  });

  test("a name the matcher refuses is an Invalid namespace", async () => {
    for (const name of ["/dyn-", "/dyn-UPPER", "/other"]) {
      const socket = client(server.url, name);
      assert.equal((await refused(socket)).message, "Invalid namespace", name);
      socket.disconnect();
    }
  });
});

describe("server-side disconnects", () => {
  test("disconnect() sends DISCONNECT: the client sees io server disconnect", async () => {
    const [a, b] = [client(server.url), client(server.url)];
    await Promise.all([connected(a), connected(b)]);
    const id = a.id;
    const reason = once(a, "disconnect");
    await call(a, "disconnect-me", false);
    assert.deepEqual((await reason)[0], "io server disconnect");
    await sleep(50);
    assert.equal(await reasonOf(b, id), "server namespace disconnect");
    b.disconnect();
  });

  test("disconnect(true) closes the whole connection", async () => {
    const main = client(server.url);
    await connected(main);
    const dyn = main.io.socket("/dyn-two");
    await connected(dyn);
    const observer = client(server.url);
    await connected(observer);
    const ids = [main.id, dyn.id];
    const reasons = [once(main, "disconnect"), once(dyn, "disconnect")];
    await call(main, "disconnect-me", true);
    for (const r of reasons) assert.equal((await r)[0], "io server disconnect");
    await sleep(50);
    for (const id of ids) {
      assert.equal(await reasonOf(observer, id), "server namespace disconnect");
    }
    observer.disconnect();
  });

  test("disconnectSockets on a room", async () => {
    const [a, b, c] = [client(server.url), client(server.url), client(server.url)];
    await Promise.all([a, b, c].map((s) => connected(s)));
    await call(a, "join", "kick");
    await call(b, "join", "kick");
    const gone = [once(a, "disconnect"), once(b, "disconnect")];
    await call(c, "disconnect-room", "kick", false);
    for (const g of gone) assert.equal((await g)[0], "io server disconnect");
    assert.equal(c.connected, true);
    assert.equal(await call(c, "count"), 1);
    c.disconnect();
  });

  test("the client leaving: disconnecting (rooms still there), then disconnect (rooms left)", async () => {
    const [a, b] = [client(server.url), client(server.url)];
    await Promise.all([connected(a), connected(b)]);
    const id = a.id;
    await call(a, "join", "zroom");
    a.disconnect();
    await sleep(100);
    assert.equal(await reasonOf(b, id), "client namespace disconnect");
    const expectedRooms = [id, "zroom"].sort().join(",");
    assert.equal(await reasonOf(b, `leaving:${id}`), `client namespace disconnect|${expectedRooms}`);
    assert.equal(await reasonOf(b, `after:${id}`), "0");
    b.disconnect();
  });

  test("the client closing its transport: forced close there, transport close here", async () => {
    for (const mode of ["websocket", "polling"]) {
      const [a, b] = [client(server.url, "/", { transports: [mode] }), client(server.url)];
      await Promise.all([connected(a), connected(b)]);
      const id = a.id;
      const reason = once(a, "disconnect");
      a.io.engine.close();
      assert.equal((await reason)[0], "forced close");
      await sleep(100);
      assert.equal(await reasonOf(b, id), "transport close", mode);
      b.disconnect();
    }
  });

  test("the server closing the transport: forced close, the client reconnects", async () => {
    const a = client(server.url, "/", { reconnection: true, reconnectionDelay: 50, randomizationFactor: 0 });
    const b = client(server.url);
    await Promise.all([connected(a), connected(b)]);
    const id = a.id;
    const reason = once(a, "disconnect");
    await call(a, "close-transport");
    assert.equal((await reason)[0], "transport close");
    await once(a, "connect");
    assert.notEqual(a.id, id, "a new socket without recovery");
    assert.equal(await reasonOf(b, id), "forced close");
    a.disconnect();
    b.disconnect();
  });

  test("a client that stops answering pings: ping timeout", async () => {
    const a = client(server.url, "/", { transports: ["websocket"] });
    const b = client(server.url);
    await Promise.all([connected(a), connected(b)]);
    const id = a.id;
    const engine = a.io.engine;
    const original = engine._sendPacket.bind(engine);
    engine._sendPacket = (type, ...rest) => (type === "pong" ? undefined : original(type, ...rest));
    await sleep(900);
    assert.equal(await reasonOf(b, id), "ping timeout");
    a.disconnect();
    b.disconnect();
  });
});

describe("server shutdown", () => {
  test("every socket leaves with server shutting down, without a DISCONNECT packet", async () => {
    const own = await startFeatureServer();
    try {
      const a = client(own.url, "/", { transports: ["websocket"] });
      const b = client(own.url, "/", { transports: ["polling"] });
      await Promise.all([connected(a), connected(b)]);
      const ids = [a.id, b.id];
      const reasons = [once(a, "disconnect"), once(b, "disconnect")];
      a.emit("shutdown");
      // No DISCONNECT packet: the clients see the transport go (a WebSocket close, or a
      // failed poll), and would reconnect.
      for (const r of reasons) assert.match((await r)[0], /^transport (close|error)$/);
      if (process.env.TARGET !== "reference") {
        // Ours keeps accepting (the embedding application stops its listener); the reference
        // closes its HTTP server too.
        const observer = client(own.url);
        await connected(observer);
        for (const id of ids) {
          assert.equal(await reasonOf(observer, id), "server shutting down");
        }
        observer.disconnect();
      }
    } finally {
      await own.stop();
    }
  });
});
