// Writes the packet corpus that the official-parser comparison runs over:
// crates/socketio-codec/tests/compat/decode.jsonl and encode.jsonl.
//
// The output is deterministic (a seeded generator) and committed; run this again
// only to change the corpus: `node protocol-tests/parser-compat/make-corpus.mjs`.
//
// decode.jsonl: one case per line, `{"frames":[["t",text] | ["b",hex], ...]}`,
//   the frames a server receives, in order.
// msgpack-decode.jsonl: one case per line, `{"frame":hex}`, a socket.io-msgpack-parser
//   frame (valid ones written by notepack.io, hand-made edge cases, mutations).
// encode.jsonl: one case per line, `{"type":N,"nsp":..,"id":..,"data":..}`, a
//   packet to encode; `{"$bin":"hex"}` inside data stands for a Buffer.
import { writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "crates", "socketio-codec", "tests", "compat");

// mulberry32: small and seeded, so the corpus never changes by accident.
let seed = 0x5eed;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (n) => Math.floor(rand() * n);
const pick = (list) => list[below(list.length)];

const PIECES = ["a", "Z", "0", "9", " ", '"', "\\", "/", "\n", "\t", "\u0000", "\u001f", "\u007f", "é", "€",
  "😀", "\u2028", "\u2029", "\ufeff", "\ufffd", ",", "-", "_placeholder", "[", "{", "}", "\u00a0", "ß", "日本"];
const randomString = () => Array.from({ length: below(7) }, () => pick(PIECES)).join("");
const NUMBERS = [0, -0, 1, -1, 0.5, 0.1 + 0.2, 1e21, 1e20, 1.5e-7, 5e-324, 1.7976931348623157e308, 2 ** 53,
  -(2 ** 53), 2 ** 53 + 2, 123456789.123, 1e-6, 1e-7, 100, 4294967295, 12345678901234567890];

function randomValue(depth, binary) {
  switch (below(depth > 0 ? 8 : 6)) {
    case 0: return null;
    case 1: return rand() < 0.5;
    case 2: return rand() < 0.5 ? pick(NUMBERS) : (rand() - 0.5) * 10 ** below(30);
    case 3: return randomString();
    case 4: return below(1000) - 500;
    case 5: return binary && rand() < 0.5 ? { $bin: randomHex(below(6)) } : randomString();
    case 6: return Array.from({ length: below(4) }, () => randomValue(depth - 1, binary));
    default: {
      const o = {};
      for (let i = below(4); i > 0; i--) {
        o[rand() < 0.3 ? String(below(20)) : randomString()] = randomValue(depth - 1, binary);
      }
      return o;
    }
  }
}
function randomHex(n) {
  return Array.from({ length: n }, () => below(256).toString(16).padStart(2, "0")).join("");
}

const NSPS = ["/", "/chat", "/a-b_c.d~e", "/é/ü", "/admin?token=x&y=%20", "/a/b/c", "/" + "n".repeat(300), "/😀"];
const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

// ---- encode cases
const encode = [];
const enc = (type, nsp, id, data) => encode.push({ type, nsp, id, data });
enc(0, "/", undefined, undefined);
enc(0, "/admin", undefined, { sid: "abc" });
enc(0, "/", undefined, { b: 1, "1": 2, a: [1, { "0": null, z: "é" }] });
enc(0, "/", undefined, { k: { $bin: "0102ff" } });
enc(1, "/", undefined, undefined);
enc(1, "/chat", undefined, undefined);
enc(2, "/", undefined, ["hello"]);
enc(2, "/", 0, ["hello", 1, 2.5, null, true]);
enc(2, "/", 2 ** 53, ["big id"]);
enc(2, "/", 2 ** 53 - 1, ["big id"]);
enc(2, "", 1, ["empty nsp"]);
enc(2, "/", undefined, ["\u0000\u0001\u0008\u000b\u000c\u001f\"\\/\u2028\u2029\u007f\u0080\uffff😀"]);
enc(2, "/", undefined, ["big", "x".repeat(100000)]);
enc(2, "/", undefined, ["big", Array.from({ length: 2000 }, (_, i) => i * 1.5)]);
enc(2, "/", undefined, ["deep", JSON.parse("[".repeat(500) + "]".repeat(500))]);
enc(2, "/", undefined, ["file", { $bin: "" }]);
enc(2, "/up", 7, ["files", { $bin: "01" }, { z: { $bin: "02" }, "0": [{ $bin: "03" }, { $bin: "04" }] }]);
enc(3, "/", 1, []);
enc(3, "/x", 99, [{ $bin: "dead" }, "ok", { $bin: "beef" }]);
enc(4, "/", undefined, { message: "Invalid namespace" });
enc(4, "/a", undefined, { message: "no", data: { code: 3, "10": "x", "2": "y" } });
enc(4, "/", undefined, "bare message");
for (const n of NUMBERS) enc(2, "/", undefined, ["n", n, -n, n / 3]);
for (let i = 0; i < 250; i++) {
  const type = pick([0, 1, 2, 2, 2, 3, 3, 4]);
  const nsp = pick(NSPS);
  const binary = rand() < 0.4;
  const id = (type === 2 && rand() < 0.5) || type === 3 ? pick([0, 1, below(1e6), 2 ** 53, 2 ** 40 + 3]) : undefined;
  let data;
  if (type === 0) data = rand() < 0.3 ? undefined : { auth: randomValue(3, false) };
  if (type === 2) data = [rand() < 0.1 ? below(100) : "ev" + randomString(), ...Array.from({ length: below(4) }, () => randomValue(3, binary))];
  if (type === 3) data = Array.from({ length: below(4) }, () => randomValue(3, binary));
  if (type === 4) data = rand() < 0.5 ? { message: randomString() } : { message: randomString(), data: randomValue(2, false) };
  enc(type, nsp, id, data);
}

// ---- decode cases
const decode = [];
const text = (...texts) => decode.push({ frames: texts.map((t) => ["t", t]) });
const frames = (...f) => decode.push({ frames: f });
const hand = [
  "", " ", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "x", "-", "\u00a00", "\ufeff/a,", "\u2028", " /a,{}",
  "0/admin,", "0/admin", "0/admin?token=x,", "0/admin?token=x,{}", '0{"token":"abc"}', "0[]", '0"x"', "0null",
  "0true", "01", "0 ", "0/a, ", "0/a,12", "1", "1/chat,", "1{}", "1[]", "1/a,", '2["hello"]', '2["hello",1,{}]',
  "2[]", "2{}", "2[null]", "2[1]", "2[-1.5]", '2[["a"]]', '2[{"a":1}]', '2/chat,12["msg"]', '2/chat12["msg"]',
  '2/chat["x"]', "2/chat", '2,["x"]', '2 ["x"]', '2 7 ["x"]', '2 7 8["x"]', '27\u00a0["x"]', '2\t["x"]',
  '29007199254740993["x"]', '218446744073709549568["x"]', '218446744073709551615["x"]', '2' + "9".repeat(25) + '["x"]',
  '2012["x"]', '2/a,0["x"]', '2/,["x"]', '2//,["x"]', "2/é,[\"x\"]", '2/a b,["x"]', '2/a?b=c,["x"]',
  '2["x"', '2["x"]]', '2["x"] ', ' 2["x"]', '2 ', "2\n", '2["x",]', "2[1e400]", "2[-1e400]", '2[1e999,"x"]',
  "2[NaN]", "2[Infinity]", "2[0x10]", "2['x']", '2[\"\\x\"]', '2["\\u00zz"]', '2["\\ud800"]', '2["\\udc00x"]',
  '2["a","\\ud83d\\ude00\\ud83d"]', '2["\\u0000\\/\\b\\f\\n\\r\\t"]', '2["a\tb"]', '2["a\u0001b"]',
  '2["x",{"b":1,"a":2,"b":3}]', '2["x",{"2":1,"1":2,"a":3,"01":4,"4294967295":5,"4294967294":6}]',
  '2["x",{"__proto__":1}]', '2["x",{"_placeholder":true,"num":0}]', '2["x",01]', '2["x",-]', '2["x",1.]',
  '2["x",.5]', '2["x",1e]', '2["x",-0]', '2["x",1E+2,1e-2,0.0]', '2["x",true,false,null]', '2["x",tru]',
  '2[ "x" , 1 ]', '2\r\n["x"]', '2["x"]\u00a0', '2["x",\u00a01]',
  ...RESERVED.map((r) => `2["${r}"]`), '2["Connect"]', '2["connect "]', '2["message"]',
  "3[]", "31[]", "31", "3/a,1[1,2]", "3{}", '3"x"', "3/a,", "3 []",
  '4{"message":"m"}', '4"m"', "4", "4[]", "4null", "41", "4true", '4/a,{"message":"m","data":{"x":1}}',
  '51-["x",{"_placeholder":true,"num":0}]', "5", "5-", "50-[\"x\"]", "5-1-[\"x\"]", "511-[\"x\"]", "510-[\"x\"]",
  "5x-[\"x\"]", "51.5-[\"x\"]", "5 1-[\"x\"]", "50x1-[\"x\"]", "51e0-[\"x\"]", "5+1-[\"x\"]", "5Infinity-[\"x\"]",
  "51", '51-["connect"]', "51-[]", "51-{}", "51-", '61-[{"_placeholder":true,"num":0}]', "61-{}",
];
for (const t of hand) text(t);
text('2["x",' + "[".repeat(1000) + "]".repeat(1000) + "]");
text('2["x",' + "[".repeat(1030) + "]".repeat(1030) + "]");
text('2["x",' + '{"a":'.repeat(1000) + "1" + "}".repeat(1000) + "]");
text('2["big","' + "é".repeat(50000) + '"]');
text('2["x","a"]', '2["y"]');

const hex = (s) => Buffer.from(s).toString("hex");
frames(["t", '51-["up",{"_placeholder":true,"num":0}]'], ["b", "010203"]);
frames(["t", '52-/a,4["up",{"_placeholder":true,"num":1},{"k":[{"_placeholder":true,"num":0}]}]'], ["b", hex("zero")], ["b", hex("one")]);
frames(["t", '62-/a,4[{"_placeholder":true,"num":1},{"_placeholder":true,"num":1}]'], ["b", "00"], ["b", "ff"]);
frames(["t", '51-["up",{"_placeholder":true,"num":1}]'], ["b", "01"]);
frames(["t", '51-["up",{"_placeholder":true,"num":-1}]'], ["b", "01"]);
frames(["t", '51-["up",{"_placeholder":true,"num":"0"}]'], ["b", "01"]);
frames(["t", '51-["up",{"_placeholder":true}]'], ["b", "01"]);
frames(["t", '52-["up",{"_placeholder":true,"num":0.5}]'], ["b", "01"], ["b", "02"]);
frames(["t", '51-["up",{"_placeholder":true,"num":-0}]'], ["b", "01"]);
frames(["t", '51-["up",{"_placeholder":true,"num":1e400}]'], ["b", "01"]);
frames(["t", '51-["up",{"_placeholder":1,"num":5}]'], ["b", "01"]);
frames(["t", '51-["up",{"_placeholder":true,"num":0,"extra":1}]'], ["b", "01"]);
frames(["t", '51-["up",{"num":0,"_placeholder":true}]'], ["b", ""]);
frames(["t", '51-["up",{"_placeholder":false,"num":0}]'], ["b", "01"]);
frames(["t", '53-["up"]'], ["b", "01"], ["b", "02"], ["b", "03"]);
frames(["t", "51-"], ["b", "01"]);
frames(["t", '52-["up",{"_placeholder":true,"num":0}]'], ["b", "01"], ["t", '2["x"]']);
frames(["t", '51-["up",{"_placeholder":true,"num":0}]'], ["t", '2["x"]']);
frames(["b", "01"]);
frames(["t", '2["x"]'], ["b", "01"]);
frames(["t", '51-["up",{"_placeholder":true,"num":0}]'], ["b", "01"], ["b", "02"]);
frames(["t", '51-["up",{"_placeholder":true,"num":0}]'], ["b", "01"], ["t", '2["after"]']);

// Mutations of valid packets: the malformed inputs a fuzzer would try first.
const bases = [...encode.slice(0, 60).map((c) => c), ...hand.filter((h) => h.length > 2).slice(0, 40)];
const MUTATE = ["", "0", "1", "5", "9", "-", ",", "/", "[", "]", "{", "}", '"', "\\", " ", "\u00a0", "é", "e", ".", "x"];
for (let i = 0; i < 300; i++) {
  let base = pick(bases);
  if (typeof base !== "string") {
    base = '2["x",' + JSON.stringify(randomValue(2, false)) + "]";
  }
  const chars = Array.from(base);
  for (let m = 1 + below(3); m > 0; m--) {
    const at = below(chars.length + 1);
    const op = below(3);
    if (op === 0) chars.splice(at, 0, pick(MUTATE));
    else if (op === 1) chars.splice(at, 1);
    else chars.splice(at, 1, pick(MUTATE));
  }
  text(chars.join(""));
}

// ---- msgpack decode cases
const msgpack = createRequire(import.meta.url)("notepack.io");
const mp = [];
const frame = (buf) => mp.push({ frame: Buffer.from(buf).toString("hex") });
const valid = [];
for (const c of encode) {
  const p = c.type === 3 ? { id: c.id, type: c.type } : { type: c.type };
  if (c.data !== undefined) p.data = reviveBin(c.data);
  if (c.id !== undefined && c.type !== 3) p.id = c.id;
  p.nsp = c.nsp;
  if (c.type === 3 && c.id === undefined) delete p.id;
  valid.push(msgpack.encode(p));
}
function reviveBin(v) {
  if (Array.isArray(v)) return v.map(reviveBin);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string") return Buffer.from(v.$bin, "hex");
    const o = {};
    for (const k of Object.keys(v)) o[k] = reviveBin(v[k]);
    return o;
  }
  return v;
}
valid.slice(0, 120).forEach(frame);
const m = (v) => msgpack.encode(v);
[
  { type: 0, data: undefined, nsp: "/" },
  { type: 0, nsp: "/admin" },
  { type: 0, data: { token: "x", n: undefined }, nsp: "/" },
  { type: 2, data: ["ev", 1], options: { compress: true }, nsp: "/", id: 3 },
  { type: 2, data: [], nsp: "/" },
  { type: 2, data: [null], nsp: "/" },
  { type: 2, data: ["connect"], nsp: "/" },
  { type: 2, data: ["disconnecting", 1], nsp: "/" },
  { type: 2, data: ["x", undefined, [undefined]], nsp: "/" },
  { type: 2, data: ["x", new Date(1700000000123)], nsp: "/" },
  { type: 2, data: ["x", new Uint8Array([1, 2, 3])], nsp: "/" },
  { type: 2, data: ["x", new ArrayBuffer(3)], nsp: "/" },
  { type: 2, data: ["x", 2 ** 60, -(2 ** 60), 2 ** 64, -(2 ** 63) - 4096, 1e300, -1e300, 0.5, -0, NaN, Infinity], nsp: "/" },
  { type: 2, data: ["x", { "10": 1, b: 2, "2": 3, "01": 4 }], nsp: "/" },
  { type: 2, data: "x", nsp: "/" },
  { type: 2, nsp: "/" },
  { type: 2.0, data: ["x"], nsp: "/" },
  { type: 2.5, data: ["x"], nsp: "/" },
  { type: "2", data: ["x"], nsp: "/" },
  { type: 5, data: ["x"], nsp: "/" },
  { type: -1, data: ["x"], nsp: "/" },
  { type: 2, data: ["x"] },
  { type: 2, data: ["x"], nsp: 1 },
  { type: 2, data: ["x"], nsp: null },
  { type: 2, data: ["x"], nsp: "/", id: -1 },
  { type: 2, data: ["x"], nsp: "/", id: 1.5 },
  { type: 2, data: ["x"], nsp: "/", id: null },
  { type: 2, data: ["x"], nsp: "/", id: "1" },
  { type: 2, data: ["x"], nsp: "/", id: 2 ** 53 },
  { type: 2, data: ["x"], nsp: "/", id: 2 ** 64 },
  { type: 2, data: ["x"], nsp: "/", id: undefined },
  { type: 3, data: [], nsp: "/", id: 0 },
  { type: 3, data: {}, nsp: "/", id: 0 },
  { type: 1, nsp: "/" },
  { type: 1, nsp: "/", data: null },
  { type: 1, nsp: "/", data: undefined },
  { type: 4, nsp: "/", data: "bare" },
  { type: 4, nsp: "/", data: { message: "m" } },
  { type: 4, nsp: "/", data: [] },
  { type: 4, nsp: "/" },
  { type: 0, nsp: "/", data: [] },
  { type: 0, nsp: "/", data: null },
  [0, "/"], null, 5, "type", true,
].forEach((v) => frame(m(v)));
const hexFrames = [
  "", "c1", "80", "81a474797065c1", "83a47479706502a464617461", "83a47479706502a46461746191a178a36e7370a12f00",
  "83a47479706502a46461746191d9a178a36e7370a12f", "83a47479706502a46461746191a2ff78a36e7370a12f",
  "83a47479706502a46461746192a178ca3fc00000a36e7370a12f", "83a47479706502a46461746192a178c70301010203a36e7370a12f",
  "83a47479706502a46461746192a178d50501ffa36e7370a12f", "83a47479706502a46461746192a178d4050aa36e7370a12f",
  "83a47479706502a46461746192a178d8ff00112233445566778899aabbccddeeffa36e7370a12f",
  "83a47479706502a46461746192a17881c0c3a36e7370a12f", "83a47479706502a46461746192a17881c3c3a36e7370a12f",
  "83a47479706502a46461746192a17881d40000c3a36e7370a12f", "83a47479706502a46461746192a1788101c3a36e7370a12f",
  "83a47479706502a46461746192a1788191c0c3a36e7370a12f", "83a47479706502a46461746192a178dd7fffffffa36e7370a12f",
  "83a47479706502a46461746192a178dfffffffffa36e7370a12f", "83a47479706502a46461746192a178c6ffffffffa36e7370a12f",
  "84a47479706502a474797065a46e6f7065a46461746191a178a36e7370a12f",
  "83a47479706502a46461746191a178a36e7370a12fc0",
];
hexFrames.forEach((h) => frame(Buffer.from(h, "hex")));
for (let i = 0; i < 200; i++) {
  const buf = Buffer.from(pick(valid.slice(0, 60)));
  const op = below(3);
  const at = below(buf.length);
  let mutated;
  if (op === 0) { buf[at] = below(256); mutated = buf; }
  else if (op === 1) mutated = buf.subarray(0, at);
  else mutated = Buffer.concat([buf.subarray(0, at), Buffer.from([pick([0xc0, 0xc1, 0xd4, 0xdc, 0xde, 0x91, 0x81, 0xa1, 0x00, 0xff])]), buf.subarray(at)]);
  frame(mutated);
}

mkdirSync(out, { recursive: true });
const lines = (cases) => cases.map((c) => JSON.stringify(c)).join("\n") + "\n";
writeFileSync(join(out, "encode.jsonl"), lines(encode));
writeFileSync(join(out, "decode.jsonl"), lines(decode));
writeFileSync(join(out, "msgpack-decode.jsonl"), lines(mp));
console.log(`wrote ${encode.length} encode, ${decode.length} decode and ${mp.length} msgpack decode cases to ${out}`);
