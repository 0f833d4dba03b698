// A fault-injecting HTTP proxy on loopback, between the pages and the server:
// it can drop a reply after the server has answered (the server committed, the
// client never hears), send a request twice, or pass it on. It counts what it did.
import { createServer, request as send } from "node:http";

export async function startProxy(target) {
  const stats = { requests: 0, dropped: 0, duplicated: 0 };
  let decide = () => "pass";
  const forward = (req, body) => new Promise((resolve, reject) => {
    const url = new URL(req.url, target);
    const outgoing = send(url, { method: req.method, headers: { ...req.headers, host: url.host, connection: "close" } }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
  const proxy = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    stats.requests++;
    const fault = req.method === "OPTIONS" ? "pass" : decide(req);
    try {
      let reply = await forward(req, body);
      if (fault === "duplicate") {
        stats.duplicated++;
        reply = await forward(req, body);
      }
      if (fault === "drop") {
        stats.dropped++;
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    } catch {
      req.socket.destroy(); // the server is down: as the network would fail
    }
  });
  await new Promise((done) => proxy.listen(0, "127.0.0.1", done));
  return {
    base: `http://127.0.0.1:${proxy.address().port}`,
    stats,
    /** `decide(request)` returns "pass", "drop" or "duplicate". */
    faults: (next) => (decide = next),
    close: () => new Promise((done) => { proxy.closeAllConnections?.(); proxy.close(done); }),
  };
}
