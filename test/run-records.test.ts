/**
 * Run records as schedulers leave them: an empty `--resume` (unset variable) is refused before
 * anything runs; a resumed run's run.json and report keep what the earlier attempt recorded (warnings
 * included) for the actions it skips; path_features is rounded like the credit columns, so two clean
 * runs give identical tables.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { runCli as cli } from "./support/cli.ts";
import { mergeResumedRecord, RESUMED_SKIP_NOTE, type ActionRecord, type RunRecord } from "../src/runner/run-record.ts";

interface StoredRecord { runId: string; status: string; warnings: string[]; actions: { action: string; status: string; note?: string }[] }

describe("run records", function () {
  this.timeout(600_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-runrec-"));
  const warehouse = path.join(dir, "w.duckdb");
  const artifacts = path.join(dir, "artifacts");
  const where = ["--warehouse", warehouse, "--artifacts", artifacts];
  const small = ["--vars", "ml_min_auc=0", "--vars", "lead_label_maturity_days=0"];
  const record = (id: string): StoredRecord => JSON.parse(readFileSync(path.join(artifacts, "runs", id, "run.json"), "utf8")) as StoredRecord;

  it("refuses an empty or path-like --resume before running anything", () => {
    for (const bad of ["", "  ", "../x", "a/b"]) {
      const r = cli(["run", "--resume", bad, ...where]);
      assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.stderr}`);
      assert.match(r.stderr, /--resume (needs a run id, got an empty value|".*" is not a run id)/);
    }
    assert.ok(!existsSync(path.join(artifacts, "runs", "run.json")), "no run.json outside a run folder");
    assert.ok(!existsSync(warehouse), "nothing ran");
  });

  let demoId = "";
  it("keeps the earlier attempt's statuses and warnings in a resumed run's record", () => {
    const demo = cli(["demo", "--users", "3000", "--days", "21", ...where, ...small]);
    assert.equal(demo.code, 0, demo.stderr.slice(-3000));
    demoId = readdirSync(path.join(artifacts, "runs"))[0]!;
    const first = record(demoId);
    const warned = first.actions.filter((a) => a.status === "warning");
    assert.ok(warned.length > 0, "the demo's deliberate bad custom events make an assertion warn");

    const resumed = cli(["run", "--resume", demoId, ...where, ...small]);
    assert.equal(resumed.code, 0, resumed.stderr.slice(-3000));
    const after = record(demoId);
    for (const w of warned) {
      const a = after.actions.find((x) => x.action === w.action);
      assert.equal(a?.status, "warning", `${w.action} in the resumed record: ${JSON.stringify(a)}`);
      assert.ok(after.warnings.some((x) => x.startsWith(`${w.action}: `)), `${w.action}'s warning kept`);
    }
    assert.ok(!after.actions.some((a) => a.status === "skipped" && a.note === RESUMED_SKIP_NOTE), "no action shows as skipped for having succeeded before");
    assert.equal(after.actions.length, first.actions.length);
    const report = readFileSync(path.join(artifacts, "runs", demoId, "report.html"), "utf8");
    assert.match(report, /dq_custom_events_quarantined/);
  });

  it("rounds path_features.avg_journey_days like the credit columns (1e-9), so re-runs are identical", async () => {
    const db = await DuckDBInstance.create(warehouse, { access_mode: "READ_ONLY" });
    const conn = await db.connect();
    try {
      const rows = (await conn.runAndReadAll(
        `SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE avg_journey_days <> ROUND(avg_journey_days, 9)) AS unrounded FROM funnelcredit_intermediate.path_features`,
      )).getRowObjectsJS();
      assert.ok(Number(rows[0]!.n) > 10, `path_features rows: ${rows[0]!.n}`);
      assert.equal(Number(rows[0]!.unrounded), 0);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});

describe("mergeResumedRecord", () => {
  const at = (m: number): Date => new Date(Date.UTC(2024, 0, 1, 0, m));
  const act = (action: string, status: ActionRecord["status"], m: number, extra: Partial<ActionRecord> = {}): ActionRecord =>
    ({ action, kind: "table", status, startedAt: at(m), endedAt: at(m), ...extra });
  const rec = (actions: ActionRecord[], warnings: string[], m: number): RunRecord =>
    ({ runId: "r", engine: "duckdb", startedAt: at(m), endedAt: at(m + 1), status: actions.some((a) => a.status === "failed") ? "failed" : "succeeded", fullRefresh: false, dryRun: false, actions, warnings });

  it("takes the earlier record of each skipped action, drops earlier run-level warnings and checks, keeps unselected actions", () => {
    const earlier = rec([
      act("a", "succeeded", 0, { rows: 5 }),
      act("dq", "warning", 1, { note: "3 rows" }),
      act("job", "succeeded", 2),
      act("b", "failed", 3, { error: "boom" }),
      act("c", "succeeded", 4),
      { ...act("input_quality", "failed", 5), kind: "check", error: "too many bad rows" },
    ], ["dq: 3 rows", "job: AUC below floor", "5 input rows quarantined", "b: nothing"], 0);
    const resumed = rec([
      act("a", "skipped", 10, { note: RESUMED_SKIP_NOTE }),
      act("dq", "skipped", 10, { note: RESUMED_SKIP_NOTE }),
      act("job", "skipped", 10, { note: RESUMED_SKIP_NOTE }),
      act("b", "succeeded", 11),
    ], ["2 input rows quarantined"], 10);
    const m = mergeResumedRecord(earlier, resumed);
    assert.deepEqual(m.actions.map((a) => [a.action, a.status]), [["a", "succeeded"], ["dq", "warning"], ["job", "succeeded"], ["b", "succeeded"], ["c", "succeeded"]]);
    assert.equal(m.actions[0]!.rows, 5);
    assert.deepEqual(m.warnings, ["dq: 3 rows", "job: AUC below floor", "2 input rows quarantined"]);
    assert.equal(m.status, "succeeded");
    assert.equal(m.startedAt.getTime(), at(0).getTime());
  });

  it("after several resumes, a skipped row never hides the attempt that did the work", () => {
    const earlier = rec([act("dq", "warning", 1, { note: "3 rows" }), act("dq", "skipped", 5, { note: RESUMED_SKIP_NOTE })], ["dq: 3 rows"], 0);
    const resumed = rec([act("dq", "skipped", 10, { note: RESUMED_SKIP_NOTE })], [], 10);
    const m = mergeResumedRecord(earlier, resumed);
    assert.deepEqual(m.actions.map((a) => [a.action, a.status]), [["dq", "warning"]]);
    assert.deepEqual(m.warnings, ["dq: 3 rows"]);
  });
});
