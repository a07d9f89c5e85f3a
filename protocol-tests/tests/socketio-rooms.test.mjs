// Rooms, every broadcast operator, acknowledgements both ways, catch-all
// listeners, event middlewares and per-socket data, driven through
// `feature-server` with socket.io-client 4.8.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFeatureServer } from "./lib/server.mjs";
import { client, once, connected, collect, sleep } from "./lib/sio.mjs";

let server;
before(async () => {
  server = await startFeatureServer();
});
after(() => server.stop());

/// Connects `n` clients to `/` and waits for each one's `hello`.
async function clients(n, opts = {}) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const socket = client(server.url, "/", opts);
    const hello = once(socket, "hello");
    await connected(socket);
    await hello;
    out.push(socket);
  }
  return out;
}

const call = (socket, ev, ...args) => socket.timeout(3000).emitWithAck(ev, ...args);
const closeAll = (sockets) => sockets.forEach((s) => s.disconnect());

describe("rooms", () => {
  test("join and leave; the own id is a room", async () => {
    const [a] = await clients(1);
    assert.deepEqual(await call(a, "rooms"), [a.id]);
    await call(a, "join", "r1");
    await call(a, "join", "r2");
    assert.deepEqual(await call(a, "rooms"), [a.id, "r1", "r2"].sort());
    await call(a, "leave", "r1");
    assert.deepEqual(await call(a, "rooms"), [a.id, "r2"].sort());
    closeAll([a]);
  });

  test("a disconnected socket has left every room", async () => {
    const [a, b] = await clients(2);
    await call(a, "join", "gone");
    assert.deepEqual(await call(b, "fetch", "gone"), [a.id]);
    a.disconnect();
    await sleep(100);
    assert.deepEqual(await call(b, "fetch", "gone"), []);
    closeAll([b]);
  });
});

describe("broadcast operators", () => {
  test("to / in, except, and both", async () => {
    const [a, b, c] = await clients(3);
    await call(a, "join", "red");
    await call(b, "join", "red");
    await call(b, "join", "blue");
    await call(c, "join", "blue");
    const got = [a, b, c].map((s) => collect(s, "news"));

    await call(c, "emit-to", "red", "news", "to-red");
    await call(c, "emit-except", "red", "news", "except-red");
    await call(c, "emit-to-except", "blue", "red", "news", "blue-not-red");
    await sleep(150);
    assert.deepEqual(got[0], ["to-red"]);
    assert.deepEqual(got[1], ["to-red"]);
    assert.deepEqual(got[2], ["except-red", "blue-not-red"]);
    closeAll([a, b, c]);
  });

  test("a socket's broadcast reaches all but itself; socket.to() too", async () => {
    const [a, b, c] = await clients(3);
    await call(b, "join", "room");
    await call(a, "join", "room");
    const got = [a, b, c].map((s) => collect(s, "shout"));
    await call(a, "broadcast", "shout", 1, { x: [2] });
    await call(a, "socket-to", "room", "shout", "room-only");
    await sleep(150);
    assert.deepEqual(got[0], []);
    assert.deepEqual(got[1], [[1, { x: [2] }], "room-only"]);
    assert.deepEqual(got[2], [[1, { x: [2] }]]);
    closeAll([a, b, c]);
  });

  test("emit to all, volatile, local and compress(false) reach every connected socket", async () => {
    const [a, b] = await clients(2);
    const got = [a, b].map((s) => collect(s, "all"));
    await call(a, "emit-all", "all", "plain");
    await call(a, "volatile-all", "all", "volatile");
    await call(a, "local-all", "all", "local");
    await call(a, "compress-all", "all", "uncompressed");
    await sleep(150);
    // A volatile packet may be dropped for a transport that cannot take it
    // right now; an idle WebSocket or waiting poll takes it.
    for (const g of got) {
      assert.deepEqual(
        g.filter((x) => x !== "volatile"),
        ["plain", "local", "uncompressed"],
      );
    }
    closeAll([a, b]);
  });

  test("a broadcast carries binary to every recipient", async () => {
    const [a, b, c] = await clients(3);
    const got = [b, c].map((s) => once(s, "bin"));
    await call(a, "broadcast", "bin", Buffer.from([1, 2, 3]), { nested: [Buffer.from("xyz")] });
    for (const g of got) {
      const [buf, obj] = await g;
      assert.deepEqual(Buffer.from(buf), Buffer.from([1, 2, 3]));
      assert.deepEqual(Buffer.from(obj.nested[0]), Buffer.from("xyz"));
    }
    closeAll([a, b, c]);
  });

  test("socketsJoin, socketsLeave and fetchSockets", async () => {
    const [a, b, c] = await clients(3);
    await call(a, "join", "src");
    await call(b, "join", "src");
    await call(c, "sockets-join", "src", "dst");
    assert.deepEqual(await call(c, "fetch", "dst"), [a.id, b.id].sort());
    assert.deepEqual(await call(a, "rooms"), [a.id, "dst", "src"].sort());
    await call(c, "sockets-leave", "dst", "dst");
    assert.deepEqual(await call(c, "fetch", "dst"), []);
    closeAll([a, b, c]);
  });
});

describe("broadcast with acknowledgements", () => {
  test("gathers every client's answer", async () => {
    const [a, b, c] = await clients(3);
    await call(a, "join", "quiz");
    await call(b, "join", "quiz");
    a.on("question", (n, ack) => ack(n + 1));
    b.on("question", (n, ack) => ack(n + 2));
    const reply = await call(c, "broadcast-ack", "quiz", 1000);
    assert.deepEqual(reply.responses.sort(), [43, 44]);
    closeAll([a, b, c]);
  });

  test("times out with the answers that came", async () => {
    const [a, b, c] = await clients(3);
    await call(a, "join", "slow");
    await call(b, "join", "slow");
    a.on("question", (n, ack) => ack("fast"));
    b.on("question", () => {}); // never answers
    const started = Date.now();
    const reply = await call(c, "broadcast-ack", "slow", 300);
    assert.equal(reply.error, true);
    assert.deepEqual(reply.responses, ["fast"]);
    assert.ok(Date.now() - started >= 250, "waited for the timeout");
    closeAll([a, b, c]);
  });

  test("an empty room answers at once with no responses", async () => {
    const [a] = await clients(1);
    const reply = await call(a, "broadcast-ack", "nobody", 1000);
    assert.deepEqual(reply, { responses: [] });
    closeAll([a]);
  });
});

describe("acknowledgements from the server", () => {
  test("server emit with ack gets the client's answer", async () => {
    const [a] = await clients(1);
    a.on("question", (x, y, ack) => ack({ got: [x, y] }));
    const reply = await call(a, "ask", 1000, "q", 2);
    assert.deepEqual(reply, { answer: { got: ["q", 2] } });
    closeAll([a]);
  });

  test("server emit with ack times out when the client does not answer", async () => {
    const [a] = await clients(1);
    a.on("question", () => {});
    const reply = await call(a, "ask", 200);
    assert.deepEqual(reply, { error: "timeout" });
    closeAll([a]);
  });

  test("binary goes out with the question and back with the answer", async () => {
    const [a] = await clients(1);
    a.on("question-binary", (buf, ack) => {
      ack(Buffer.concat([Buffer.from(buf), Buffer.from([4])]));
    });
    const reply = await call(a, "ask-binary");
    assert.deepEqual(Buffer.from(reply.answer), Buffer.from([1, 2, 3, 4]));
    closeAll([a]);
  });
});

describe("listeners and middlewares on a socket", () => {
  test("catch-all listeners see incoming and outgoing events", async () => {
    const [a] = await clients(1);
    await call(a, "echo", "x");
    await call(a, "rooms");
    const seen = await call(a, "seen");
    assert.deepEqual(seen, ["echo", "rooms"]);
    const sent = await call(a, "sent");
    assert.deepEqual(sent, ["hello", "echo"]);
    closeAll([a]);
  });

  test("an event middleware refuses an event; the socket stays", async () => {
    const [a] = await clients(1);
    const refusedMsg = once(a, "refused");
    a.emit("forbidden", 1);
    assert.deepEqual(await refusedMsg, ["forbidden event"]);
    assert.equal(await call(a, "echo", "after"), "ok");
    closeAll([a]);
  });

  test("per-socket data, and typed values kept on the socket", async () => {
    const [a, b] = await clients(2);
    assert.deepEqual(await call(a, "get-whole-data"), {}, "socket.data starts as an empty object");
    await call(a, "set-data", { role: "admin", n: [1, 2] });
    assert.deepEqual(await call(a, "get-data"), { role: "admin", n: [1, 2] });
    assert.equal(await call(b, "get-data"), null);
    await call(b, "set-tag", "bee");
    assert.equal(await call(b, "get-tag"), "bee");
    assert.equal(await call(a, "get-tag"), null);
    closeAll([a, b]);
  });

  test("arguments nested 500 levels deep go both ways", async () => {
    const [a] = await clients(1);
    let deep = [1];
    for (let i = 1; i < 500; i++) deep = [deep];
    const back = once(a, "echo");
    await call(a, "echo", deep);
    assert.deepEqual(await back, [deep]);
    const out = once(a, "deep");
    await call(a, "nested", 500);
    assert.deepEqual(await out, [deep]);
    closeAll([a]);
  });
});
