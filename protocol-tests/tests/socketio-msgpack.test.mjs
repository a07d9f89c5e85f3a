// socket.io-client 4.8 with socket.io-msgpack-parser against `feature-server
// --msgpack`: every packet is one MessagePack binary frame.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import msgpackParser from "socket.io-msgpack-parser";
import { startFeatureServer } from "./lib/server.mjs";
import { MODES, client, once, connected, refused, sleep } from "./lib/sio.mjs";

let server;
before(async () => {
  server = await startFeatureServer({ msgpack: true });
});
after(() => server.stop());

const call = (socket, ev, ...args) => socket.timeout(3000).emitWithAck(ev, ...args);

for (const [mode, opts] of Object.entries(MODES)) {
  describe(`msgpack parser, ${mode}`, () => {
    const open = (nsp = "/", extra = {}) => client(server.url, nsp, { ...opts, parser: msgpackParser, ...extra });

    test("connects, and events with binary go both ways", async () => {
      const socket = open();
      const hello = once(socket, "hello");
      await connected(socket);
      assert.equal((await hello)[0].id, socket.id);
      const args = [1, -2.5, "é😀", null, true, { b: Buffer.from([1, 2, 3]), list: [[Buffer.from([])]] }];
      const back = once(socket, "echo");
      assert.equal(await call(socket, "echo", ...args), "ok");
      const got = await back;
      assert.deepEqual(got.slice(0, 5), args.slice(0, 5));
      assert.deepEqual(Buffer.from(got[5].b), Buffer.from([1, 2, 3]));
      assert.equal(got[5].list[0][0].length, 0);
      socket.disconnect();
    });

    test("server acks, broadcasts and refusals", async () => {
      const a = open();
      const b = open();
      await Promise.all([connected(a), connected(b)]);
      a.on("question", (x, ack) => ack({ x }));
      assert.deepEqual(await call(a, "ask", 1000, "q"), { answer: { x: "q" } });
      const news = once(b, "news");
      await call(a, "broadcast", "news", Buffer.from([7]));
      assert.deepEqual(Buffer.from((await news)[0]), Buffer.from([7]));
      const refusedSocket = open("/guarded", { auth: { token: "no" } });
      const err = await refused(refusedSocket);
      assert.equal(err.message, "unauthorized");
      assert.deepEqual(err.data, { reason: "bad token" });
      const invalid = open("/nope");
      assert.equal((await refused(invalid)).message, "Invalid namespace");
      for (const s of [a, b, refusedSocket, invalid]) s.disconnect();
      await sleep(20);
    });
  });
}
