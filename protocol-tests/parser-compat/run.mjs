// Runs the official socket.io-parser (4.2.7) over the packet corpus and prints
// one JSON line per case, for crates/socketio-codec/tests/official_parser.rs.
//
//   node protocol-tests/parser-compat/run.mjs decode <decode.jsonl>
//   node protocol-tests/parser-compat/run.mjs encode <encode.jsonl>
//
// decode: `{"steps":[...]}` with one step per frame fed: "pending", the decoded
//   packet `{"type","nsp","id","data"}`, or `{"error":message}` (and then it
//   stops, as a server closes the connection). Buffers are `{"$bin":"hex"}`; ids
//   are strings (so NaN shows); strings are made well-formed (lone surrogates
//   become U+FFFD, as the Rust codec decodes them) and `"lossy":true` says so; an
//   EVENT or ACK without data is given `[]`, as the Rust codec decodes it.
// encode: `{"frames":[["t",text],["b",hex],...]}`.
// encode-v4: the same corpus through socket.io-parser 3.3.6 (protocol v4), the
//   packet prepared as a socket.io 2.x server does (BINARY_EVENT/BINARY_ACK chosen
//   by the caller, a `{message, data}` CONNECT_ERROR sent as `data || message`).
// msgpack-encode: the same corpus through socket.io-msgpack-parser: `{"frame":hex}`,
//   the packet object's keys in the order the reference server builds them.
// msgpack-decode: `{"frame":hex}` cases: the packet as for decode, or `{"error"}`.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Encoder, Decoder } from "socket.io-parser";

const require = createRequire(import.meta.url);
const msgpackParser = require("socket.io-msgpack-parser");
// socket.io-parser 3.3.6, protocol v4, as socket.io 2.x servers and clients use it.
const parserV4 = require("socket.io-client-v2/node_modules/socket.io-parser");

const [mode, file] = process.argv.slice(2);
const cases = readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));

// `{"$bin":"hex"}` to Buffer and back.
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string" && Object.keys(v).length === 1) return Buffer.from(v.$bin, "hex");
    const o = Object.create(null); // so that "__proto__" stays an own key
    for (const k of Object.keys(v)) o[k] = revive(v[k]);
    return o;
  }
  return v;
}
let lossy = false;
function describe(v) {
  if (v instanceof Date) return v.getTime();
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    return { $bin: Buffer.from(v).toString("hex") };
  }
  if (Array.isArray(v)) return v.map(describe);
  if (typeof v === "string") {
    const w = v.toWellFormed();
    if (w !== v) lossy = true;
    return w;
  }
  if (v && typeof v === "object") {
    const o = Object.create(null); // so that "__proto__" stays an own key
    for (const k of Object.keys(v)) {
      const w = k.toWellFormed();
      if (w !== k) lossy = true;
      o[w] = describe(v[k]);
    }
    return o;
  }
  return v;
}

function runDecode(c) {
  const decoder = new Decoder();
  const steps = [];
  let last = null;
  decoder.on("decoded", (p) => (last = p));
  lossy = false;
  for (const [kind, frame] of c.frames) {
    last = null;
    try {
      decoder.add(kind === "t" ? frame : Buffer.from(frame, "hex"));
    } catch (e) {
      steps.push({ error: String(e.message) });
      break;
    }
    if (last === null) {
      steps.push("pending");
      continue;
    }
    const p = { type: last.type, nsp: describe(last.nsp) };
    if (last.id !== undefined) p.id = String(last.id);
    let data = last.data;
    if (data === undefined && (last.type === 2 || last.type === 3)) data = [];
    if (data !== undefined) p.data = describe(data);
    steps.push(p);
  }
  return lossy ? { steps, lossy } : { steps };
}

function runEncode(c) {
  const packet = { type: c.type, nsp: c.nsp };
  if (c.id !== undefined) packet.id = c.id;
  if (c.data !== undefined) packet.data = revive(c.data);
  const frames = new Encoder().encode(packet).map((f) =>
    typeof f === "string" ? ["t", f] : ["b", Buffer.from(f).toString("hex")],
  );
  return { frames };
}

function hasBinary(v) {
  if (Buffer.isBuffer(v)) return true;
  if (Array.isArray(v)) return v.some(hasBinary);
  if (v && typeof v === "object") return Object.keys(v).some((k) => hasBinary(v[k]));
  return false;
}

function runEncodeV4(c) {
  const packet = { type: c.type, nsp: c.nsp };
  if (c.id !== undefined) packet.id = c.id;
  if (c.data !== undefined) packet.data = revive(c.data);
  if ((c.type === 2 || c.type === 3) && hasBinary(packet.data)) packet.type += 3;
  const d = packet.data;
  if (c.type === 4 && d && typeof d === "object" && !Array.isArray(d) && typeof d.message === "string"
      && Object.keys(d).every((k) => k === "message" || k === "data")) {
    packet.data = d.data || d.message;
  }
  let frames;
  new parserV4.Encoder().encode(packet, (out) => (frames = out));
  return {
    frames: frames.map((f) => (typeof f === "string" ? ["t", f] : ["b", Buffer.from(f).toString("hex")])),
  };
}

function describePacket(p) {
  const out = { type: p.type, nsp: describe(p.nsp) };
  if (p.id !== undefined) out.id = String(p.id);
  if (p.data !== undefined) out.data = describe(p.data);
  return out;
}

function runMsgpackEncode(c) {
  // The reference server's key order: ACK {id, type, data}, others {type, data, id}; nsp last.
  const p = c.type === 3 && c.id !== undefined ? { id: c.id, type: c.type } : { type: c.type };
  if (c.data !== undefined) p.data = revive(c.data);
  if (c.id !== undefined && c.type !== 3) p.id = c.id;
  p.nsp = c.nsp;
  const [frame] = new msgpackParser.Encoder().encode(p);
  return { frame: Buffer.from(frame).toString("hex") };
}

function runMsgpackDecode(c) {
  const decoder = new msgpackParser.Decoder();
  let packet = null;
  decoder.on("decoded", (p) => (packet = p));
  lossy = false;
  try {
    decoder.add(Buffer.from(c.frame, "hex"));
  } catch (e) {
    return { error: String(e.message) };
  }
  const described = describePacket(packet);
  return lossy ? { packet: described, lossy } : { packet: described };
}

const modes = { decode: runDecode, encode: runEncode, "encode-v4": runEncodeV4, "msgpack-encode": runMsgpackEncode, "msgpack-decode": runMsgpackDecode };
const run = modes[mode];
const out = cases.map((c) => JSON.stringify(run(c))).join("\n");
process.stdout.write(out + "\n");
