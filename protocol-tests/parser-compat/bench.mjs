// Times the official parsers on the packets of crates/socketio-codec/benches/codec.rs,
// for the side-by-side table in docs/benchmarks.md.
//
//   node protocol-tests/parser-compat/bench.mjs
//
// Each figure is the median of 7 runs of about 0.3 s, in nanoseconds per packet.
import { createRequire } from "node:module";
import { Encoder, Decoder } from "socket.io-parser";

const msgpackParser = createRequire(import.meta.url)("socket.io-msgpack-parser");

const item = (i) => ({
  id: i,
  user: `user-${i}`,
  text: "Lorem ipsum dolor sit amet, consectetur adipiscing elit",
  score: i * 1.25,
  tags: ["a", "b"],
  read: i % 2 === 0,
});
const packets = {
  small_event: { type: 2, nsp: "/", data: ["message", "hello", 42] },
  "1kb_event": { type: 2, nsp: "/chat", id: 12, data: ["messages.upsert", Array.from({ length: 7 }, (_, i) => item(i))] },
  binary_event_3_attachments: {
    type: 2,
    nsp: "/",
    data: ["upload", Buffer.alloc(64, 1), { thumb: Buffer.alloc(256, 2), name: "a.png" }, Buffer.alloc(1024, 3)],
  },
  ack: { type: 3, nsp: "/", id: 7, data: [{ ok: true }] },
};

function time(fn) {
  const runs = [];
  let n = 1000;
  for (let warm = Date.now(); Date.now() - warm < 300; ) fn();
  for (let r = 0; r < 7; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const ns = Number(process.hrtime.bigint() - start);
    runs.push(ns / n);
    n = Math.max(1000, Math.round((0.3e9 / ns) * n));
  }
  runs.sort((a, b) => a - b);
  return runs[3];
}

const rows = [];
for (const [name, packet] of Object.entries(packets)) {
  // The encoder rewrites the packet it is given (binary), so give it a copy each time.
  const copy = () => ({ ...packet, data: packet.data.slice() });
  const frames = new Encoder().encode(copy());
  rows.push([`text/${name}`, "encode", time(() => new Encoder().encode(copy()))]);
  rows.push([`text/${name}`, "decode", time(() => {
    const d = new Decoder();
    d.on("decoded", () => {});
    for (const f of frames) d.add(f);
  })]);
  const [frame] = new msgpackParser.Encoder().encode(packet);
  rows.push([`msgpack/${name}`, "encode", time(() => new msgpackParser.Encoder().encode(packet))]);
  rows.push([`msgpack/${name}`, "decode", time(() => {
    const d = new msgpackParser.Decoder();
    d.on("decoded", () => {});
    d.add(frame);
  })]);
}
console.log(`node ${process.version}`);
for (const [group, op, ns] of rows) console.log(`${group}\t${op}\t${ns.toFixed(0)} ns`);
