// The Redis server the cluster tests need (REDIS_URL, redis://127.0.0.1:6379 by
// default), and a one-command client for it: enough RESP to ask PUBSUB NUMSUB
// whether a node has subscribed yet.
import net from "node:net";

export const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";

/// Sends one command and resolves with its reply (integers, strings and arrays
/// of them), or rejects with a message that says what is missing.
export function redisCommand(...args) {
  const url = new URL(REDIS_URL);
  const frame = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join("");
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(url.port || 6379), url.hostname);
    let buf = "";
    sock.setTimeout(2000, () => sock.destroy(new Error("no answer in 2 s")));
    sock.on("error", (e) =>
      reject(
        new Error(
          `these tests need a Redis server at ${REDIS_URL} (set REDIS_URL for another): ${e.message}. ` +
            "scripts/test starts one; or start one with `redis-server --port 6379 --save '' --appendonly no --daemonize yes`.",
        ),
      ),
    );
    sock.on("connect", () => sock.write(frame));
    sock.on("data", (d) => {
      buf += d.toString("utf8");
      const parsed = parse(buf, 0);
      if (parsed) {
        sock.end();
        resolve(parsed[0]);
      }
    });
  });
}

function parse(s, i) {
  const end = s.indexOf("\r\n", i);
  if (end < 0) return null;
  const head = s.slice(i + 1, end);
  switch (s[i]) {
    case ":":
      return [Number(head), end + 2];
    case "+":
    case "-":
      return [head, end + 2];
    case "$": {
      const n = Number(head);
      if (n < 0) return [null, end + 2];
      if (s.length < end + 2 + n + 2) return null;
      return [s.slice(end + 2, end + 2 + n), end + 2 + n + 2];
    }
    case "*": {
      const items = [];
      let at = end + 2;
      for (let k = 0; k < Number(head); k++) {
        const p = parse(s, at);
        if (!p) return null;
        items.push(p[0]);
        at = p[1];
      }
      return [items, at];
    }
    default:
      return null;
  }
}

/// Waits until `n` nodes listen on the request channel of `nsp` (channel
/// prefix `key`).
export async function waitForNodes(nsp, n, { key = "socket.io", timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [, count] = await redisCommand("PUBSUB", "NUMSUB", `${key}-request#${nsp}#`);
    if (Number(count) >= n) return;
    if (Date.now() > deadline) throw new Error(`${count} nodes on ${nsp}, not ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
