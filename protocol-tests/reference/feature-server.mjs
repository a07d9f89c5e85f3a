// The reference implementation (npm socket.io 4.8) of `feature-server`
// (protocol-tests/fixture/src/bin/feature-server.rs): the same events on the same
// namespaces, so that the feature suites run with TARGET=reference check their
// own expectations.
//
//   node reference/feature-server.mjs [--port N] [--recovery] [--allow-eio3] [--msgpack]
//                                     [--redis URL [--redis-key KEY]]
//
// With --redis, the namespaces use npm @socket.io/redis-adapter on that Redis
// (channel prefix KEY, `socket.io` by default).
import http from "node:http";
import { Server } from "socket.io";
import msgpackParser from "socket.io-msgpack-parser";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const args = process.argv.slice(2);
const option = (name) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const port = Number(option("--port") ?? 3000);

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  connectTimeout: 1000,
  allowEIO3: args.includes("--allow-eio3"),
  ...(args.includes("--msgpack") ? { parser: msgpackParser } : {}),
  cors: { origin: "*" },
  connectionStateRecovery: args.includes("--recovery")
    ? { maxDisconnectionDuration: 5000, skipMiddlewares: true }
    : undefined,
});

if (option("--redis")) {
  const pub = createClient({ url: option("--redis") });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (e) => console.error("redis:", e.message));
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub, { key: option("--redis-key") ?? "socket.io" }));
}

// Events from the other nodes' servers: `note` is kept (see `server-notes`), `ping` answered.
const notes = [];
io.of("/").on("note", (arg) => notes.push(arg));
io.of("/").on("ping", (arg, ack) => ack(`pong-node-${JSON.stringify(arg)}`));

const reasons = new Map();
const record = (socket) => {
  socket.on("disconnecting", (reason) =>
    reasons.set(`leaving:${socket.id}`, `${reason}|${[...socket.rooms].sort().join(",")}`),
  );
  socket.on("disconnect", (reason) => {
    reasons.set(`after:${socket.id}`, String(socket.rooms.size));
    reasons.set(socket.id, reason);
  });
};
const hello = (socket) => socket.emit("hello", { id: socket.id, recovered: socket.recovered });
const token = (socket) => socket.handshake.auth?.token;
const firsts = (all) => all.map((a) => (Array.isArray(a) ? a[0] : a) ?? null);

io.on("connection", (socket) => {
  record(socket);
  const seen = [];
  const sent = [];
  socket.onAny((name) => name !== "seen" && seen.push(name));
  socket.onAnyOutgoing((name) => sent.push(name));
  socket.use(([name], next) => (name === "forbidden" ? next(new Error("forbidden event")) : next()));
  socket.on("error", (err) => socket.emit("refused", err.message));
  hello(socket);

  socket.on("seen", (ack) => ack([...seen]));
  socket.on("sent", (ack) => ack([...sent]));
  socket.on("join", (room, ack) => (socket.join(room), ack("ok")));
  socket.on("leave", (room, ack) => (socket.leave(room), ack("ok")));
  socket.on("rooms", (ack) => ack([...socket.rooms].sort()));
  socket.on("emit-to", (room, ev, ...rest) => {
    const ack = rest.pop();
    io.to(room).emit(ev, ...rest);
    ack("ok");
  });
  socket.on("emit-except", (room, ev, ...rest) => {
    const ack = rest.pop();
    io.except(room).emit(ev, ...rest);
    ack("ok");
  });
  socket.on("emit-to-except", (room, except, ev, ...rest) => {
    const ack = rest.pop();
    io.to(room).except(except).emit(ev, ...rest);
    ack("ok");
  });
  socket.on("broadcast", (ev, ...rest) => {
    const ack = rest.pop();
    socket.broadcast.emit(ev, ...rest);
    ack("ok");
  });
  socket.on("socket-to", (room, ev, ...rest) => {
    const ack = rest.pop();
    socket.to(room).emit(ev, ...rest);
    ack("ok");
  });
  socket.on("emit-all", (ev, ...rest) => {
    const ack = rest.pop();
    io.emit(ev, ...rest);
    ack("ok");
  });
  socket.on("volatile-all", (ev, ...rest) => {
    const ack = rest.pop();
    io.volatile.emit(ev, ...rest);
    ack("ok");
  });
  socket.on("local-all", (ev, ...rest) => {
    const ack = rest.pop();
    io.local.emit(ev, ...rest);
    ack("ok");
  });
  socket.on("compress-all", (ev, ...rest) => {
    const ack = rest.pop();
    io.compress(false).emit(ev, ...rest);
    ack("ok");
  });
  socket.on("broadcast-ack", async (room, timeout, ack) => {
    try {
      const responses = await io.to(room).timeout(timeout).emitWithAck("question", 42);
      ack({ responses: firsts(responses) });
    } catch (err) {
      ack({ error: true, responses: firsts(err.responses ?? []) });
    }
  });
  socket.on("ask", async (timeout, ...rest) => {
    const ack = rest.pop();
    try {
      ack({ answer: await socket.timeout(timeout).emitWithAck("question", ...rest) });
    } catch {
      ack({ error: "timeout" });
    }
  });
  socket.on("ask-binary", async (ack) => {
    ack({ answer: await socket.emitWithAck("question-binary", Buffer.from([1, 2, 3])) });
  });
  socket.on("disconnect-me", (close, ack) => {
    ack("ok");
    socket.disconnect(close);
  });
  socket.on("shutdown", () => io.close());
  socket.on("close-transport", (ack) => {
    ack("ok");
    socket.conn.close();
  });
  socket.on("disconnect-room", (room, close, ack) => {
    ack("ok");
    io.to(room).disconnectSockets(close);
  });
  socket.on("sockets-join", (room, target, ack) => (io.to(room).socketsJoin(target), ack("ok")));
  socket.on("sockets-leave", (room, target, ack) => (io.to(room).socketsLeave(target), ack("ok")));
  socket.on("fetch", async (room, ack) => {
    const sockets = await io.to(room).fetchSockets();
    ack(sockets.map((s) => s.id).sort());
  });
  socket.on("fetch-data", async (room, ack) => {
    const sockets = await io.to(room).fetchSockets();
    ack(sockets.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((s) => s.data));
  });
  socket.on("count", (ack) => ack(io.of("/").sockets.size));
  socket.on("server-count", async (ack) => ack(await io.of("/").adapter.serverCount()));
  socket.on("server-side-emit", async (ev, arg, withAck, ack) => {
    if (!withAck) return io.serverSideEmit(ev, arg), ack("ok");
    try {
      ack(await io.serverSideEmitWithAck(ev, arg));
    } catch (err) {
      ack({ error: err.message });
    }
  });
  socket.on("server-notes", (ack) => ack([...notes]));
  socket.on("reason-of", (id, ack) => ack(reasons.get(id) ?? null));
  socket.on("set-data", (value, ack) => ((socket.data = { value }), ack("ok")));
  socket.on("get-data", (ack) => ack(socket.data?.value ?? null));
  socket.on("get-whole-data", (ack) => ack(socket.data));
  socket.on("set-tag", (tag, ack) => ((socket.tag = tag), ack("ok")));
  socket.on("get-tag", (ack) => ack(socket.tag ?? null));
  socket.on("echo", (...rest) => {
    const ack = rest.pop();
    socket.emit("echo", ...rest);
    ack("ok");
  });
  socket.on("nested", (depth, ack) => {
    let value = [1];
    for (let i = 1; i < depth; i++) value = [value];
    socket.emit("deep", value);
    ack("ok");
  });
});

const guarded = io.of("/guarded");
guarded.use((socket, next) => {
  if (token(socket) === "secret") return next();
  const err = new Error("unauthorized");
  err.data = { reason: "bad token" };
  next(err);
});
guarded.on("connection", (socket) => (record(socket), hello(socket)));

const slow = io.of("/async-guarded");
slow.use((socket, next) =>
  setTimeout(() => (token(socket) === "secret" ? next() : next(new Error("slow no"))), 50),
);
slow.on("connection", (socket) => (record(socket), hello(socket)));

const dynamic = io.of(/^\/dyn-[a-z0-9]+$/);
dynamic.use((socket, next) =>
  socket.nsp.name === "/dyn-banned" ? next(new Error("banned")) : next(),
);
dynamic.on("connection", (socket) => {
  record(socket);
  socket.emit("welcome", socket.nsp.name);
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
});
