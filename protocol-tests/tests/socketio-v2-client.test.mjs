// socket.io-client 2.5 (Socket.IO protocol v4 over Engine.IO v3) against the
// fixture and the feature server started with `--allow-eio3`: the main
// namespace joined without a CONNECT, events, acknowledgements, binary, and
// namespaces whose auth travels as a query string.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import ioV2 from "socket.io-client-v2";
import { startFixture, startFeatureServer } from "./lib/server.mjs";
import { once, sleep } from "./lib/sio.mjs";

let fixture;
let features;
before(async () => {
  fixture = await startFixture({ allowEio3: true });
  features = await startFeatureServer({ allowEio3: true });
});
after(async () => {
  await fixture.stop();
  await features.stop();
});

const MODES = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
  upgrade: { transports: ["polling", "websocket"] },
};

function v2(url, opts = {}) {
  return ioV2(url, { forceNew: true, reconnection: false, ...opts });
}

/// Resolves on `connect`; rejects on the 2.x refusal event `error`.
function connectedV2(socket, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("not connected")), ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function refusedV2(socket, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no refusal")), ms);
    socket.once("connect", () => reject(new Error("connected, expected a refusal")));
    socket.once("error", (err) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

const ack = (socket, ev, ...args) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${ev}`)), 3000);
    socket.emit(ev, ...args, (...got) => {
      clearTimeout(timer);
      resolve(got);
    });
  });

for (const [mode, opts] of Object.entries(MODES)) {
  describe(`socket.io-client 2.x, ${mode}`, () => {
    test("joins / without a CONNECT and gets auth {}", async () => {
      const socket = v2(fixture.url, opts);
      const auth = once(socket, "auth");
      await connectedV2(socket);
      assert.deepEqual(await auth, [{}]);
      socket.close();
    });

    test("events, binary and acknowledgements", async () => {
      const socket = v2(fixture.url, opts);
      await connectedV2(socket);
      const shapes = [[], ["a", 1, { b: [null, true] }], ["é😀"], [Buffer.from([1, 2, 3]), { d: Buffer.from([4]) }]];
      for (const args of shapes) {
        socket.emit("message", ...args);
        assert.deepEqual(await once(socket, "message-back"), args);
      }
      const answer = await ack(socket, "message-with-ack", 1, Buffer.from([9]), "z");
      assert.deepEqual(answer, [1, Buffer.from([9]), "z"]);
      socket.close();
    });

    test("a namespace with its query as auth", async () => {
      const socket = v2(`${fixture.url}/custom`, { ...opts, query: { token: "abc", n: "1" } });
      const auth = once(socket, "auth");
      await connectedV2(socket);
      assert.deepEqual(await auth, [{ token: "abc", n: "1" }]);
      socket.close();
    });

    test("an unknown namespace is refused with {message} (not bare, unlike middleware refusals)", async () => {
      const socket = v2(`${fixture.url}/nope`, opts);
      assert.deepEqual(await refusedV2(socket), { message: "Invalid namespace" });
      socket.close();
    });
  });
}

describe("socket.io-client 2.x on the feature server", () => {
  test("a middleware reads the query; its refusal carries the bare data", async () => {
    const no = v2(`${features.url}/guarded`, { query: { token: "wrong" } });
    assert.deepEqual(await refusedV2(no), { reason: "bad token" });
    no.close();

    const yes = v2(`${features.url}/guarded`, { query: { token: "secret" } });
    const hello = once(yes, "hello");
    await connectedV2(yes);
    const [info] = await hello;
    // Protocol v4 socket ids are derived from the Engine.IO id, as the client expects.
    assert.equal(info.id, yes.id);
    assert.equal(info.id, `/guarded#${yes.io.engine.id}`);
    yes.close();
  });

  test("rooms, broadcasts and server acks reach 2.x and 4.x clients alike", async () => {
    const { client, connected } = await import("./lib/sio.mjs");
    const old = v2(features.url);
    await connectedV2(old);
    const modern = client(features.url);
    await connected(modern);
    assert.deepEqual(await ack(old, "join", "mixed"), ["ok"]);
    await modern.timeout(2000).emitWithAck("join", "mixed");
    const got = [once(old, "news"), once(modern, "news")];
    await modern.timeout(2000).emitWithAck("emit-to", "mixed", "news", Buffer.from([5]), "x");
    for (const g of got) {
      const [buf, s] = await g;
      assert.deepEqual(Buffer.from(buf), Buffer.from([5]));
      assert.equal(s, "x");
    }
    old.on("question", (a, b, cb) => cb(`${a}${b}`));
    assert.deepEqual(await ack(old, "ask", 1000, "q", 2), [{ answer: "q2" }]);
    old.close();
    modern.disconnect();
    await sleep(50);
  });
});
