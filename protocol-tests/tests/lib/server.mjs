// Starts the server under test and hands its base URL to the tests.
//
// By default the server is our `conformance-server` (the path in the
// CONFORMANCE_SERVER environment variable, set by scripts/test). With
// TARGET=reference the same tests run against the reference Node servers in
// ../reference/, which is how the expectations themselves are checked.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import readline from "node:readline";

const here = path.dirname(fileURLToPath(import.meta.url));

/// Spawns `command args...`, waits for its `listening on 127.0.0.1:<port>`
/// line and returns `{ url, port, stop() }`.
export async function startProcess(command, args, env = {}) {
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const port = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`${command} did not start in 20 s`)), 20000);
    child.once("exit", (code) => reject(new Error(`${command} exited with ${code} before listening`)));
    child.once("error", reject);
    lines.on("line", (line) => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill("SIGKILL");
      }),
  };
}

/// Starts the conformance fixture (ours, or the reference with TARGET=reference).
export async function startFixture({ allowEio3 = false } = {}) {
  const flags = ["--port", "0", ...(allowEio3 ? ["--allow-eio3"] : [])];
  if (process.env.TARGET === "reference") {
    return startProcess(process.execPath, [path.join(here, "../../reference/fixture.mjs"), ...flags]);
  }
  const bin = process.env.CONFORMANCE_SERVER;
  if (!bin) {
    throw new Error(
      "CONFORMANCE_SERVER is not set: run the suite with scripts/test, or set it to target/debug/conformance-server",
    );
  }
  // FIXTURE_HTTP=hyper: the engines behind a hyper server, as an application embeds them.
  const http = process.env.FIXTURE_HTTP === "hyper" ? ["--hyper"] : [];
  return startProcess(bin, [...flags, ...http]);
}

/// Starts `feature-server` (ours, from FEATURE_SERVER, or the reference with
/// TARGET=reference): rooms, broadcasts, middlewares, recovery, driven by events.
export async function startFeatureServer({ recovery = false, allowEio3 = false, msgpack = false } = {}) {
  const flags = [
    "--port",
    "0",
    ...(recovery ? ["--recovery"] : []),
    ...(allowEio3 ? ["--allow-eio3"] : []),
    ...(msgpack ? ["--msgpack"] : []),
  ];
  if (process.env.TARGET === "reference") {
    return startProcess(process.execPath, [path.join(here, "../../reference/feature-server.mjs"), ...flags]);
  }
  const bin = process.env.FEATURE_SERVER;
  if (!bin) {
    throw new Error("FEATURE_SERVER is not set: run the suite with scripts/test, or set it to target/debug/feature-server");
  }
  return startProcess(bin, flags);
}
