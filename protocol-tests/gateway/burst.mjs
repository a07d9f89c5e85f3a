// Posts a burst of webhook events to a gateway, one after another (so their
// order is the ingest order), from its own process so that the clients'
// process does not slow the sender down. Prints `posted <n> in <ms> ms`.
//   node burst.mjs <base-url> <key> <instance> <count>
import http from "node:http";

const [base, key, instance, countText] = process.argv.slice(2);
const count = Number(countText);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      `${base}/webhook`,
      { method: "POST", agent, headers: { "content-type": "application/json", apikey: key } },
      (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 202 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

const started = Date.now();
for (let seq = 0; seq < count; seq++) {
  await post({
    event: "messages.upsert",
    instance,
    data: { key: { id: `MSG${seq}`, fromMe: false }, message: { conversation: "hello" }, seq },
    date_time: "2025-01-01T12:00:00.000Z",
  });
}
console.log(`posted ${count} in ${Date.now() - started} ms`);
agent.destroy();
