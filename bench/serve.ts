/**
 * npm run bench -- --serve: the scoring server under a bounded loopback load. A child process serves a
 * lead model (default booster settings, 300 trees); this process sends POST /v1/score at a fixed rate
 * (open loop: requests leave on schedule whether or not earlier ones answered) over keep-alive
 * connections, and reports latency percentiles and the server's heap after garbage collection, after
 * warm-up and at the end (growth = leak).
 *
 *   npm run bench -- --serve [--serve-requests 100000] [--serve-rate 200] [--serve-trees 300]
 */
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { syntheticLeads } from "../test/support/synthetic-leads.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
};
const total = opt("--serve-requests", 100_000);
const rate = opt("--serve-rate", 200);
const trees = opt("--serve-trees", 300);
const warmup = Math.min(2000, Math.floor(total / 10));

const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", path.join(ROOT, "bench", "stage-serve.ts"), String(trees)], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
const lines = createInterface({ input: child.stdout! });
const waiting: Array<(l: string) => void> = [];
lines.on("line", (l) => {
  const w = waiting.shift();
  if (w) w(l);
});
const nextLine = (prefix: string): Promise<string> => new Promise((resolve) => {
  const take = (l: string): void => (l.startsWith(prefix) ? resolve(l.slice(prefix.length)) : void waiting.unshift(take));
  waiting.push(take);
});
const started = nextLine("URL:");
const head = await started;
const [url, treeInfo] = head.split(" ");
const mem = async (): Promise<[number, number]> => {
  const p = nextLine("MEM:");
  child.stdin!.write("mem\n");
  const [h, r] = (await p).split(",").map(Number);
  return [h!, r!];
};

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const u = new URL(`${url}/v1/score`);
const payloads = syntheticLeads(500, 5).map((l) => JSON.stringify({ lead: { ...l, created_at: undefined, converted: undefined } }));
let retried = 0;
/** One request; a reset on a reused keep-alive socket is retried once (as HTTP clients do) and counted. */
const post = (body: string, retry = true): Promise<number> => send(body).catch((e: NodeJS.ErrnoException) => {
  if (!retry || e.code !== "ECONNRESET") throw e;
  retried++;
  return post(body, false);
});
const send = (body: string): Promise<number> => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const req = request({ agent, host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`status ${res.statusCode}`))));
  });
  req.on("error", reject);
  req.end(body);
});

/** Send n requests at `rate` per second; latencies in ms. */
async function load(n: number): Promise<{ latencies: Float64Array; seconds: number }> {
  const latencies = new Float64Array(n);
  let sent = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const tick = (): void => {
      const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due) {
        const i = sent++;
        post(payloads[i % payloads.length]!).then((ms) => {
          latencies[i] = ms;
          if (++done === n) resolve();
        }, reject);
      }
      if (sent < n) setTimeout(tick, 2);
    };
    tick();
  });
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

const pct = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

await load(warmup);
const [heap0, rss0] = await mem();
const { latencies, seconds } = await load(total);
const [heap1, rss1] = await mem();
latencies.sort();
const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
console.log(`scoring server (${treeInfo!.replace("TREES:", "")} trees), ${total.toLocaleString("en-US")} requests at ${rate}/s over loopback (achieved ${(total / seconds).toFixed(0)}/s, after ${warmup} warm-up requests)`);
console.log(`  latency ms: p50 ${pct(latencies, 0.5).toFixed(2)}  p90 ${pct(latencies, 0.9).toFixed(2)}  p99 ${pct(latencies, 0.99).toFixed(2)}  max ${latencies[latencies.length - 1]!.toFixed(2)}`);
if (retried) console.log(`  ${retried} requests retried after a connection reset`);
console.log(`  server heap after GC: ${mb(heap0)} MB after warm-up → ${mb(heap1)} MB at the end (${heap1 >= heap0 ? "+" : ""}${mb(heap1 - heap0)} MB); RSS ${mb(rss0)} → ${mb(rss1)} MB`);
agent.destroy();
child.stdin!.end();
await new Promise((r) => child.once("exit", r));
