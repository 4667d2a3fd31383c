/**
 * SIGTERM / SIGINT: the run stops starting actions, the running statement is cancelled in the engine
 * (DuckDB interrupted and rolled back; BigQuery jobs.cancel), the run is recorded as cancelled in run
 * history and run.json, the lease is released, and the process exits 128 + the signal's number.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { createBigQueryEngine } from "../src/engines/bigquery/engine.ts";
import { EngineError } from "../src/engines/engine.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { PROJECT_DIR, compiledProject } from "./support/warehouse.ts";
import { makeSourceWarehouse } from "./support/kill.ts";
import { SLOW_STATEMENT } from "./support/slow-hook.ts";
import { reviveRunRecord } from "../src/report/data.ts";
import { startFakeBigQuery } from "./support/fake-bigquery.ts";

const SLOW_HOOK = path.join(PROJECT_DIR, "test", "support", "slow-hook.ts");
const SLOW_ACTION = "funnelcredit_staging.stg_ga4_events";

interface Line { severity?: string; message?: string; event?: string; action?: string; status?: string; runId?: string; exitCode?: number }

/** `funnelcredit run --json --verbose` in a child; `onLine` sees each JSON line as it comes (and may signal the child). */
function cliRun(warehouse: string, args: string[], onLine: (l: Line, kill: (s: NodeJS.Signals) => void) => void = () => {}, env: Record<string, string> = {}):
  Promise<{ code: number | null; lines: Line[]; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", "--import", SLOW_HOOK, "src/cli/main.ts", "run", "--json", "--verbose",
      "--warehouse", warehouse, "--artifacts", path.join(path.dirname(warehouse), "artifacts"), "--threads", "2", ...args], {
      cwd: PROJECT_DIR, env: { ...process.env, ...env },
    });
    const lines: Line[] = [];
    let buf = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const l = JSON.parse(buf.slice(0, i)) as Line;
        buf = buf.slice(i + 1);
        lines.push(l);
        onLine(l, (s) => p.kill(s));
      }
    });
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, lines, stderr, ms: Date.now() - t0 }));
  });
}

describe("cancellation: a signal ends the run recorded as cancelled, with the lease free", function () {
  this.timeout(300_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-cancel-"));
  const warehouse = path.join(dir, "w.duckdb");
  before(async () => makeSourceWarehouse(warehouse, await compiledProject()));

  it("SIGTERM during an action: the statement is interrupted, the rest never starts, exit 143", async () => {
    let sent = false;
    const r = await cliRun(warehouse, [], (l, kill) => {
      if (!sent && l.event === "action_started" && l.action === SLOW_ACTION) {
        sent = true;
        // The hook's statement runs for minutes: give it a moment to be inside DuckDB.
        setTimeout(() => kill("SIGTERM"), 300);
      }
    }, { FC_SLOW_ACTION: SLOW_ACTION });
    assert.ok(sent, `the run never started ${SLOW_ACTION}: ${r.stderr.slice(-2000)}`);
    assert.equal(r.code, 143, r.stderr.slice(-2000));
    assert.ok(r.ms < 120_000, `took ${r.ms} ms: the slow statement was not interrupted`);

    const slow = r.lines.find((l) => l.event === "action_finished" && l.action === SLOW_ACTION);
    assert.equal(slow?.status, "cancelled");
    assert.equal(slow?.severity, "WARNING");
    const summary = r.lines.at(-1)!;
    assert.equal(summary.event, "run_finished");
    assert.equal(summary.status, "cancelled");
    assert.equal(summary.exitCode, 143);

    // run.json says cancelled; every action after the signal is cancelled, none ran.
    const runId = summary.runId!;
    const record = JSON.parse(readFileSync(path.join(dir, "artifacts", "runs", runId, "run.json"), "utf8")) as RunRecord;
    assert.equal(record.status, "cancelled");
    const byStatus = (s: string) => record.actions.filter((a) => a.status === s).map((a) => a.action);
    assert.ok(byStatus("cancelled").includes(SLOW_ACTION));
    assert.ok(byStatus("cancelled").length > 50, `only ${byStatus("cancelled").length} cancelled`);
    assert.ok(!byStatus("succeeded").some((a) => a.includes("stg_ga4_sessions") || a.includes("channel_credit")), "nothing downstream ran");

    // `funnelcredit report --run` reads it back as cancelled, not succeeded.
    assert.equal(reviveRunRecord(JSON.parse(readFileSync(path.join(dir, "artifacts", "runs", runId, "run.json"), "utf8"))).status, "cancelled");
    assert.ok(!existsSync(`${warehouse}.lease`), "the lease file is removed");
    const engine = await DuckDBEngine.open({ path: warehouse, memoryLimit: "1GB", threads: 1 });
    try {
      // Run history: the same statuses, and the interrupted action left no table behind (rolled back).
      const rows = await engine.queryNative(`SELECT action, status FROM funnelcredit_meta.run_history WHERE run_id = '${runId}'`);
      const hist = new Map(rows.map((x) => [String(x.action), String(x.status)]));
      assert.equal(hist.get(SLOW_ACTION), "cancelled");
      assert.equal(rows.filter((x) => x.status === "cancelled").length, byStatus("cancelled").length);
      assert.equal(await engine.tableExists({ database: "", schema: "funnelcredit_staging", name: "stg_ga4_events" }), false);
    } finally {
      await engine.close();
    }
  });

  it("the next run takes the warehouse at once (no lease wait) and SIGINT between actions exits 130", async () => {
    let sent = false;
    const r = await cliRun(warehouse, ["--wait-for-lease", "0"], (l, kill) => {
      if (!sent && l.event === "action_started") {
        sent = true;
        kill("SIGINT");
      }
    });
    assert.ok(sent, r.stderr.slice(-2000));
    assert.equal(r.code, 130, r.stderr.slice(-2000));
    const summary = r.lines.at(-1)!;
    assert.equal(summary.status, "cancelled");
    assert.ok(r.lines.some((l) => l.event === "run_cancelling" && /SIGINT/.test(l.message ?? "")));
    assert.ok(!existsSync(`${warehouse}.lease`));
    assert.equal(readdirSync(path.join(dir, "artifacts", "runs")).length, 2);
  });
});

describe("engine.cancel()", function () {
  this.timeout(120_000);

  it("DuckDB: interrupts the running statement, rolls its transaction back, and the engine goes on", async () => {
    const engine = await DuckDBEngine.open({ path: ":memory:", memoryLimit: "1GB", threads: 2 });
    try {
      await engine.ensureDataset("p", "s");
      await engine.execute(["CREATE TABLE `p.s.kept` AS SELECT 1 AS x"]);
      const t0 = Date.now();
      const running = engine.execute(["INSERT INTO `p.s.kept` (x) VALUES (2)", SLOW_STATEMENT], { action: "slow" });
      setTimeout(() => void engine.cancel(), 300);
      const err = await running.then(() => assert.fail("expected the statement to be interrupted"), (e: unknown) => e);
      assert.ok(err instanceof EngineError && /interrupt/i.test(err.message), String(err));
      assert.ok(Date.now() - t0 < 30_000);
      assert.deepEqual(await engine.query("SELECT x FROM `p.s.kept` ORDER BY x"), [{ x: 1 }]);
    } finally {
      await engine.close();
    }
  });

  it("BigQuery: cancels the running job with jobs.cancel and the call fails naming the job", async () => {
    const fake = await startFakeBigQuery({ projectId: "p", location: "EU" });
    try {
      const engine = createBigQueryEngine({ projectId: "p", location: "EU", apiEndpoint: fake.url }, {
        authClient: fake.authClient(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
      });
      fake.setResult(/^SELECT 1/, { numDmlAffectedRows: 0 });
      fake.nextJob({ runningPolls: 1_000_000 });
      const running = engine.execute(["SELECT 1"], { action: "long", jobId: "run_1_long" });
      while (fake.requestsTo("jobs.get").length === 0) await new Promise((r) => setTimeout(r, 20));
      await engine.cancel!();
      const err = await running.then(() => assert.fail("expected the job to be cancelled"), (e: unknown) => e);
      assert.ok(err instanceof EngineError, String(err));
      assert.match(err.message, /run_1_long/);
      assert.match(err.message, /cancel/i);
      const cancels = fake.requestsTo("jobs.cancel");
      assert.equal(cancels.length, 1);
      assert.match(cancels[0]!.path, /\/jobs\/run_1_long\/cancel$/);
      // The engine stays usable: the run is recorded and the lease released after a cancellation.
      assert.deepEqual(await engine.execute(["SELECT 1"], { jobId: "run_1_after" }).then(() => "ok"), "ok");
    } finally {
      await fake.close();
    }
  });
});
