// socket.io-client 4.8 against the fixture's `/socket.io/` endpoint (see
// DESIGN.md, "Conformance fixture"), in its three transport modes: namespaces,
// auth, refusals, events of every shape and acknowledgements both ways.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFixture } from "./lib/server.mjs";
import { MODES, client, once, connected, refused, upgraded } from "./lib/sio.mjs";

let server;
before(async () => {
  server = await startFixture();
});
after(() => server.stop());

for (const [mode, opts] of Object.entries(MODES)) {
  describe(`socket.io-client, ${mode}`, () => {
    test("connects to / without auth and gets {} back", async () => {
      const socket = client(server.url, "/", opts);
      const auth = once(socket, "auth");
      await connected(socket);
      assert.equal(typeof socket.id, "string");
      assert.notEqual(socket.id, socket.io.engine.id, "the socket id is not the Engine.IO id");
      assert.deepEqual(await auth, [{}]);
      if (mode === "upgrade") {
        await upgraded(socket);
        assert.equal(socket.io.engine.transport.name, "websocket");
      } else {
        assert.equal(socket.io.engine.transport.name, opts.transports[0]);
      }
      socket.disconnect();
    });

    test("connects to /custom with auth and gets it back", async () => {
      const auth = { token: "abc", nested: { n: [1, 2.5, null, true] }, s: "é😀" };
      const socket = client(server.url, "/custom", { ...opts, auth });
      const got = once(socket, "auth");
      await connected(socket);
      assert.deepEqual(await got, [auth]);
      socket.disconnect();
    });

    test("an unknown namespace is refused as Invalid namespace", async () => {
      const socket = client(server.url, "/nope", opts);
      const err = await refused(socket);
      assert.equal(err.message, "Invalid namespace");
      socket.disconnect();
    });

    test("events of every shape come back unchanged", async () => {
      const socket = client(server.url, "/", opts);
      await connected(socket);
      if (mode === "upgrade") await upgraded(socket);
      const shapes = [
        [],
        [1, "two", 3.5, -4, true, false, null],
        [{ a: { b: { c: [1, [2, [3]]] } } }],
        ["héllo wörld 🌍 \u2028 \" \\ \n"],
        [Buffer.from([0, 1, 2, 255])],
        [{ file: Buffer.from("abc"), list: [Buffer.from([]), { deep: Buffer.from([9]) }] }],
        [Buffer.from([1]), "x", Buffer.from([2])],
      ];
      for (const args of shapes) {
        socket.emit("message", ...args);
        const got = await once(socket, "message-back");
        assert.deepEqual(got, args, `shape ${JSON.stringify(args)}`);
      }
      socket.disconnect();
    });

    test("a payload near maxPayload (1 MB) goes through", async () => {
      const socket = client(server.url, "/", opts);
      await connected(socket);
      // The packet adds its type, the event name and quotes: stay below 1e6.
      const big = "x".repeat(999_900);
      socket.emit("message", big);
      const [got] = await once(socket, "message-back", 10000);
      assert.equal(got.length, big.length);
      assert.equal(got, big);
      socket.disconnect();
    });

    test("a client emit with ack is answered with the same (binary) arguments", async () => {
      const socket = client(server.url, "/", opts);
      await connected(socket);
      const args = [1, { b: Buffer.from([7, 8]) }, "z"];
      const answer = await socket.timeout(3000).emitWithAck("message-with-ack", ...args);
      // emitWithAck resolves with the first argument only.
      assert.deepEqual(answer, args[0]);
      const all = await new Promise((resolve) =>
        socket.emit("message-with-ack", ...args, (...got) => resolve(got)),
      );
      assert.deepEqual(all, args);
      socket.disconnect();
    });

    test("two namespaces share one connection", async () => {
      const main = client(server.url, "/", opts);
      await connected(main);
      const custom = main.io.socket("/custom", { auth: { k: 1 } });
      const got = once(custom, "auth");
      await connected(custom);
      assert.deepEqual(await got, [{ k: 1 }]);
      assert.equal(main.io.engine.id, custom.io.engine.id);
      assert.notEqual(main.id, custom.id);
      custom.disconnect();
      main.emit("message", "still");
      assert.deepEqual(await once(main, "message-back"), ["still"]);
      main.disconnect();
    });
  });
}
