// sio-gateway relay with the official socket.io-client and a small test
// upstream: success, an upstream error status, an upstream timeout, a non-JSON
// answer, a relay asked on /, no RELAY_URL and an unreachable upstream. Every
// case is an ack, never silence. Then an https upstream whose certificate a
// private authority signed (made here with the openssl command): trusted through
// RELAY_CA_FILE, refused without it.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { client, connected, MODES } from "./lib/sio.mjs";
import { KEY, startGateway, tempDataDir, request } from "../gateway/gateway.mjs";
import { startUpstream } from "../gateway/upstream.mjs";
import { haveOpenssl, NO_OPENSSL, privatePki } from "../gateway/pki.mjs";

const RELAY_EVENTS = "send_message,fail_message,slow_message,text_message";

describe("gateway relay", () => {
  let gw;
  let up;
  let data;
  before(async () => {
    data = tempDataDir();
    up = await startUpstream();
    gw = await startGateway({
      AUTHENTICATION_API_KEY: KEY,
      DATA_DIR: data.dir,
      RELAY_URL: `${up.url}/{event}/{instance}`,
      RELAY_EVENTS,
      RELAY_TIMEOUT_MS: "300",
    });
    await request(gw.url, "PUT", "/instances/shop", { key: KEY, body: { token: "T-shop" } });
  });
  after(async () => {
    await gw.stop();
    await up.close();
    data.cleanup();
  });

  for (const [mode, opts] of Object.entries(MODES)) {
    test(`success: the upstream's JSON answer is the ack (${mode})`, async () => {
      const s = client(gw.url, "/shop", { ...opts, auth: { apikey: "T-shop" } });
      await connected(s);
      const body = { number: "5511999999999", text: "olá 👋", options: { delay: 0 } };
      const ack = await s.timeout(3000).emitWithAck("send_message", body);
      assert.deepEqual(ack, { ok: true, instance: "shop", event: "send_message", apikey: "T-shop", body });
      const seen = up.requests.at(-1);
      assert.equal(seen.method, "POST");
      assert.equal(seen.url, "/send_message/shop");
      assert.equal(seen.headers["content-type"], "application/json");
      assert.equal(seen.headers.apikey, "T-shop", "the instance's token, whatever key the client used");
      s.disconnect();
    });
  }

  test("the instance's token is sent even when the client came in with the global key", async () => {
    const s = client(gw.url, "/shop", { auth: { apikey: KEY } });
    await connected(s);
    const ack = await s.timeout(3000).emitWithAck("send_message", { text: "x" });
    assert.equal(ack.apikey, "T-shop");
    s.disconnect();
  });

  test("an upstream error status is an ack {error, status, body}", async () => {
    const s = client(gw.url, "/shop", { auth: { apikey: "T-shop" } });
    await connected(s);
    const ack = await s.timeout(3000).emitWithAck("fail_message", { number: "0" });
    assert.deepEqual(ack, { error: "upstream answered 422", status: 422, body: { message: "number not on WhatsApp" } });
    s.disconnect();
  });

  test("an upstream timeout is an ack {error} after RELAY_TIMEOUT_MS", async () => {
    const s = client(gw.url, "/shop", { auth: { apikey: "T-shop" } });
    await connected(s);
    const started = Date.now();
    const ack = await s.timeout(3000).emitWithAck("slow_message", {});
    const took = Date.now() - started;
    assert.deepEqual(ack, { error: "upstream timed out after 300 ms" });
    assert.ok(took >= 290 && took < 1500, `answered after ${took} ms`);
    s.disconnect();
  });

  test("a non-JSON answer and a relay on / are acks {error}", async () => {
    const s = client(gw.url, "/shop", { auth: { apikey: "T-shop" } });
    const root = client(gw.url, "/", { auth: { apikey: KEY } });
    await Promise.all([connected(s), connected(root)]);
    const text = await s.timeout(3000).emitWithAck("text_message", {});
    assert.deepEqual(Object.keys(text), ["error"]);
    assert.match(text.error, /not JSON/);
    const onRoot = await root.timeout(3000).emitWithAck("send_message", {});
    assert.deepEqual(Object.keys(onRoot), ["error"]);
    assert.match(onRoot.error, /instance namespace/);
    s.disconnect();
    root.disconnect();
  });

  test("relay metrics count latency and failures", async () => {
    const res = await request(gw.url, "GET", `/metrics?apikey=${KEY}`);
    assert.equal(res.status, 200);
    assert.match(res.body, /sio_gateway_relay_duration_seconds_count\{outcome="ok"\} \d+/);
    assert.match(res.body, /sio_gateway_relay_failures_total\{reason="timeout"\} 1/);
    assert.match(res.body, /sio_gateway_relay_failures_total\{reason="status"\} 1/);
    assert.match(res.body, /sio_gateway_events_in_total\{source="client"\} \d+/);
  });
});

describe("gateway relay without an upstream", () => {
  test("no RELAY_URL, and an unreachable upstream, are acks {error}", async () => {
    const data = tempDataDir();
    const noUrl = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir });
    let s = client(noUrl.url, "/shop", { auth: { apikey: KEY } });
    await connected(s);
    const ack = await s.timeout(3000).emitWithAck("send_message", {});
    assert.match(ack.error, /RELAY_URL/);
    s.disconnect();
    await noUrl.stop();

    const up = await startUpstream();
    const deadUrl = `${up.url}/{event}/{instance}`;
    await up.close();
    const dead = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, RELAY_URL: deadUrl });
    s = client(dead.url, "/shop", { auth: { apikey: KEY } });
    await connected(s);
    const ack2 = await s.timeout(3000).emitWithAck("send_message", {});
    assert.match(ack2.error, /unreachable/);
    s.disconnect();
    await dead.stop();
    data.cleanup();
  });
});

describe("gateway relay to an https upstream", () => {
  const skip = haveOpenssl() ? false : NO_OPENSSL;

  test("trusted through RELAY_CA_FILE: the upstream's answer is the ack; unknown authority: an ack {error}", { skip }, async () => {
    const data = tempDataDir();
    const pki = privatePki(data.dir);
    const up = await startUpstream({ tls: pki.tls });
    const env = { AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, RELAY_URL: `${up.url}/{event}/{instance}` };

    const trusted = await startGateway({ ...env, RELAY_CA_FILE: pki.caFile });
    let s = client(trusted.url, "/shop", { auth: { apikey: KEY } });
    await connected(s);
    const ack = await s.timeout(5000).emitWithAck("send_message", { text: "over https" });
    assert.deepEqual(ack, { ok: true, instance: "shop", event: "send_message", apikey: KEY, body: { text: "over https" } });
    assert.equal(up.requests.length, 1);
    s.disconnect();
    await trusted.stop();

    const untrusted = await startGateway(env);
    s = client(untrusted.url, "/shop", { auth: { apikey: KEY } });
    await connected(s);
    const refused = await s.timeout(5000).emitWithAck("send_message", { text: "not sent" });
    assert.deepEqual(Object.keys(refused), ["error"]);
    assert.match(refused.error, /unreachable.*certificate/i, refused.error);
    assert.equal(up.requests.length, 1, "nothing reached the upstream");
    s.disconnect();
    await untrusted.stop();
    await up.close();
    data.cleanup();
  });

  test("a RELAY_CA_FILE that cannot be read stops the start, naming the variable", async () => {
    const data = tempDataDir();
    await assert.rejects(
      startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, RELAY_CA_FILE: path.join(data.dir, "missing.pem") }),
      /RELAY_CA_FILE .*missing\.pem/,
    );
    data.cleanup();
  });
});
