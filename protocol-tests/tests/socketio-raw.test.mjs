// Raw Engine.IO v4 WebSocket frames against `/socket.io/`: the exact bytes of
// CONNECT replies and refusals, and the packets that close the connection.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFixture, startFeatureServer } from "./lib/server.mjs";
import { rawSocket, client, connected, sleep } from "./lib/sio.mjs";

let fixture;
let features;
let recovery;
before(async () => {
  fixture = await startFixture();
  features = await startFeatureServer();
  recovery = await startFeatureServer({ recovery: true });
});
after(async () => {
  await fixture.stop();
  await features.stop();
  await recovery.stop();
});

const SID = "[A-Za-z0-9_-]{20}";
const reference = process.env.TARGET === "reference";

/// A raw socket that has joined `/` and read its CONNECT reply and first event.
async function joined(url) {
  const raw = await rawSocket(url);
  raw.send("40");
  const reply = await raw.next();
  const sid = JSON.parse(reply.slice(2)).sid;
  return { raw, sid };
}

/// Whether the server closes the connection within `ms`.
async function closesWithin(raw, ms = 2000) {
  const result = await Promise.race([raw.closed.then(() => true), sleep(ms).then(() => false)]);
  return result;
}

describe("exact bytes", () => {
  test("the open packet and the CONNECT reply to /", async () => {
    const raw = await rawSocket(fixture.url);
    const open = JSON.parse(raw.open.slice(1));
    assert.equal(raw.open[0], "0");
    assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    assert.deepEqual([open.pingInterval, open.pingTimeout, open.maxPayload], [300, 200, 1000000]);
    raw.send("40");
    const reply = await raw.next();
    assert.match(reply, new RegExp(`^40\\{"sid":"${SID}"\\}$`));
    assert.notEqual(JSON.parse(reply.slice(2)).sid, open.sid);
    assert.equal(await raw.next(), '42["auth",{}]');
    raw.close();
  });

  test("the CONNECT reply to a custom namespace, with auth", async () => {
    const raw = await rawSocket(fixture.url);
    raw.send('40/custom,{"token":"é","n":[1,2.5]}');
    assert.match(await raw.next(), new RegExp(`^40/custom,\\{"sid":"${SID}"\\}$`));
    assert.equal(await raw.next(), '42/custom,["auth",{"token":"é","n":[1,2.5]}]');
    raw.close();
  });

  test("with recovery on, the reply carries a pid and events an offset", async () => {
    const raw = await rawSocket(recovery.url);
    raw.send("40");
    assert.match(await raw.next(), new RegExp(`^40\\{"sid":"${SID}","pid":"${SID}"\\}$`));
    const hello = JSON.parse((await raw.next()).slice(2));
    assert.equal(hello[0], "hello");
    assert.equal(hello.length, 3, "hello, its argument and the offset");
    assert.equal(typeof hello[2], "string");
    raw.close();
  });

  test("an unknown namespace", async () => {
    const raw = await rawSocket(fixture.url);
    raw.send("40/nope,");
    assert.equal(await raw.next(), '44/nope,{"message":"Invalid namespace"}');
    raw.close();
  });

  test("a middleware refusal with data", async () => {
    const raw = await rawSocket(features.url);
    raw.send('40/guarded,{"token":"no"}');
    assert.equal(await raw.next(), '44/guarded,{"message":"unauthorized","data":{"reason":"bad token"}}');
    raw.send('40/guarded,{"token":"secret"}');
    assert.match(await raw.next(), new RegExp(`^40/guarded,\\{"sid":"${SID}"\\}$`));
    raw.close();
  });

  test("a binary event: the header, the placeholder, then the attachment", async () => {
    const { raw } = await joined(fixture.url);
    await raw.next(); // auth
    raw.send('451-["message",{"_placeholder":true,"num":0},"x"]');
    raw.send(Buffer.from([1, 2, 3]));
    assert.equal(await raw.next(), '451-["message-back",{"_placeholder":true,"num":0},"x"]');
    assert.deepEqual(await raw.next(), Buffer.from([1, 2, 3]));
    raw.send('4213["message-with-ack","a"]');
    assert.equal(await raw.next(), '4313["a"]');
    raw.close();
  });
});

describe("packets that close the connection", () => {
  const cases = {
    "unknown packet type": "49",
    "an EVENT that is not an array": '42{"a":1}',
    "an EVENT with a reserved name": '42["disconnect"]',
    "an EVENT with no name": "42[]",
    "a CONNECT whose auth is not an object": null, // sent to a fresh socket, see below
    "an ACK whose id runs into a non-digit": "431.5[]",
    "a binary packet declaring 0 attachments": '450-["x"]',
    "a second CONNECT to a joined namespace": "40",
    "a packet for a namespace not joined": '42/custom,["x"]',
    "a CONNECT_ERROR from the client": '44{"message":"x"}',
  };
  for (const [name, frame] of Object.entries(cases)) {
    test(name, async () => {
      if (frame === null) {
        const raw = await rawSocket(fixture.url);
        raw.send('40"string"');
        assert.ok(await closesWithin(raw), "closed");
        return;
      }
      const { raw } = await joined(fixture.url);
      raw.send(frame);
      assert.ok(await closesWithin(raw), "closed");
    });
  }

  test("an ack id past 2^64 - 1 (ours refuses it; the reference rounds it)", { skip: reference }, async () => {
    const { raw } = await joined(fixture.url);
    raw.send("4318446744073709551616[]");
    assert.ok(await closesWithin(raw), "closed");
  });

  test("an ACK nobody waits for is ignored", async () => {
    const { raw } = await joined(fixture.url);
    await raw.next(); // auth
    raw.send("4377[1]");
    raw.send('42["message",1]');
    assert.equal(await raw.next(), '42["message-back",1]');
    raw.close();
  });

  test("a numeric event name is accepted", async () => {
    const { raw } = await joined(fixture.url);
    await raw.next();
    raw.send("42[7,1]");
    raw.send('42["message",2]');
    assert.equal(await raw.next(), '42["message-back",2]');
    raw.close();
  });

  test("no CONNECT within connectTimeout (1 s) closes the connection", async () => {
    const raw = await rawSocket(fixture.url);
    const started = Date.now();
    assert.ok(await closesWithin(raw, 3000), "closed");
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 2500, `closed after ${elapsed} ms`);
  });

  // The reference closes the Engine.IO session, whose WebSocket close reaches the sockets (with
  // `forced close`) before the reference's own `forced server close`.
  test("the server-side reason after a packet in an invalid state is forced close", async () => {
    const observer = client(features.url);
    await connected(observer);
    const { raw, sid } = await joined(features.url);
    raw.send('42/guarded,["x"]');
    assert.ok(await closesWithin(raw), "closed");
    await sleep(100);
    assert.equal(await observer.timeout(2000).emitWithAck("reason-of", sid), "forced close");
    observer.disconnect();
  });

  test("the server-side reason after an invalid packet is forced close", async () => {
    const observer = client(features.url);
    await connected(observer);
    const { raw, sid } = await joined(features.url);
    raw.send('42["connect"]');
    assert.ok(await closesWithin(raw), "closed");
    await sleep(100);
    assert.equal(await observer.timeout(2000).emitWithAck("reason-of", sid), "forced close");
    observer.disconnect();
  });
});
