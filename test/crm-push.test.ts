import { strict as assert } from "node:assert";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { memoryEngine, PROJECT_DIR, rowsOf } from "./support/warehouse.ts";
import { loadProjectSettings, type Settings } from "../src/config/settings.ts";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { acquireLease } from "../src/engines/duckdb/file-lease.ts";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LEAD_SCORES_SCHEMA } from "../src/lead-scoring/tables.ts";
import { pushLeadScores, backoffDelay, planPush, payloadHash, DEFAULT_RETRY, type PushSummary } from "../src/crm/index.ts";

const TOKEN = "s3cret-token-value";
const DB = "funnelcredit-local";

interface Seen { key: string; auth: string; leads: string[] }

/** A CRM endpoint that fails on purpose: `plan(requestIndex, leadIds)` → [status, body, headers]. */
async function startServer(plan: (i: number, leads: string[]) => [number, string, Record<string, string>?]): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const leads = (JSON.parse(body) as { scores: { lead_id: string }[] }).scores.map((s) => s.lead_id);
      seen.push({ key: String(req.headers["idempotency-key"]), auth: String(req.headers.authorization), leads });
      const [status, text, headers] = plan(seen.length - 1, leads);
      res.writeHead(status, { "Content-Type": "text/plain", ...(headers ?? {}) });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/api/scores?tenant=1`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

/** A CRM endpoint that reads each request and never answers. */
async function hangingServer(): Promise<{ url: string; requests: () => number; close: () => void }> {
  let n = 0;
  const server = http.createServer((req) => {
    n++;
    req.resume();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/scores`, requests: () => n,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Fails (instead of hanging the suite) when `p` does not settle within `ms`. */
function withWatchdog<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms: no timeout`)), ms);
  });
  return Promise.race([p, watchdog]).finally(() => clearTimeout(timer));
}

function scoreRow(id: string, score: number) {
  return {
    lead_id: id, score, probability: score / 100, model_version: "lead_scoring@abc", scored_at: new Date("2024-07-01T00:00:00Z"),
    key_factors: [{ feature: "web_session_count=3", contribution: 0.4, direction: "up" }], segment: score >= 50 ? "hot" : "cold",
  };
}

describe("CRM push of lead scores", () => {
  let engine: DuckDBEngine;
  let settings: Settings;
  const delays: number[] = [];
  const logs: string[] = [];

  const push = (url: string, extra: Partial<Parameters<typeof pushLeadScores>[2]> = {}): Promise<PushSummary> =>
    pushLeadScores(engine, settings, {
      url, tokenEnv: "CRM_TOKEN", env: { CRM_TOKEN: TOKEN }, batchSize: 2, runId: "run-1", database: DB,
      retry: { maxRetries: 3, baseDelayMs: 100 }, sleep: async (ms) => void delays.push(ms), random: () => 0.5,
      now: () => new Date("2024-07-02T00:00:00Z"), log: (m) => logs.push(m), ...extra,
    });

  beforeEach(async () => {
    engine = await memoryEngine();
    settings = loadProjectSettings(PROJECT_DIR).settings;
    await engine.ensureDataset(DB, settings.datasets.outputs);
    await engine.writeRows({ database: DB, schema: settings.datasets.outputs, name: "lead_scores" }, LEAD_SCORES_SCHEMA,
      [scoreRow("L1", 80), scoreRow("L2", 20), scoreRow("L3", 55), scoreRow("L4", 10), scoreRow("L5", 65)], { mode: "replace" });
    delays.length = 0;
    logs.length = 0;
  });
  afterEach(async () => engine.close());

  it("retries 5xx and 429 with backoff and the same idempotency key, dead-letters a 400, and a re-run sends only the rest", async () => {
    // Batches of 2: [L1, L2], [L3, L4], [L5]. Requests: 0: 503, 1: 502 (batch 1 retried twice), 2: 200;
    // 3: 429 with Retry-After 0, 4: 200 (batch 2); 5: 400 echoing the token (batch 3, not retryable).
    const srv = await startServer((i) =>
      i <= 1 ? [i === 0 ? 503 : 502, "busy"] : i === 3 ? [429, "slow down", { "Retry-After": "0" }] : i === 5 ? [400, `bad token ${TOKEN}`] : [200, "ok"]);
    try {
      const r = await push(srv.url);
      assert.equal(r.acknowledged.length, 4);
      assert.equal(r.deadLetters.length, 1);
      assert.equal(r.requests, 6);
      assert.deepEqual(srv.seen.map((s) => s.leads.join(",")), ["L1,L2", "L1,L2", "L1,L2", "L3,L4", "L3,L4", "L5"]);
      assert.equal(new Set(srv.seen.slice(0, 3).map((s) => s.key)).size, 1, "one idempotency key across retries");
      assert.notEqual(srv.seen[0]!.key, srv.seen[3]!.key);
      assert.ok(srv.seen.every((s) => s.auth === `Bearer ${TOKEN}`));
      // Backoff: 100·2^(k−1)·(0.8 + 0.4·0.5) = 100, 200; Retry-After 0 → 0.
      assert.deepEqual(delays, [100, 200, 0]);

      const dead = await rowsOf(engine, settings.datasets.meta, "crm_push_dead_letters");
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.lead_id, "L5");
      assert.equal(Number(dead[0]!.http_status), 400);
      assert.equal(Number(dead[0]!.attempts), 1);
      assert.equal(dead[0]!.destination, srv.url.replace("?tenant=1", ""));
      // The token is never logged nor stored.
      assert.ok(!JSON.stringify(dead).includes(TOKEN) && !logs.join("\n").includes(TOKEN), "token leaked");
      assert.match(String(dead[0]!.error), /\[redacted\]/);

      const state = await rowsOf(engine, settings.datasets.meta, "crm_push_state", "lead_id");
      assert.deepEqual(state.map((s) => s.lead_id), ["L1", "L2", "L3", "L4"]);

      // Re-run (the endpoint now answers 200): only L5, never acknowledged, goes out.
      const before = srv.seen.length;
      const r2 = await push(srv.url);
      assert.equal(r2.planned, 1);
      assert.equal(r2.acknowledged.length, 1);
      assert.deepEqual(srv.seen.slice(before).map((s) => s.leads.join(",")), ["L5"]);
    } finally {
      await srv.close();
    }
  });

  it("dead-letters a batch after the last retry and sends nothing when scores are unchanged", async () => {
    const down = await startServer(() => [500, "down"]);
    try {
      const r = await push(down.url, { batchSize: 10 });
      assert.equal(r.deadLetters.length, 5);
      assert.equal(r.requests, 4, "first attempt + 3 retries");
      assert.ok(r.deadLetters.every((d) => d.attempts === 4 && d.http_status === 500));
    } finally {
      await down.close();
    }
    const up = await startServer(() => [200, "ok"]);
    try {
      assert.equal((await push(up.url)).acknowledged.length, 5);
      const again = await push(up.url);
      assert.equal(again.planned, 0);
      assert.equal(again.requests, 0);
      // A changed score is sent again, alone.
      await engine.writeRows({ database: DB, schema: settings.datasets.outputs, name: "lead_scores" }, LEAD_SCORES_SCHEMA,
        [scoreRow("L1", 80), scoreRow("L2", 21), scoreRow("L3", 55), scoreRow("L4", 10), scoreRow("L5", 65)], { mode: "replace" });
      const changed = await push(up.url);
      assert.equal(changed.planned, 1);
      assert.deepEqual(up.seen.at(-1)!.leads, ["L2"]);
    } finally {
      await up.close();
    }
  });

  it("gives up on a request the CRM never answers after vars.crm_request_timeout_seconds, retries it, then dead-letters it", async () => {
    const hang = await hangingServer();
    try {
      const t0 = Date.now();
      // 3 batches × (1 try + 1 retry) × 0.2 s ≈ 1.2 s; without a timeout this never returns.
      const r = await withWatchdog(push(hang.url, { retry: { maxRetries: 1, baseDelayMs: 1 }, requestTimeoutMs: 200 }), 15_000);
      assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
      assert.equal(hang.requests(), 6);
      assert.equal(r.deadLetters.length, 5);
      assert.equal(r.unsent, 0);
      assert.match(r.deadLetters[0]!.error, /no answer within 0\.2 s \(vars\.crm_request_timeout_seconds = 0\.2 s\)/);
      assert.equal((await rowsOf(engine, settings.datasets.meta, "crm_push_dead_letters")).length, 5);
    } finally {
      hang.close();
    }
  });

  it("stops the whole push at vars.crm_push_timeout_seconds: what is not acknowledged stays for the next push", async () => {
    const hang = await hangingServer();
    try {
      const t0 = Date.now();
      const r = await withWatchdog(push(hang.url, { now: () => new Date(), requestTimeoutMs: 60_000, pushTimeoutMs: 300 }), 15_000);
      assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
      assert.equal(r.acknowledged.length, 0);
      assert.equal(r.deadLetters.length, 0);
      assert.equal(r.unsent, 5);
    } finally {
      hang.close();
    }
    const up = await startServer(() => [200, "ok"]);
    try {
      assert.equal((await push(up.url)).acknowledged.length, 5, "the next push sends them");
    } finally {
      await up.close();
    }
  });

  it("refuses to run without a token and never prints it", async () => {
    await assert.rejects(push("http://127.0.0.1:9/x", { env: {} }), /CRM_TOKEN is empty/);
  });
});

describe("CRM push planning", () => {
  it("plans only scores whose payload differs from the acknowledged one", () => {
    const s = { lead_id: "A", score: 10, probability: 0.1, segment: "cold", model_version: "v", scored_at: "t", key_factors: [] };
    const acked = [{ destination: "d", lead_id: "A", payload_hash: payloadHash(s), score: 10, acknowledged_at: new Date(0), run_id: "r" }];
    assert.equal(planPush([s], acked, "d").length, 0);
    assert.equal(planPush([{ ...s, probability: 0.11 }], acked, "d").length, 0, "probability alone is not a change");
    assert.equal(planPush([{ ...s, score: 11 }], acked, "d").length, 1);
    assert.equal(planPush([s], acked, "other").length, 1);
  });

  it("caps the exponential backoff and honours Retry-After", () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 500, maxDelayMs: 4000 };
    assert.equal(backoffDelay(1, p, null, () => 0.5, 0), 500);
    assert.equal(backoffDelay(3, p, null, () => 0.5, 0), 2000);
    assert.equal(backoffDelay(10, p, null, () => 0.5, 0), 4000);
    assert.equal(backoffDelay(1, p, "2", () => 0.5, 0), 2000);
    assert.equal(backoffDelay(1, p, "60", () => 0.5, 0), 4000);
  });
});

describe("push lead-scores command", function () {
  this.timeout(180_000);

  it("does not hold the warehouse while the CRM hangs: another run takes the lease and opens the warehouse meanwhile", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-push-"));
    const warehouse = path.join(dir, "w.duckdb");
    const settings = loadProjectSettings(PROJECT_DIR).settings;
    const db = await DuckDBEngine.open({ path: warehouse });
    await db.ensureDataset(DB, settings.datasets.outputs);
    await db.writeRows({ database: DB, schema: settings.datasets.outputs, name: "lead_scores" }, LEAD_SCORES_SCHEMA, [scoreRow("L1", 80), scoreRow("L2", 20)], { mode: "replace" });
    await db.close();
    const hang = await hangingServer();
    const child = spawn(path.join(PROJECT_DIR, "node_modules", ".bin", "tsx"), [
      path.join(PROJECT_DIR, "src", "cli", "main.ts"), "push", "lead-scores", "--to", hang.url, "--warehouse", warehouse,
      "--artifacts", path.join(dir, "artifacts"), "--max-retries", "0", "--vars", "crm_request_timeout_seconds=4",
    ], { cwd: PROJECT_DIR, env: { ...process.env, FUNNELCREDIT_CRM_TOKEN: TOKEN, NO_COLOR: "1" } });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    try {
      const t0 = Date.now();
      while (hang.requests() === 0) {
        assert.ok(Date.now() - t0 < 90_000, `the push never reached the CRM: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // While the request hangs, a run can take the lease and open the warehouse.
      const lease = await acquireLease(`${warehouse}.lease`, "another-run", { waitMs: 0 });
      try {
        const other = await DuckDBEngine.open({ path: warehouse });
        assert.equal((await other.queryNative(`SELECT COUNT(*) AS n FROM "${settings.datasets.outputs}".lead_scores`))[0]!.n, 2);
        await other.close();
      } finally {
        lease.release();
      }
      const code = await withWatchdog(exited, 90_000);
      assert.equal(code, 1, stderr);
      assert.match(stderr, /no answer within 4 s/);
      const after = await DuckDBEngine.open({ path: warehouse });
      try {
        const dead = await after.queryNative(`SELECT lead_id, error FROM "${settings.datasets.meta}".crm_push_dead_letters ORDER BY lead_id`);
        assert.deepEqual(dead.map((d) => d.lead_id), ["L1", "L2"]);
      } finally {
        await after.close();
      }
    } finally {
      child.kill("SIGKILL");
      hang.close();
    }
  });
});
