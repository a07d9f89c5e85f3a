// The gateway flow on the reference stack, for the benchmark's comparison with
// sio-gateway: socket.io 4.8 on node:http. Clients join `/<instance>` with the
// key in their auth payload; `POST /webhook` (key in the `apikey` header) emits
// the body to that namespace under its `event` name and answers 202.
//
//   AUTHENTICATION_API_KEY=k node gateway.mjs [--port N]
import http from "node:http";
import { Server } from "socket.io";

const args = process.argv.slice(2);
const portIndex = args.indexOf("--port");
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 8080;
const key = process.env.AUTHENTICATION_API_KEY || "bench";
const NAME = /^\/[A-Za-z0-9._~-]{1,128}$/;

const httpServer = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/webhook") {
    res.writeHead(404).end();
    return;
  }
  if (req.headers.apikey !== key) {
    res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorized"}');
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      res.writeHead(400, { "content-type": "application/json" }).end('{"error":"invalid JSON"}');
      return;
    }
    if (typeof body.event !== "string" || !NAME.test(`/${body.instance}`)) {
      res.writeHead(400, { "content-type": "application/json" }).end('{"error":"event and instance required"}');
      return;
    }
    io.of(`/${body.instance}`).emit(body.event, body);
    res.writeHead(202, { "content-type": "application/json" }).end('{"status":"accepted"}');
  });
});

const io = new Server(httpServer);
io.of(NAME).use((socket, next) => {
  if (socket.handshake.auth?.apikey === key) next();
  else next(new Error("unauthorized"));
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
});
