// The reference implementation of the conformance fixture (see DESIGN.md,
// "Conformance fixture"), on npm engine.io 6.6 and socket.io 4.8: the suite run
// with TARGET=reference checks its own expectations against it.
//
//   node reference/fixture.mjs [--port N] [--allow-eio3]
import http from "node:http";
import { Server as EngineServer } from "engine.io";
import { Server as SocketServer } from "socket.io";

const args = process.argv.slice(2);
const portIndex = args.indexOf("--port");
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 3000;
const allowEIO3 = args.includes("--allow-eio3");

const httpServer = http.createServer();

const engine = new EngineServer({
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  allowEIO3,
  cors: { origin: "*" },
});
engine.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});
engine.attach(httpServer, { path: "/engine.io/" });

const io = new SocketServer(httpServer, {
  path: "/socket.io/",
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  connectTimeout: 1000,
  allowEIO3,
  cors: { origin: "*" },
});
io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
});
io.of("/custom").on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
});
