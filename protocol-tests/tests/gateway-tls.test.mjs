// sio-gateway serving https and wss itself (SERVER_TYPE=https with
// SSL_CONF_FULLCHAIN and SSL_CONF_PRIVKEY, the Evolution API's settings): the
// official socket.io-client connects over each transport trusting the test's
// authority and receives a webhook posted over https; a client that does not
// trust it gets no connection; missing or unusable files stop the start.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import path from "node:path";
import { client, connected, once, MODES } from "./lib/sio.mjs";
import { KEY, startGateway, tempDataDir, evolutionEvent, sleep } from "../gateway/gateway.mjs";
import { haveOpenssl, NO_OPENSSL, privatePki } from "../gateway/pki.mjs";

const skip = haveOpenssl() ? false : NO_OPENSSL;

/// POSTs `body` as JSON over https, trusting `ca`; resolves with `{ status, body }`.
function post(url, body, ca) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: "POST", ca, headers: { "content-type": "application/json", apikey: KEY } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("gateway over https", { skip }, () => {
  let gw;
  let data;
  let pki;
  let url;
  before(async () => {
    data = tempDataDir();
    pki = privatePki(data.dir);
    gw = await startGateway({
      AUTHENTICATION_API_KEY: KEY,
      DATA_DIR: data.dir,
      SERVER_TYPE: "https",
      SSL_CONF_FULLCHAIN: pki.chainFile,
      SSL_CONF_PRIVKEY: pki.keyFile,
    });
    url = `https://localhost:${gw.port}`;
  });
  after(async () => {
    await gw?.stop();
    data?.cleanup();
  });

  test("the banner gives https addresses", () => {
    assert.ok(gw.stdout.some((l) => l.startsWith("webhook:   POST https://")), gw.stdout.join("\n"));
  });

  for (const [mode, opts] of Object.entries(MODES)) {
    test(`a client trusting the authority connects and gets a webhook posted over https (${mode})`, async () => {
      const s = client(url, "/shop", { ...opts, ca: pki.ca, auth: { apikey: KEY } });
      await connected(s);
      if (mode === "upgrade" && s.io.engine.transport.name !== "websocket") await once(s.io.engine, "upgrade");
      const got = once(s, "messages.upsert");
      const res = await post(`${url}/webhook`, evolutionEvent("shop", "messages.upsert", { n: mode }), pki.ca);
      assert.equal(res.status, 202, res.body);
      const [ev] = await got;
      assert.equal(ev.instance, "shop");
      assert.equal(ev.data.n, mode);
      assert.equal(s.io.engine.transport.name, mode === "polling" ? "polling" : "websocket");
      s.disconnect();
    });
  }

  test("SIGTERM closes every TLS transport at once and exits 0", async () => {
    const ownData = tempDataDir();
    const own = await startGateway({
      AUTHENTICATION_API_KEY: KEY,
      DATA_DIR: ownData.dir,
      SERVER_TYPE: "https",
      SSL_CONF_FULLCHAIN: pki.chainFile,
      SSL_CONF_PRIVKEY: pki.keyFile,
    });
    const base = `https://localhost:${own.port}`;
    const sockets = Object.values(MODES).map((opts) => client(base, "/shop", { ...opts, ca: pki.ca, auth: { apikey: KEY } }));
    await Promise.all(sockets.map((s) => connected(s)));
    // Let the upgrade finish and each polling client's next GET arrive: Node's polling client
    // opens a TLS connection per request, and a GET that arrives after the session closed is
    // refused (unknown session), which the client reports as a transport error.
    await sleep(300);
    const reasons = sockets.map((s) => once(s, "disconnect", 3000));
    await own.stop("SIGTERM");
    assert.equal((await own.exited).code, 0);
    const got = (await Promise.all(reasons)).map(([reason], i) => `${Object.keys(MODES)[i]}: ${reason}`);
    assert.deepEqual(got, Object.keys(MODES).map((m) => `${m}: transport close`));
    ownData.cleanup();
  });

  test("a client that does not trust the authority gets no connection", async () => {
    const s = client(url, "/shop", { transports: ["websocket"], auth: { apikey: KEY } });
    const [err] = await once(s, "connect_error");
    assert.ok(err instanceof Error);
    assert.equal(s.connected, false);
    s.close();
  });
});

describe("gateway https settings", { skip }, () => {
  test("SERVER_TYPE=https without its files, or with unusable ones, stops the start naming the variable", async () => {
    const data = tempDataDir();
    const pki = privatePki(data.dir);
    const base = { AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, SERVER_TYPE: "https" };
    await assert.rejects(startGateway({ ...base, SSL_CONF_PRIVKEY: pki.keyFile }), /SERVER_TYPE=https needs SSL_CONF_FULLCHAIN/);
    await assert.rejects(startGateway({ ...base, SSL_CONF_FULLCHAIN: pki.chainFile }), /SERVER_TYPE=https needs SSL_CONF_PRIVKEY/);
    await assert.rejects(
      startGateway({ ...base, SSL_CONF_FULLCHAIN: path.join(data.dir, "missing.pem"), SSL_CONF_PRIVKEY: pki.keyFile }),
      /SSL_CONF_FULLCHAIN .*missing\.pem/,
    );
    // The authority's key is not the certificate's.
    await assert.rejects(
      startGateway({ ...base, SSL_CONF_FULLCHAIN: pki.chainFile, SSL_CONF_PRIVKEY: path.join(data.dir, "ca.key") }),
      /SSL_CONF_FULLCHAIN and SSL_CONF_PRIVKEY/,
    );
    await assert.rejects(startGateway({ ...base, SERVER_TYPE: "ftp" }), /SERVER_TYPE/);
    data.cleanup();
  });
});
