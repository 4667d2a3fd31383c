/**
 * Promise 3 (re-runs converge): a run SIGKILLed at any point — inside an action's transaction, inside
 * a job's write-back, after an action committed but before it was recorded — resumed with
 * `--resume RUN_ID` (or simply re-run) ends with exactly the tables of a clean run (per-table
 * checksums). The kills are real SIGKILLs of a CLI child process (DuckDB recovers from its WAL);
 * test/support/kill-hook.ts picks the point. Every other action × kill point is in test/soak.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { planFromHistory, resumePlan } from "../src/runner/history.ts";
import { mergeJobs, select } from "../src/dag/dag.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import type { Action, Graph } from "../src/dag/graph.ts";
import type { Project } from "../src/compile/project.ts";
import type { JobDefinition } from "../src/jobs/job.ts";
import { PROJECT_DIR, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import { cliRun, copyWarehouse, diffChecksums, makeSourceWarehouse, runIdOfKilled, warehouseChecksums } from "./support/kill.ts";

describe("reliability: a killed run resumes to exactly a clean run's tables", function () {
  this.timeout(240_000);
  let dir: string;
  let project: Project;
  let base: string;
  let clean: Record<string, string>;
  let skip: string[];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-kill-"));
    project = await compiledProject();
    skip = [project.settings.datasets.meta];
    base = path.join(dir, "base.duckdb");
    await makeSourceWarehouse(base, project);
    // The clean run, in process (same graph and settings as the CLI's).
    const cleanFile = copyWarehouse(base, path.join(dir, "clean.duckdb"));
    const engine = await DuckDBEngine.open({ path: cleanFile, memoryLimit: "1GB", threads: 2 });
    try {
      await runProject(project, engine, { runId: "clean" });
    } finally {
      await engine.close();
    }
    clean = withoutRunHistoryViews(await warehouseChecksums(cleanFile, skip));
  });

  function withoutRunHistoryViews(c: Record<string, string>): Record<string, string> {
    // rpt_run_history is a view over the run history: ids and times differ by design.
    return Object.fromEntries(Object.entries(c).filter(([k]) => !k.endsWith(".rpt_run_history")));
  }

  it("survives SIGKILL after a commit before its record, inside a transaction and inside a write-back, resumed each time", async () => {
    const w = copyWarehouse(base, path.join(dir, "killed.duckdb"));
    // 1. The incremental staging table commits, then the process dies before recording it: on resume it
    //    runs again (incrementally), which must give the same rows, not doubled ones.
    const k1 = await cliRun(w, [], "unrecorded:funnelcredit_staging.stg_ga4_events");
    assert.equal(k1.signal, "SIGKILL", k1.stderr);
    // SIGKILL left the lease (and the WAL of the commits since the last checkpoint) behind.
    const runId = runIdOfKilled(w);
    const walAfterKill = existsSync(`${w}.wal`);
    // 2. Resume, killed inside the sessions table's transaction (statements ran, COMMIT never came).
    const k2 = await cliRun(w, ["--resume", runId], "during:funnelcredit_intermediate.sessions");
    assert.equal(k2.signal, "SIGKILL", k2.stderr);
    // 3. Resume again, killed inside channel_markov's second write-back (its first table is already new).
    const k3 = await cliRun(w, ["--resume", runId], "writeback:markov_transition_matrix");
    assert.equal(k3.signal, "SIGKILL", k3.stderr);
    // 4. Resume to the end: the lease left by the dead process is taken over, the WAL replayed.
    const done = await cliRun(w, ["--resume", runId, "--verbose"]);
    assert.notEqual(done.signal, "SIGKILL");
    assert.match(done.stderr, new RegExp(`resuming run ${runId}: \\d+ action\\(s\\) already done`));
    assert.deepEqual(diffChecksums(clean, withoutRunHistoryViews(await warehouseChecksums(w, skip))), []);
    assert.ok(walAfterKill, "the first kill left a WAL, which the resume replayed");
    // The resumed run skipped what had succeeded and recorded it under the same run id.
    const engine = await DuckDBEngine.open({ path: w, memoryLimit: "1GB", threads: 2 });
    try {
      const rows = await engine.queryNative(
        `SELECT action, list(status ORDER BY started_at) AS statuses FROM ${project.settings.datasets.meta}.run_history WHERE run_id = '${runId}' GROUP BY action`,
      );
      const byAction = new Map(rows.map((r) => [String(r.action), (r.statuses as string[]).join(",")]));
      assert.equal(byAction.get("funnelcredit_staging.stg_costs"), "succeeded,skipped,skipped,skipped");
      assert.equal(byAction.get("funnelcredit_staging.stg_ga4_events"), "succeeded,skipped,skipped", "ran again once after the unrecorded commit");
      assert.match(byAction.get("channel_markov") ?? "", /^succeeded$/, "recorded once, when it finished");
    } finally {
      await engine.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Which actions a resume may skip

const DB = "proj";
const settings = loadProjectSettings(PROJECT_DIR).settings;
const t = (schema: string, name: string) => ({ database: DB, schema, name });
const doubling: JobDefinition = {
  name: "doubling_job", description: "", reads: ["orders"], writes: ["order_model"],
  async run(ctx) {
    const rows = await ctx.query(`SELECT id, total FROM ${ctx.ref("orders")} ORDER BY id`);
    return { rows: await ctx.write("order_model", [{ name: "id", type: "INT64" }, { name: "doubled", type: "FLOAT64" }], rows.map((r) => ({ id: r.id, doubled: Number(r.total) * 2 }))) };
  },
};
function smallGraph(): Graph {
  const actions: Action[] = [
    { name: "src.raw", kind: "declaration", target: t("src", "raw"), dependencies: [], tags: [] },
    { name: "s.orders", kind: "table", target: t("s", "orders"), dependencies: ["src.raw"], tags: [], query: "SELECT id, SUM(amount) AS total FROM `proj.src.raw` GROUP BY id" },
    { name: "s.order_model", kind: "declaration", target: t("s", "order_model"), dependencies: [], tags: [] },
    { name: "s.report", kind: "table", target: t("s", "report"), dependencies: ["s.order_model"], tags: [], query: "SELECT id, doubled FROM `proj.s.order_model`" },
  ];
  return mergeJobs({ actions, projectConfig: { defaultDatabase: DB, defaultSchema: "s", assertionSchema: "a", vars: {} } }, [doubling]);
}

describe("reliability: --resume skips only what is still valid", () => {
  it("re-runs an action that succeeded when something it reads was rebuilt since (by another run)", async () => {
    const engine = await memoryEngine();
    try {
      await engine.runNative(`CREATE SCHEMA src; CREATE TABLE src.raw AS SELECT * FROM (VALUES (1, 2.0), (2, 10.0)) v(id, amount)`);
      const graph = smallGraph();
      const project = { projectDir: PROJECT_DIR, settings, graph, jobs: [], workflow: { defaultProject: DB, defaultDataset: "s", defaultLocation: "EU", defaultAssertionDataset: "a", vars: {} } } as unknown as Project;
      const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-resume-test"));
      const r1 = await runGraph({ graph, engine, settings, artifacts, runId: "r1" });
      assert.equal(r1.status, "succeeded");
      // Another run rebuilds orders from new data.
      await engine.runNative(`INSERT INTO src.raw VALUES (3, 5.0)`);
      await new Promise((r) => setTimeout(r, 5));
      await runGraph({ graph, engine, settings, artifacts, runId: "r2", selection: { actions: ["s.orders"] } });
      const plan = await resumePlan(engine, project, "r1", select(graph, {}));
      assert.deepEqual([...plan.skip], ["s.orders"]);
      assert.match(plan.rerun.get("doubling_job")!, /s\.orders was rebuilt by run r2/);
      const resumed = await runGraph({ graph, engine, settings, artifacts, runId: "r1", alreadySucceeded: plan.skip });
      assert.equal(resumed.status, "succeeded");
      assert.deepEqual(await engine.query("SELECT id, doubled FROM `proj.s.report` ORDER BY id"), [{ id: 1, doubled: 4 }, { id: 2, doubled: 20 }, { id: 3, doubled: 10 }]);
    } finally {
      await engine.close();
    }
  });

  it("re-runs everything downstream of an action that runs again in the resume", () => {
    const graph = smallGraph();
    const all = select(graph, {});
    // orders committed but was never recorded (killed before its history row); report had succeeded in an earlier attempt.
    const succeeded = new Map([["doubling_job", 20], ["s.report", 30]]);
    const plan = planFromHistory(graph, "r1", all, succeeded, new Map([["doubling_job", { at: 20, runId: "r1" }], ["s.report", { at: 30, runId: "r1" }]]));
    assert.deepEqual([...plan.skip], []);
    assert.match(plan.rerun.get("s.report")!, /runs again/);
    // With orders recorded too, everything is skipped.
    succeeded.set("s.orders", 10);
    const full = planFromHistory(graph, "r1", all, succeeded, new Map([...succeeded].map(([k, at]) => [k, { at, runId: "r1" }])));
    assert.deepEqual([...full.skip].sort(), ["doubling_job", "s.orders", "s.report"]);
    // An unselected upstream does not run, so it does not force a re-run.
    const only = planFromHistory(graph, "r1", new Set(["s.report"]), new Map([["s.report", 30]]), new Map([["s.report", { at: 30, runId: "r1" }]]));
    assert.deepEqual([...only.skip], ["s.report"]);
  });
});
