// Helpers for the Socket.IO suites: connecting official clients, waiting for
// events, and talking raw Engine.IO to see the exact bytes a server writes.
import { io } from "socket.io-client";
import WebSocket from "ws";

export const MODES = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
  upgrade: { transports: ["polling", "websocket"] },
};

/// A socket.io-client 4.x socket to `url + nsp`, never reconnecting unless asked.
export function client(url, nsp = "/", opts = {}) {
  return io(url + nsp, { forceNew: true, reconnection: false, ...opts });
}

/// Resolves with the first `event` the emitter fires (all its arguments), or
/// rejects after `ms`.
export function once(emitter, event, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/// Resolves once the socket is connected; rejects with the connect_error.
export function connected(socket, ms = 3000) {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve(socket);
    const timer = setTimeout(() => reject(new Error(`not connected within ${ms} ms`)), ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/// Resolves with the connect_error of a socket expected to be refused.
export function refused(socket, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect_error within ${ms} ms`)), ms);
    socket.once("connect", () => reject(new Error("connected, expected a refusal")));
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

/// Waits until the (upgrade mode) socket runs over WebSocket.
export function upgraded(socket, ms = 3000) {
  return new Promise((resolve, reject) => {
    const engine = socket.io.engine;
    if (engine.transport.name === "websocket") return resolve();
    const timer = setTimeout(() => reject(new Error("no upgrade")), ms);
    engine.once("upgrade", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Collects every `event` the socket receives, in order.
export function collect(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args.length === 1 ? args[0] : args));
  return got;
}

/// A raw Engine.IO v4 WebSocket: `send(text | Buffer)`, `next()` for the next
/// frame (Engine.IO pings are answered and skipped), `closed` resolves on close.
export async function rawSocket(baseUrl, path = "/socket.io/") {
  const ws = new WebSocket(`${baseUrl.replace("http", "ws")}${path}?EIO=4&transport=websocket`);
  const queue = [];
  const waiters = [];
  let closeInfo = null;
  const closed = new Promise((resolve) => ws.once("close", (code) => resolve((closeInfo = { code }))));
  ws.on("message", (data, isBinary) => {
    const frame = isBinary ? Buffer.from(data) : data.toString();
    if (frame === "2") {
      ws.send("3");
      return;
    }
    const w = waiters.shift();
    if (w) w(frame);
    else queue.push(frame);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const next = (ms = 2000) =>
    new Promise((resolve, reject) => {
      if (queue.length) return resolve(queue.shift());
      if (closeInfo) return reject(new Error("closed"));
      const timer = setTimeout(() => reject(new Error(`no frame within ${ms} ms`)), ms);
      const onClose = () => {
        clearTimeout(timer);
        reject(new Error("closed"));
      };
      closed.then(onClose);
      waiters.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  const open = await next();
  return { ws, open, send: (d) => ws.send(d), next, closed, close: () => ws.close() };
}
