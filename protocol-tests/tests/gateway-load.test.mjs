// sio-gateway under a burst: 1,000 official clients on one instance, 1,000
// webhook events posted one after another; every client must get all of them,
// in order, none lost. Prints the figures it measured.
import { test } from "node:test";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { client, connected } from "./lib/sio.mjs";
import { KEY, startGateway, tempDataDir } from "../gateway/gateway.mjs";

const burstScript = fileURLToPath(new URL("../gateway/burst.mjs", import.meta.url));

const CLIENTS = Number(process.env.GATEWAY_LOAD_CLIENTS ?? 1000);
const EVENTS = Number(process.env.GATEWAY_LOAD_EVENTS ?? 1000);

test(`${CLIENTS} clients on one instance all receive a burst of ${EVENTS} events in order`, { timeout: 180000 }, async () => {
  const data = tempDataDir();
  const gw = await startGateway({ AUTHENTICATION_API_KEY: KEY, DATA_DIR: data.dir, LOG_LEVEL: "warn" });
  const sockets = [];
  const counts = new Array(CLIENTS).fill(0);
  const errors = [];
  let complete = 0;
  let allDone;
  const done = new Promise((resolve) => (allDone = resolve));

  const t0 = Date.now();
  for (let batch = 0; batch < CLIENTS; batch += 100) {
    const group = [];
    for (let i = batch; i < Math.min(batch + 100, CLIENTS); i++) {
      const s = client(gw.url, "/load", { transports: ["websocket"], auth: { apikey: KEY } });
      s.on("messages.upsert", (ev) => {
        if (ev.data.seq !== counts[i]) errors.push(`client ${i}: got ${ev.data.seq}, expected ${counts[i]}`);
        counts[i] = ev.data.seq + 1;
        if (counts[i] === EVENTS && ++complete === CLIENTS) allDone();
      });
      s.on("disconnect", (reason) => errors.push(`client ${i} disconnected: ${reason}`));
      sockets.push(s);
      group.push(connected(s, 20000));
    }
    await Promise.all(group);
  }
  const connectMs = Date.now() - t0;

  // The burst comes from another process, as a real webhook sender would.
  const t1 = Date.now();
  const poster = spawn(process.execPath, [burstScript, gw.url, KEY, "load", String(EVENTS)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let posterOut = "";
  poster.stdout.on("data", (c) => (posterOut += c));
  const posterExit = new Promise((resolve) => poster.once("exit", resolve));
  const timeout = setTimeout(() => allDone(), 120000);
  await done;
  clearTimeout(timeout);
  const deliverMs = Date.now() - t1;
  assert.equal(await posterExit, 0, "every POST was answered 202");
  const ingestMs = Number(/in (\d+) ms/.exec(posterOut)?.[1]);

  const short = counts.filter((c) => c !== EVENTS).length;
  console.log(
    `# gateway load: ${CLIENTS} clients connected in ${connectMs} ms; ${EVENTS} events posted (from another process) in ${ingestMs} ms; ` +
      `${CLIENTS * EVENTS} deliveries complete ${deliverMs} ms after the first POST; ${short} clients short; ${errors.length} errors`,
  );
  for (const s of sockets) {
    s.off("disconnect");
    s.disconnect();
  }
  await gw.stop();
  data.cleanup();
  assert.deepEqual(errors.slice(0, 5), []);
  assert.equal(short, 0);
});
