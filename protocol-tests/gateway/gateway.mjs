// Starts the real `sio-gateway` binary (GATEWAY_BIN, set by scripts/test) for the
// gateway suites, on 127.0.0.1 with a port picked by the system and a temporary
// DATA_DIR, and offers small helpers to drive its HTTP API.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";
import http from "node:http";

export const KEY = "test-global-key";

/// A fresh temporary directory for DATA_DIR; `cleanup()` removes it.
export function tempDataDir() {
  const dir = mkdtempSync(path.join(tmpdir(), "sio-gateway-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function binary() {
  const bin = process.env.GATEWAY_BIN;
  if (!bin) {
    throw new Error("GATEWAY_BIN is not set: run the suite with scripts/test, or set it to target/debug/sio-gateway");
  }
  return bin;
}

/// Spawns the gateway with `env` added to a minimal environment (no key unless
/// given: pass `AUTHENTICATION_API_KEY: KEY` for the usual case). Resolves once it
/// prints `listening on 127.0.0.1:<port>` with `{ url, port, key, stdout, stderr,
/// exited, stop(signal) }`; `key` is the generated key when one was printed.
export async function startGateway(env = {}, { args = [], port = 0 } = {}) {
  const child = spawn(binary(), args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      SERVER_HOST: "127.0.0.1",
      SERVER_PORT: String(port),
      LOG_LEVEL: "debug",
      ...env,
    },
  });
  const stdout = [];
  const stderr = [];
  readline.createInterface({ input: child.stderr }).on("line", (l) => stderr.push(l));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in 20 s: ${stderr.join("\n")}`)), 20000);
    let key = env.AUTHENTICATION_API_KEY ?? null;
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening: ${stderr.join("\n")}`));
    });
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      stdout.push(line);
      const k = /^global key \(generated[^)]*\): (\S+)$/.exec(line);
      if (k) key = k[1];
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), key });
      }
    });
  });
  return {
    ...started,
    url: `http://127.0.0.1:${started.port}`,
    stdout,
    stderr,
    exited,
    pid: child.pid,
    stop: async (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/// One HTTP request to the gateway: resolves with `{ status, headers, body }`,
/// `body` parsed as JSON when it is JSON.
export function request(base, method, route, { key, body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = http.request(
      base + route,
      {
        method,
        agent,
        headers: {
          ...(data !== undefined ? { "content-type": "application/json" } : {}),
          ...(key ? { apikey: key } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode, headers: res.headers, body: parsed });
        });
      },
    );
    req.on("error", reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/// A webhook body in the Evolution API's shape.
export function evolutionEvent(instance, event = "messages.upsert", data = {}) {
  return {
    event,
    instance,
    data: { key: { remoteJid: "5511999999999@s.whatsapp.net", fromMe: false, id: "3EB0" }, ...data },
    destination: "http://127.0.0.1:1/hook",
    date_time: "2025-01-01T12:00:00.000Z",
    sender: "5511888888888@s.whatsapp.net",
    server_url: "http://evolution.test",
    apikey: "instance-token",
  };
}

/// Resolves after `ms` milliseconds.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
