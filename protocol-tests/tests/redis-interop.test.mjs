// Our server and the reference server (npm socket.io 4.8 with
// @socket.io/redis-adapter 8.3) as two nodes of one cluster on one Redis, each
// running feature-server, with socket.io-client 4.8 clients on both: broadcasts
// (to all, to a room, with except), broadcasts with acknowledgements, fetches,
// joins and disconnects started on either node reach the other node's clients;
// server-side emits reach the other node's server and come back answered.
// Needs Redis: see lib/redis.mjs.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startProcess } from "./lib/server.mjs";
import { client, once, connected, sleep } from "./lib/sio.mjs";
import { REDIS_URL, redisCommand, waitForNodes } from "./lib/redis.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const KEY = `interop-${process.pid}-${Date.now()}`;
const call = (socket, ev, ...args) => socket.timeout(3000).emitWithAck(ev, ...args);

/// A client of `server` on `/` (its `hello` seen) that answers `question`
/// with `answer-<its id>` and records every `got` event's first argument.
async function member(server) {
  const socket = client(server.url, "/", { transports: ["websocket"] });
  const hello = once(socket, "hello");
  await connected(socket);
  await hello;
  socket.got = [];
  socket.on("got", (tag) => socket.got.push(tag));
  socket.bins = [];
  socket.on("bin", (data) => socket.bins.push(Buffer.from(data).toString("hex")));
  socket.on("question", (_n, ack) => ack(`answer-${socket.id}`));
  return socket;
}

/// Waits until every socket saw the `got` event tagged `end`, and gives what
/// each saw before it.
async function untilEnd(sockets) {
  const deadline = Date.now() + 5000;
  while (sockets.some((s) => !s.got.includes("end")) && Date.now() < deadline) await sleep(10);
  return sockets.map((s) => {
    const i = s.got.indexOf("end");
    assert.ok(i >= 0, `socket on ${s.io.uri} never saw the end`);
    const before = s.got.slice(0, i);
    s.got = s.got.slice(i + 1);
    return before;
  });
}

/// Waits until each socket's server says it is (or is not) in `room`.
async function inRoom(sockets, room, wanted) {
  const deadline = Date.now() + 3000;
  for (const s of sockets) {
    while ((await call(s, "rooms")).includes(room) !== wanted) {
      assert.ok(Date.now() < deadline, `${s.id} ${wanted ? "never joined" : "never left"} ${room}`);
      await sleep(10);
    }
  }
}

describe("a cluster of our server and the reference server on one Redis", () => {
  let ours, node;
  before(async () => {
    assert.equal(await redisCommand("PING"), "PONG");
    const bin = process.env.FEATURE_SERVER;
    if (!bin) throw new Error("FEATURE_SERVER is not set: run the suite with scripts/test");
    const flags = ["--port", "0", "--redis", REDIS_URL, "--redis-key", KEY];
    ours = await startProcess(bin, flags);
    node = await startProcess(process.execPath, [path.join(here, "../reference/feature-server.mjs"), ...flags]);
    await waitForNodes("/", 2, { key: KEY });
  });
  after(async () => {
    await Promise.all([ours?.stop(), node?.stop()]);
  });

  test("both count two servers", async () => {
    const [r, n] = [await member(ours), await member(node)];
    assert.equal(await call(r, "server-count"), 2);
    assert.equal(await call(n, "server-count"), 2);
    r.disconnect();
    n.disconnect();
  });

  test("server-side emits both ways, with and without acknowledgements", async () => {
    const [r, n] = [await member(ours), await member(node)];
    assert.deepEqual(await call(r, "server-side-emit", "ping", 7, true), ["pong-node-7"]);
    assert.deepEqual(await call(n, "server-side-emit", "ping", "x", true), ['pong-ours-"x"']);
    assert.equal(await call(r, "server-side-emit", "note", { from: "ours" }, false), "ok");
    assert.equal(await call(n, "server-side-emit", "note", { from: "node" }, false), "ok");
    const deadline = Date.now() + 3000;
    let notes;
    while (Date.now() < deadline) {
      notes = [await call(r, "server-notes"), await call(n, "server-notes")];
      if (notes[0].length && notes[1].length) break;
      await sleep(20);
    }
    assert.deepEqual(notes, [[{ from: "node" }], [{ from: "ours" }]]);
    r.disconnect();
    n.disconnect();
  });

  for (const [from, to] of [["node", "ours"], ["ours", "node"]]) {
    test(`broadcasts from ${from} reach the clients of ${to}: all, a room, except`, async () => {
      const servers = { ours: () => ours, node: () => node };
      const sender = await member(servers[from]());
      const [redThere, plainThere] = [await member(servers[to]()), await member(servers[to]())];
      const redHere = await member(servers[from]());
      await call(redThere, "join", "red");
      await call(redHere, "join", "red");

      await call(sender, "emit-all", "got", "all");
      await call(sender, "emit-to", "red", "got", "red");
      await call(sender, "emit-except", "red", "got", "not-red");
      await call(sender, "emit-to-except", sender.id, "red", "got", "own-room");
      await call(sender, "local-all", "got", "local");
      await call(sender, "emit-to", plainThere.id, "got", "direct");
      // Binary crosses too (MessagePack bin on Redis, an attachment to the client).
      await call(sender, "emit-to", plainThere.id, "bin", Buffer.from([1, 2, 3]));
      await call(sender, "emit-all", "got", "end");

      const [s, rt, pt, rh] = await untilEnd([sender, redThere, plainThere, redHere]);
      assert.deepEqual(rt, ["all", "red"]);
      assert.deepEqual(pt, ["all", "not-red", "direct"]);
      assert.deepEqual(plainThere.bins, ["010203"]);
      assert.deepEqual(rh, ["all", "red", "local"]);
      assert.deepEqual(s, ["all", "not-red", "own-room", "local"]);
      for (const c of [sender, redThere, plainThere, redHere]) c.disconnect();
    });

    test(`a broadcast with acknowledgements from ${from} gathers the answers of ${to}'s clients`, async () => {
      const servers = { ours: () => ours, node: () => node };
      const sender = await member(servers[from]());
      const there = [await member(servers[to]()), await member(servers[to]())];
      const here = await member(servers[from]());
      for (const c of [...there, here]) await call(c, "join", "asked");
      const started = Date.now();
      const got = await call(sender, "broadcast-ack", "asked", 2000);
      assert.equal(got.error, undefined, `answers: ${JSON.stringify(got)}`);
      assert.ok(Date.now() - started < 1500, "every node's count arrived before the timeout");
      assert.deepEqual(got.responses.sort(), [...there, here].map((c) => `answer-${c.id}`).sort());
      for (const c of [sender, ...there, here]) c.disconnect();
    });

    test(`fetch, join and disconnect from ${from} reach ${to}'s sockets`, async () => {
      const servers = { ours: () => ours, node: () => node };
      const sender = await member(servers[from]());
      const there = await member(servers[to]());
      const here = await member(servers[from]());
      await call(there, "join", "blue");
      await call(here, "join", "blue");
      assert.deepEqual(await call(sender, "fetch", "blue"), [there.id, here.id].sort());
      // socket.data travels with a fetched socket: an empty object on both servers until set.
      assert.deepEqual(await call(sender, "fetch-data", "blue"), [{}, {}]);

      // The reference applies a join or leave to its own sockets only when its request comes
      // back from Redis: wait for it on both sides before broadcasting.
      await call(sender, "sockets-join", "blue", "gold");
      await inRoom([there, here], "gold", true);
      await call(sender, "emit-to", "gold", "got", "gold");
      await call(sender, "sockets-leave", "blue", "gold");
      await inRoom([there, here], "gold", false);
      await call(sender, "emit-to", "gold", "got", "gold-again");
      await call(sender, "emit-all", "got", "end");
      const [t, h] = await untilEnd([there, here]);
      assert.deepEqual(t, ["gold"]);
      assert.deepEqual(h, ["gold"]);

      const gone = once(there, "disconnect");
      await call(sender, "disconnect-room", "blue", false);
      const [reason] = await gone;
      assert.equal(reason, "io server disconnect");
      for (const c of [sender, here]) c.disconnect();
    });
  }
});
