// Raw HTTP and WebSocket requests against the `/engine.io/` endpoint: every
// error answer of the protocol, for v4 and (with --allow-eio3) v3, with the
// exact status, JSON body and close code the reference gives.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startFixture } from "./lib/server.mjs";
import { request, errorBody, handshake, websocket, sleep } from "./lib/raw.mjs";

const JSON_TYPE = "application/json";
const err = (code, message) => ({ status: 400, type: JSON_TYPE, body: { code, message } });

for (const eio of [4, 3]) {
  describe(`Engine.IO v${eio} error answers`, () => {
    let server;
    let base;
    before(async () => {
      server = await startFixture({ allowEio3: eio === 3 });
      base = server.url;
    });
    after(() => server.stop());

    test("unknown transport is code 0", async () => {
      assert.deepEqual(errorBody(await request(base, `EIO=${eio}&transport=carrier-pigeon`)), err(0, "Transport unknown"));
    });

    test("unknown session id is code 1", async () => {
      assert.deepEqual(
        errorBody(await request(base, `EIO=${eio}&transport=polling&sid=nope`)),
        err(1, "Session ID unknown"),
      );
    });

    test("a handshake by POST is code 2", async () => {
      const res = await request(base, `EIO=${eio}&transport=polling`, { method: "POST", body: "x" });
      assert.deepEqual(errorBody(res), err(2, "Bad handshake method"));
    });

    test("a WebSocket handshake without the upgrade is code 3", async () => {
      assert.deepEqual(errorBody(await request(base, `EIO=${eio}&transport=websocket`)), err(3, "Bad request"));
    });

    test("a WebSocket upgrade without a key is a plain 400 before upgrading", async () => {
      const status = await new Promise((resolve, reject) => {
        const req = http.get(`${base}/engine.io/?EIO=${eio}&transport=websocket`, {
          headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13" },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on("upgrade", () => resolve(101));
        req.on("error", reject);
      });
      assert.equal(status, 400);
    });

    test("a body over maxPayload is 413 and closes the session", async () => {
      const { sid } = await handshake(base, eio);
      const big = "4" + "x".repeat(1_000_001);
      const body = eio === 3 ? `${big.length}:${big}` : big;
      const res = await request(base, `EIO=${eio}&transport=polling&sid=${sid}`, { method: "POST", body });
      assert.equal(res.status, 413);
      await sleep(50);
      const after = await request(base, `EIO=${eio}&transport=polling&sid=${sid}`);
      assert.deepEqual(errorBody(after), err(1, "Session ID unknown"));
    });

    test("a WebSocket message over maxPayload closes with 1009", async () => {
      const c = websocket(base, `EIO=${eio}&transport=websocket`);
      await c.opened;
      await c.next(); // open packet
      c.ws.send("4" + "x".repeat(1_000_001));
      assert.equal(await c.closed, 1009);
    });

    test("a text frame that is not UTF-8 closes with 1007", async () => {
      const c = websocket(base, `EIO=${eio}&transport=websocket`);
      await c.opened;
      await c.next();
      c.ws.send(Buffer.from([0x34, 0xff, 0xfe]), { binary: false });
      assert.equal(await c.closed, 1007);
    });

    test("a second concurrent poll is refused and the pending one gets a close packet", async () => {
      const { sid } = await handshake(base, eio);
      const q = `EIO=${eio}&transport=polling&sid=${sid}`;
      const first = request(base, q);
      await sleep(50);
      const second = await request(base, q);
      assert.equal(second.status, 400);
      const pending = await first;
      assert.equal(pending.status, 200);
      assert.equal(pending.text, eio === 3 ? "1:1" : "1");
    });

    test("a POST is answered `ok` as text/html", async () => {
      const { sid } = await handshake(base, eio);
      const body = eio === 3 ? "6:4hello" : "4hello";
      const res = await request(base, `EIO=${eio}&transport=polling&sid=${sid}`, { method: "POST", body });
      assert.equal(res.status, 200);
      assert.equal(res.text, "ok");
      assert.match(res.headers.get("content-type"), /^text\/html/);
      const echo = await request(base, `EIO=${eio}&transport=polling&sid=${sid}`);
      assert.equal(echo.text, body);
    });

    test("an aborted poll closes the session", async () => {
      const { sid } = await handshake(base, eio);
      const q = `EIO=${eio}&transport=polling&sid=${sid}`;
      const abort = new AbortController();
      const pending = request(base, q, { signal: abort.signal }).catch(() => null);
      await sleep(50);
      abort.abort();
      await pending;
      await sleep(50);
      assert.deepEqual(errorBody(await request(base, q)), err(1, "Session ID unknown"));
    });

    describe("after an upgrade", () => {
      let sid;
      let probe;
      before(async () => {
        ({ sid } = await handshake(base, eio));
        probe = websocket(base, `EIO=${eio}&transport=websocket&sid=${sid}`);
        await probe.opened;
        probe.ws.send("2probe");
        assert.equal(await probe.next(), "3probe");
        probe.ws.send("5");
        await sleep(50);
      });
      after(() => probe.ws.close());

      test("polling with the sid is code 3", async () => {
        const res = await request(base, `EIO=${eio}&transport=polling&sid=${sid}`);
        assert.deepEqual(errorBody(res), err(3, "Bad request"));
      });

      test("a second WebSocket for the sid is closed, the first goes on", async () => {
        const second = websocket(base, `EIO=${eio}&transport=websocket&sid=${sid}`);
        await second.closed;
        probe.ws.send("4still");
        assert.equal(await probe.next(), "4still");
      });
    });
  });
}

describe("protocol version", () => {
  let server;
  before(async () => {
    server = await startFixture();
  });
  after(() => server.stop());

  for (const q of ["EIO=3&transport=polling", "transport=polling", "EIO=5&transport=polling"]) {
    test(`without allowEIO3, ${q} is code 5`, async () => {
      assert.deepEqual(errorBody(await request(server.url, q)), err(5, "Unsupported protocol version"));
    });
  }
  // The reference completes the WebSocket handshake and then drops the TCP
  // connection; we refuse with HTTP 400 before upgrading. Either way the
  // client never gets an open packet, which is what this checks.
  test("without allowEIO3, a v3 WebSocket session never opens", async () => {
    const c = websocket(server.url, "EIO=3&transport=websocket");
    const opened = await c.opened.then(() => true, () => false);
    if (opened) {
      await assert.rejects(c.next(1000));
      await c.closed;
    }
  });
});
