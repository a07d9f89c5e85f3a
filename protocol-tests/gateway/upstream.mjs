// A small upstream for the relay tests: answers POST /<event>/<instance> by the
// event name, and records every request it got.
//   send_message -> 200 {"ok":true,"instance","event","apikey","body"}
//   fail_message -> 422 {"message":"number not on WhatsApp"}
//   slow_message -> 200 after 2 s (longer than the tests' RELAY_TIMEOUT_MS)
//   text_message -> 200 with a text/plain body
// With `tls` ({ key, cert } in PEM), it is an https upstream on `localhost`.
import http from "node:http";
import https from "node:https";

export async function startUpstream({ tls } = {}) {
  const requests = [];
  const handler = (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const [, event, instance] = req.url.split("/");
      const text = Buffer.concat(chunks).toString("utf8");
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {}
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const json = (status, value) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      switch (event) {
        case "send_message":
          return json(200, { ok: true, instance, event, apikey: req.headers.apikey ?? null, body });
        case "fail_message":
          return json(422, { message: "number not on WhatsApp" });
        case "slow_message":
          return setTimeout(() => json(200, { late: true }), 2000);
        case "text_message":
          res.writeHead(200, { "content-type": "text/plain" });
          return res.end("sent");
        default:
          return json(404, { message: "unknown route" });
      }
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
