// The benchmark server on the reference stack (npm socket.io 4.8, default
// engine): the twin of crates/loadgen/src/bin/bench-server.rs, answering the
// same events.
//
//   node server.mjs [--port N]
import http from "node:http";
import { Server } from "socket.io";

const args = process.argv.slice(2);
const portIndex = args.indexOf("--port");
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 3000;

const httpServer = http.createServer();
const io = new Server(httpServer);
io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("bcast", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    socket.broadcast.emit("bcast", ...args);
    if (ack) ack();
  });
});
httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
});
