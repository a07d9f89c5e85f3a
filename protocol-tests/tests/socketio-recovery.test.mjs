// Connection state recovery: `feature-server --recovery` (maxDisconnectionDuration
// 5 s, middlewares skipped on recovery) with socket.io-client 4.8. After the
// transport is forced closed, the client gets back its id, rooms and data, and
// every event it missed, exactly once and in order.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFeatureServer } from "./lib/server.mjs";
import { client, once, connected, sleep } from "./lib/sio.mjs";

let server;
before(async () => {
  server = await startFeatureServer({ recovery: true });
});
after(() => server.stop());

const call = (socket, ev, ...args) => socket.timeout(3000).emitWithAck(ev, ...args);
const reconnecting = { reconnection: true, reconnectionDelay: 100, randomizationFactor: 0 };

for (const mode of ["websocket", "polling"]) {
  describe(`recovery (${mode})`, () => {
    test("missed events arrive exactly once, in order, after a forced transport close", async () => {
      const a = client(server.url, "/", { ...reconnecting, transports: [mode] });
      const other = client(server.url);
      await Promise.all([connected(a), connected(other)]);
      const id = a.id;
      assert.equal(a.recovered, false);
      await call(a, "join", "feed");
      await call(a, "set-data", { kept: true });
      // With recovery on, every event carries its offset as an extra last
      // argument, which the client passes on to listeners.
      const got = [];
      const offsets = [];
      a.on("tick", (n, offset) => {
        got.push(n);
        offsets.push(offset);
      });
      // Something received before the cut, so that the client holds an offset.
      await call(other, "emit-to", "feed", "tick", 0);
      await sleep(100);

      const down = once(a, "disconnect");
      await call(a, "close-transport");
      assert.equal((await down)[0], "transport close");
      for (let i = 1; i <= 5; i++) await call(other, "emit-to", "feed", "tick", i);
      await call(other, "emit-to", "elsewhere", "tick", "not for a");

      const hello = once(a, "hello");
      await once(a, "connect", 5000);
      assert.equal(a.recovered, true);
      assert.equal(a.id, id);
      assert.deepEqual((await hello)[0], { id, recovered: true });
      await call(other, "emit-to", "feed", "tick", 6);
      await sleep(200);
      assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6]);
      assert.ok(offsets.every((o) => typeof o === "string"));
      assert.equal(new Set(offsets).size, offsets.length, "offsets are distinct");
      assert.deepEqual(await call(a, "rooms"), [id, "feed"].sort());
      assert.deepEqual(await call(a, "get-data"), { kept: true });
      a.disconnect();
      other.disconnect();
    });
  });
}

describe("recovery limits", () => {
  test("a deliberate disconnect is not recoverable", async () => {
    const a = client(server.url, "/", reconnecting);
    const other = client(server.url);
    await Promise.all([connected(a), connected(other)]);
    const firstId = a.id;
    await call(other, "emit-to", a.id, "tick", 0);
    await sleep(50);
    a.disconnect();
    a.connect();
    await connected(a);
    assert.equal(a.recovered, false);
    assert.notEqual(a.id, firstId);
    a.disconnect();
    other.disconnect();
  });

  test("an unknown session or offset gets a fresh socket", async () => {
    const a = client(server.url, "/", { auth: {} });
    await connected(a);
    a.disconnect();
    // A made-up pid and offset, as a client after a server restart would send.
    const b = client(server.url, "/", { auth: { pid: "nope", offset: "nope" } });
    const hello = once(b, "hello");
    await connected(b);
    assert.equal((await hello)[0].recovered, false);
    b.disconnect();
  });

  test("the CONNECT reply carries a pid", async () => {
    const a = client(server.url, "/");
    await connected(a);
    assert.equal(typeof a._pid, "string");
    assert.ok(a._pid.length > 0);
    a.disconnect();
  });
});
