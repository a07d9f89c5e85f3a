// Engine.IO v3 wire formats (socket.io 2.x clients), raw, against the echo
// endpoint started with --allow-eio3: length-prefixed payloads counting UTF-16
// units, `b64=1`, XHR2 binary payloads, JSONP, the type byte on WebSocket
// binary frames, and the heartbeat driven by the client.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFixture } from "./lib/server.mjs";
import { request, errorBody, handshake, websocket, sleep } from "./lib/raw.mjs";

let server;
let base;
before(async () => {
  server = await startFixture({ allowEio3: true });
  base = server.url;
});
after(() => server.stop());

const poll = (sid, extra = "", opts) => request(base, `EIO=3&transport=polling&sid=${sid}${extra}`, opts);

describe("Engine.IO v3 polling", () => {
  test("the open packet is length-prefixed", async () => {
    const { raw, open } = await handshake(base, 3);
    const [len, packet] = [raw.slice(0, raw.indexOf(":")), raw.slice(raw.indexOf(":") + 1)];
    assert.equal(Number(len), packet.length);
    assert.deepEqual(Object.keys(open), ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]);
    assert.deepEqual(open.upgrades, ["websocket"]);
  });

  test("lengths count UTF-16 code units, not bytes", async () => {
    const { sid } = await handshake(base, 3);
    const body = "4:4é😀" + "3:4ab";
    assert.equal((await poll(sid, "", { method: "POST", body })).text, "ok");
    const res = await poll(sid);
    assert.equal(res.text, body);
  });

  test("b64=1 carries binary as b4<base64>", async () => {
    const { sid } = await handshake(base, 3, "&b64=1");
    await poll(sid, "&b64=1", { method: "POST", body: "6:b4AQID" });
    const res = await poll(sid, "&b64=1");
    assert.equal(res.text, "6:b4AQID");
    assert.match(res.headers.get("content-type"), /^text\/plain/);
  });

  test("XHR2 binary payloads both ways", async () => {
    const { sid } = await handshake(base, 3);
    const body = Buffer.concat([
      Buffer.from([0x01, 4, 0xff, 4, 1, 2, 3]),
      Buffer.from([0x00, 3, 0xff]),
      Buffer.from("4hi"),
    ]);
    const posted = await poll(sid, "", {
      method: "POST",
      body,
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(posted.text, "ok");
    const res = await poll(sid);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual([...res.bytes], [...body]);
  });

  test("JSONP: POST by form field d, answers wrapped in ___eio[j]", async () => {
    const open = await request(base, "EIO=3&transport=polling&j=0");
    const m = /^___eio\[0\]\("(\d+):0\{\\"sid\\":\\"([^\\]+)\\"/.exec(open.text);
    assert.ok(m, open.text);
    const sid = m[2];
    const form = new URLSearchParams({ d: "6:4hello" }).toString();
    const posted = await poll(sid, "&j=0", {
      method: "POST",
      body: form,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(posted.text, "ok");
    const res = await poll(sid, "&j=0");
    assert.equal(res.text, '___eio[0]("6:4hello");');
  });

  test("the server answers the client's ping and never pings first", async () => {
    const { sid } = await handshake(base, 3);
    // The reference's pong carries no data, whatever the ping carried.
    await poll(sid, "", { method: "POST", body: "6:2probe" });
    assert.equal((await poll(sid)).text, "1:3");
    // Keep the session alive with client pings across more than an interval:
    // nothing but pongs comes back.
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      await poll(sid, "", { method: "POST", body: "1:2" });
      assert.equal((await poll(sid)).text, "1:3");
    }
  });

  test("a silent client is dropped after pingInterval + pingTimeout", async () => {
    const { sid } = await handshake(base, 3);
    await sleep(700);
    assert.deepEqual(errorBody(await poll(sid)).body, { code: 1, message: "Session ID unknown" });
  });
});

describe("Engine.IO v3 WebSocket", () => {
  test("binary frames carry the type byte 4", async () => {
    const c = websocket(base, "EIO=3&transport=websocket");
    await c.opened;
    const open = await c.next();
    assert.match(open, /^0\{"sid":/);
    assert.deepEqual(JSON.parse(open.slice(1)).upgrades, []);
    c.ws.send(Buffer.from([4, 1, 2, 3]));
    assert.deepEqual([...(await c.next())], [4, 1, 2, 3]);
    c.ws.send("4hi");
    assert.equal(await c.next(), "4hi");
    c.ws.send("2");
    assert.equal(await c.next(), "3");
    c.ws.close();
  });

  test("upgrade from polling: probe, noop to the pending poll, then upgrade", async () => {
    const { sid } = await handshake(base, 3);
    const pending = poll(sid);
    await sleep(30);
    const c = websocket(base, `EIO=3&transport=websocket&sid=${sid}`);
    await c.opened;
    c.ws.send("2probe");
    assert.equal(await c.next(), "3probe");
    assert.equal((await pending).text, "1:6");
    c.ws.send("5");
    c.ws.send("4after");
    assert.equal(await c.next(), "4after");
    c.ws.close();
  });
});
