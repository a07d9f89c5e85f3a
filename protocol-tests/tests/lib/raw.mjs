// Raw Engine.IO requests for tests that check exact bytes and error answers.
import WebSocket from "ws";

/// GET or POST under `/engine.io/`; returns { status, headers, text, bytes }.
export async function request(base, query, { method = "GET", body, headers = {}, signal } = {}) {
  const res = await fetch(`${base}/engine.io/?${query}`, { method, body, headers, signal });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: bytes.toString("utf8") };
}

/// Asserts an Engine.IO JSON error answer.
export function errorBody(res) {
  return { status: res.status, type: res.headers.get("content-type"), body: JSON.parse(res.text) };
}

/// Opens a polling session; returns { sid, open } (the parsed open packet).
export async function handshake(base, eio = 4, extra = "") {
  const res = await request(base, `EIO=${eio}&transport=polling${extra}`);
  if (res.status !== 200) throw new Error(`handshake answered ${res.status}: ${res.text}`);
  const text = eio === 3 ? res.text.slice(res.text.indexOf(":") + 1) : res.text;
  if (text[0] !== "0") throw new Error(`not an open packet: ${res.text}`);
  const open = JSON.parse(text.slice(1));
  return { sid: open.sid, open, raw: res.text };
}

/// A WebSocket under `/engine.io/` with helpers to await frames and the close.
export function websocket(base, query) {
  const ws = new WebSocket(`${base.replace("http", "ws")}/engine.io/?${query}`);
  const frames = [];
  const waiters = [];
  ws.on("message", (data, isBinary) => {
    const frame = isBinary ? Buffer.from(data) : data.toString("utf8");
    const w = waiters.shift();
    if (w) w(frame);
    else frames.push(frame);
  });
  const closed = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
  ws.on("error", () => {});
  return {
    ws,
    closed,
    opened: new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    }),
    next: (ms = 2000) =>
      frames.length
        ? Promise.resolve(frames.shift())
        : new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error("no frame in time")), ms);
            waiters.push((f) => {
              clearTimeout(t);
              resolve(f);
            });
          }),
  };
}

/// Resolves after `ms` milliseconds.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
