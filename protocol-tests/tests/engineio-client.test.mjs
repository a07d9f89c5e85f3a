// The official engine.io-client against the `/engine.io/` echo endpoint, in
// each of its three transport modes: polling only, WebSocket only, and polling
// then upgrade to WebSocket.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";
import { startFixture } from "./lib/server.mjs";

const MODES = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
  upgrade: { transports: ["polling", "websocket"] },
};

function open(url, opts) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, { path: "/engine.io/", ...opts });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

function nextMessage(socket) {
  return new Promise((resolve) => socket.once("message", resolve));
}

function waitUpgrade(socket) {
  return new Promise((resolve, reject) => {
    if (socket.transport.name === "websocket") return resolve();
    socket.once("upgrade", resolve);
    socket.once("upgradeError", reject);
  });
}

/// Bytes of a message as a Buffer, whatever type the transport delivered.
function asBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new Error(`not binary: ${typeof data}`);
}

let server;
before(async () => {
  server = await startFixture();
});
after(() => server.stop());

for (const [mode, opts] of Object.entries(MODES)) {
  describe(`engine.io-client, ${mode}`, () => {
    test("opens with the expected handshake", async () => {
      const socket = await open(server.url, opts);
      assert.equal(typeof socket.id, "string");
      assert.ok(socket.id.length > 0);
      const expectedTransport = mode === "websocket" ? "websocket" : "polling";
      assert.equal(socket.transport.name, expectedTransport);
      if (mode === "upgrade") {
        await waitUpgrade(socket);
        assert.equal(socket.transport.name, "websocket");
      }
      socket.close();
    });

    test("echoes text and binary", async () => {
      const socket = await open(server.url, opts);
      socket.send("héllo 🌍");
      assert.equal(await nextMessage(socket), "héllo 🌍");
      const bytes = Buffer.from([0, 1, 2, 255, 254]);
      socket.send(bytes);
      assert.deepEqual(asBuffer(await nextMessage(socket)), bytes);
      // An empty message is the bare packet `4`, which the client reads as
      // no data at all.
      socket.send("");
      assert.equal((await nextMessage(socket)) ?? "", "");
      socket.close();
    });

    test("survives several heartbeats (pingInterval 300 ms)", async () => {
      const socket = await open(server.url, opts);
      let pings = 0;
      socket.on("ping", () => pings++);
      let closed = null;
      socket.on("close", (reason) => (closed = reason));
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(closed, null);
      assert.ok(pings >= 2, `only ${pings} pings in 1.2 s`);
      socket.send("still here");
      assert.equal(await nextMessage(socket), "still here");
      socket.close();
    });

    test("exchanges 1 MB of mixed text and binary, nothing lost or reordered", async () => {
      const socket = await open(server.url, opts);
      if (mode === "upgrade") await waitUpgrade(socket);
      const sent = [];
      let total = 0;
      let i = 0;
      while (total < 1_000_000) {
        const size = 1 + ((i * 7919) % 20000);
        let msg;
        if (i % 2 === 0) {
          msg = `${i}:` + "xé€😀".repeat(Math.ceil(size / 10)).slice(0, size);
        } else {
          msg = Buffer.alloc(size, i % 256);
          msg.writeUInt32BE(i, 0);
        }
        sent.push(msg);
        total += typeof msg === "string" ? Buffer.byteLength(msg) : msg.length;
        i++;
      }
      const received = [];
      const done = new Promise((resolve, reject) => {
        socket.on("message", (data) => {
          received.push(data);
          if (received.length === sent.length) resolve();
        });
        socket.on("close", (reason) => reject(new Error(`closed: ${reason}`)));
      });
      // Send in bursts, as an application would, so that polling carries
      // many packets per request.
      for (let j = 0; j < sent.length; j += 10) {
        for (const msg of sent.slice(j, j + 10)) socket.send(msg);
        await new Promise((r) => setImmediate(r));
      }
      await done;
      for (let j = 0; j < sent.length; j++) {
        if (typeof sent[j] === "string") {
          assert.equal(received[j], sent[j], `message ${j}`);
        } else {
          assert.ok(asBuffer(received[j]).equals(sent[j]), `binary message ${j}`);
        }
      }
      socket.close();
    });

    test("server closes the session when the client stops answering pings", async () => {
      const socket = await open(server.url, opts);
      if (mode === "upgrade") await waitUpgrade(socket);
      const reason = new Promise((resolve) => socket.once("close", resolve));
      // Silence the client: swallow its pongs by replacing the packet writer.
      const original = socket._sendPacket.bind(socket);
      socket._sendPacket = (type, ...rest) => (type === "pong" ? undefined : original(type, ...rest));
      const got = await reason;
      // The client sees the server's close as a transport close, or its own
      // timeout of pingInterval + pingTimeout; either means the session ended.
      assert.match(got, /transport close|ping timeout/);
    });
  });
}
