/**
 * The ML bookkeeping histories (model_metrics, model_curves, feature_importance) are one family of
 * tables both ML jobs append to (catalog producer { jobs: [...] }), keyed by run and job: the DAG lets
 * every listed job write them and makes their readers wait for all writers; each job replaces only its
 * own rows of a run; the per-job tables they replaced are moved in once.
 *
 * The jobs here are stand-ins with the real jobs' names, reads and writes (the real fits are tested in
 * ml-attribution-job, lead-scoring and lead-champion, which read these tables): they write a few
 * hand-made rows, so what is checked is the runner's and the catalog's rule, on the real compiled project.
 */
import assert from "node:assert/strict";
import { CATALOG, ensureSourceTables, renamedValuesStatements, replacedTablesStatements, tableSchema } from "../src/catalog/index.ts";
import { mergeJobs, select, topoLevels } from "../src/dag/dag.ts";
import { loadReportData } from "../src/report/data.ts";
import type { JobDefinition } from "../src/jobs/job.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Project } from "../src/compile/project.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { mlAttributionJob } from "../jobs/ml-attribution.ts";
import { leadScoringJob } from "../jobs/lead-scoring.ts";
import { compiledProject, memoryEngine, rowsOf, runProject } from "./support/warehouse.ts";

const M = "funnelcredit_models";
const at = new Date("2026-12-01T10:00:00Z");

/** The AUC the ML stand-in reports (changed between two attempts of one run). */
let mlAuc = 0.7;
/** What the stand-in of ML attribution writes: metrics in two writes of one action (as the real job does), importance. */
const mlStandIn: JobDefinition = {
  ...mlAttributionJob,
  async run(ctx) {
    let n = await ctx.write("model_metrics", tableSchema("model_metrics"), [{ model: "ml_attribution", metric: "auc", value: mlAuc, measured_at: at }], "append");
    n += await ctx.write("model_metrics", tableSchema("model_metrics"), [{ run_id: ctx.runId, model: "ml_logistic_regression", metric: "credit_seconds", value: 0.5, measured_at: at }], "append");
    n += await ctx.write("feature_importance", tableSchema("feature_importance"), [{ model: "ml_attribution", feature: "ch:email", importance: 0.25, kind: "mean_abs_shap" }], "append");
    return { rows: n };
  },
};

/** Set to make the lead stand-in write a row naming another job or run. */
let forged: Record<string, string> = {};
const leadStandIn: JobDefinition = {
  ...leadScoringJob,
  async run(ctx) {
    let n = await ctx.write("model_metrics", tableSchema("model_metrics"), [
      { ...forged, model: "lead_scoring", metric: "auc", value: 0.8, measured_at: at, model_version: "v1", note: null },
      { model: "lead_scoring", metric: "retrained", value: 1, measured_at: at, model_version: "v1", note: null },
    ], "append");
    n += await ctx.write("model_curves", tableSchema("model_curves"), [{ model: "lead_scoring", curve: "roc", x: 0, y: 0, n: 10 }], "append");
    return { rows: n };
  },
};

const only = (...actions: string[]) => ({ selection: { actions } });
const metricsOf = async (engine: DuckDBEngine): Promise<string[]> =>
  (await rowsOf(engine, M, "model_metrics", "job, run_id, model, metric")).map((r) => `${r.job} ${r.run_id} ${r.model} ${r.metric} ${r.value}`);
function succeeded(run: RunRecord): void {
  const bad = run.actions.filter((a) => a.status !== "succeeded");
  assert.deepEqual(bad.map((a) => `${a.action}: ${a.status} ${a.error ?? ""}`), []);
}

describe("shared ML histories (model_metrics, model_curves, feature_importance)", function () {
  this.timeout(120_000);
  let project: Project;
  let standIns: Project;
  before(async () => {
    project = await compiledProject();
    standIns = await compiledProject({}, [mlStandIn, leadStandIn]);
  });

  it("lets every job the catalog lists write a shared history, and makes its readers wait for all of them", () => {
    const shared = CATALOG.filter((t) => "jobs" in t.producer).map((t) => t.name).sort();
    assert.deepEqual(shared, ["feature_importance", "model_curves", "model_metrics"]);
    for (const name of shared) {
      const decl = project.graph.actions.find((a) => a.kind === "declaration" && a.target.name === name)!;
      assert.deepEqual([...decl.dependencies].sort(), ["lead_scoring", "ml_attribution"], name);
    }
    // rpt_model_metrics reads model_metrics: it comes after both jobs in the order.
    const levels = topoLevels(project.graph, select(project.graph, {}));
    const level = (n: string) => levels.findIndex((l) => l.some((x) => x === n || x.endsWith(`.${n}`)));
    assert.ok(level("rpt_model_metrics") > level("ml_attribution") && level("rpt_model_metrics") > level("lead_scoring"));
    // A job the catalog does not list is refused, naming the catalog; an ordinary table keeps one writer.
    const graphWithoutJobs = { ...project.graph, actions: project.graph.actions.filter((a) => a.kind !== "job").map((a) => ({ ...a, dependencies: a.kind === "declaration" ? [] : a.dependencies })) };
    const stranger: JobDefinition = { ...leadStandIn, name: "churn_model", writes: ["model_metrics"] };
    assert.throws(() => mergeJobs(graphWithoutJobs, [stranger]), /job "churn_model" writes "funnelcredit_models.model_metrics", a history shared by ml_attribution, lead_scoring; add "churn_model" to its producer jobs in includes\/catalog.js/);
    const second: JobDefinition = { ...leadStandIn, name: "lead_scoring_2", writes: ["lead_scores"] };
    assert.throws(() => mergeJobs(graphWithoutJobs, [leadStandIn, second]), /"funnelcredit.lead_scores" is written by two jobs: lead_scoring and lead_scoring_2/);
  });

  it("takes both jobs' rows, keyed by run and job; a re-run of one job replaces its own rows and leaves the other's", async () => {
    const engine = await memoryEngine();
    try {
      await ensureSourceTables(engine, standIns.settings);
      succeeded(await runProject(standIns, engine, { ...only("ml_attribution", "lead_scoring"), runId: "r1" }));
      const first = [
        "lead_scoring r1 lead_scoring auc 0.8", "lead_scoring r1 lead_scoring retrained 1",
        "ml_attribution r1 ml_attribution auc 0.7", "ml_attribution r1 ml_logistic_regression credit_seconds 0.5",
      ];
      assert.deepEqual(await metricsOf(engine), first);
      assert.deepEqual((await rowsOf(engine, M, "feature_importance")).map((r) => [r.run_id, r.job, r.kind]), [["r1", "ml_attribution", "mean_abs_shap"]]);
      assert.deepEqual((await rowsOf(engine, M, "model_curves")).map((r) => [r.run_id, r.job, r.curve]), [["r1", "lead_scoring", "roc"]]);

      // The same run again (a resume or retry of ml_attribution, here with a new AUC): its rows of r1 are
      // replaced, not added a second time; lead_scoring's rows of r1 are untouched.
      mlAuc = 0.75;
      succeeded(await runProject(standIns, engine, { ...only("ml_attribution"), runId: "r1" }));
      mlAuc = 0.7;
      assert.deepEqual(await metricsOf(engine), [
        "lead_scoring r1 lead_scoring auc 0.8", "lead_scoring r1 lead_scoring retrained 1",
        "ml_attribution r1 ml_attribution auc 0.75", "ml_attribution r1 ml_logistic_regression credit_seconds 0.5",
      ]);
      assert.equal((await rowsOf(engine, M, "feature_importance")).length, 1);

      // A new run appends: the history keeps r1.
      succeeded(await runProject(standIns, engine, { ...only("lead_scoring"), runId: "r2" }));
      assert.deepEqual((await metricsOf(engine)).filter((r) => r.startsWith("lead_scoring")), [
        "lead_scoring r1 lead_scoring auc 0.8", "lead_scoring r1 lead_scoring retrained 1",
        "lead_scoring r2 lead_scoring auc 0.8", "lead_scoring r2 lead_scoring retrained 1",
      ]);
    } finally {
      await engine.close();
    }
  });

  it("refuses a row that names another job or run, instead of writing outside the job's rows", async () => {
    const engine = await memoryEngine();
    try {
      await ensureSourceTables(engine, standIns.settings);
      forged = { job: "ml_attribution" };
      const run = await runProject(standIns, engine, { ...only("lead_scoring"), runId: "r1" }).finally(() => { forged = {}; });
      assert.equal(run.actions[0]!.status, "failed");
      assert.match(run.actions[0]!.error!, /job lead_scoring wrote job = "ml_attribution" in row 1 of model_metrics, a shared history where each job writes only its own rows of this run/);
      assert.deepEqual(await metricsOf(engine), []);
      // A row naming another run is refused the same way.
      forged = { run_id: "r0" };
      const other = await runProject(standIns, engine, { ...only("lead_scoring"), runId: "r1" }).finally(() => { forged = {}; });
      assert.match(other.actions[0]!.error ?? "", /job lead_scoring wrote run_id = "r0" in row 1 of model_metrics/);
      assert.deepEqual(await metricsOf(engine), []);
    } finally {
      await engine.close();
    }
  });

  it("serves its readers when only one job has run: the BI view and the report see that job's rows, the report the other's latest too", async () => {
    const engine = await memoryEngine();
    try {
      await ensureSourceTables(engine, standIns.settings);
      const run = await runProject(standIns, engine, { ...only("lead_scoring", "rpt_model_metrics"), runId: "20261201T100000-aaaaaaaa" });
      succeeded(run);
      const bi = await rowsOf(engine, "funnelcredit_reporting", "rpt_model_metrics", "metric");
      assert.deepEqual(bi.map((r) => [r.model, r.metric, r.is_latest_run]), [["lead_scoring", "auc", true], ["lead_scoring", "retrained", true]]);
      const data = await loadReportData(engine, standIns.settings, standIns.graph, run);
      assert.equal(data.metrics.state, "ok");
      assert.deepEqual((data.metrics.state === "ok" ? data.metrics.rows : []).map((m) => m.model), ["lead_scoring", "lead_scoring"]);

      // A later run of ML attribution alone: its report shows its own figures and lead scoring's latest ones, said in the note.
      const later = await runProject(standIns, engine, { ...only("ml_attribution"), runId: "20261202T100000-bbbbbbbb" });
      succeeded(later);
      const both = await loadReportData(engine, standIns.settings, standIns.graph, later);
      assert.ok(both.metrics.state === "ok");
      assert.deepEqual(both.metrics.rows.map((m) => `${m.run_id} ${m.model} ${m.metric}`).sort(), [
        "20261201T100000-aaaaaaaa lead_scoring auc", "20261201T100000-aaaaaaaa lead_scoring retrained",
        "20261202T100000-bbbbbbbb ml_attribution auc", "20261202T100000-bbbbbbbb ml_logistic_regression credit_seconds",
      ]);
      assert.equal(both.metrics.note, "lead_scoring from run 20261201T100000-aaaaaaaa: this run did not refit it");
      assert.ok(both.importance.state === "ok" && both.importance.rows.length === 1 && both.importance.note === undefined);
    } finally {
      await engine.close();
    }
  });

  it("renames an older warehouse's lead-scoring metrics to the one vocabulary once, leaving ML attribution's rows alone", async () => {
    const engine = await memoryEngine();
    try {
      await ensureSourceTables(engine, standIns.settings);
      // model_metrics as lead scoring wrote it before the vocabulary was one (ML attribution's "auc" was already right).
      const old = (job: string, model: string, metric: string, value: number) => ({ run_id: "r0", job, model, metric, value, measured_at: at, model_version: job === "lead_scoring" ? "v0" : null, note: null });
      await engine.writeRows({ database: "", schema: M, name: "model_metrics" }, tableSchema("model_metrics"), [
        old("lead_scoring", "lead_scoring", "test_roc_auc", 0.8), old("lead_scoring", "lead_scoring", "test_log_loss", 0.4),
        old("lead_scoring", "lead_scoring_logistic", "test_pr_auc", 0.6), old("lead_scoring", "lead_scoring", "window_roc_auc", 0.79),
        old("lead_scoring", "lead_scoring", "rows_test", 120), old("lead_scoring", "lead_scoring", "retrained", 1),
        // Another job's word that happens to be an old lead-scoring word is not lead scoring's to rename.
        old("ml_attribution", "ml_attribution", "test_roc_auc", 0.5), old("ml_attribution", "ml_attribution", "auc", 0.61),
      ], { mode: "append" });
      assert.deepEqual(await ensureSourceTables(engine, standIns.settings), []);
      assert.deepEqual(await metricsOf(engine), [
        "lead_scoring r0 lead_scoring auc 0.8", "lead_scoring r0 lead_scoring log_loss 0.4", "lead_scoring r0 lead_scoring n_test 120",
        "lead_scoring r0 lead_scoring retrained 1", "lead_scoring r0 lead_scoring window_auc 0.79", "lead_scoring r0 lead_scoring_logistic pr_auc 0.6",
        "ml_attribution r0 ml_attribution auc 0.61", "ml_attribution r0 ml_attribution test_roc_auc 0.5",
      ]);
      // Readers find both jobs' test AUC under one name; a second start finds nothing left to rename.
      const auc = await engine.queryNative(`SELECT job, value FROM ${M}.model_metrics WHERE metric = 'auc' ORDER BY job`);
      assert.deepEqual(auc.map((r) => [r.job, r.value]), [["lead_scoring", 0.8], ["ml_attribution", 0.61]]);
      assert.deepEqual(await ensureSourceTables(engine, standIns.settings), []);
      assert.equal((await rowsOf(engine, M, "model_metrics")).length, 8);
      // The next run of lead scoring adds its rows beside the renamed ones, in the same words.
      succeeded(await runProject(standIns, engine, { ...only("lead_scoring"), runId: "r1" }));
      assert.deepEqual((await metricsOf(engine)).filter((r) => r.includes(" lead_scoring auc ")), ["lead_scoring r0 lead_scoring auc 0.8", "lead_scoring r1 lead_scoring auc 0.8"]);
    } finally {
      await engine.close();
    }
  });

  it("writes the in-place rename as one UPDATE per job and column, touching only that job's rows with an old word", () => {
    const t = CATALOG.find((x) => x.name === "model_metrics")!;
    const statements = renamedValuesStatements({ database: "p", schema: "m", name: "model_metrics" }, t.renamed!);
    assert.equal(statements.length, 1);
    assert.match(statements[0]!, /^UPDATE `p\.m\.model_metrics` SET metric = CASE metric WHEN 'test_roc_auc' THEN 'auc' WHEN 'test_pr_auc' THEN 'pr_auc' .* ELSE metric END WHERE job = 'lead_scoring' AND metric IN \('test_roc_auc', 'test_pr_auc', .*\)$/);
  });

  it("moves the per-job tables of an older warehouse in once, tagged with their job, in place of the UNION view", async () => {
    const engine = await memoryEngine();
    try {
      // As an earlier version left it: per-job tables (lead's with two more columns) glued by a view.
      await engine.runNative(`CREATE SCHEMA ${M};
        CREATE TABLE ${M}.ml_attribution_metrics AS SELECT 'r0' AS run_id, 'ml_attribution' AS model, 'auc' AS metric, 0.61::DOUBLE AS value, TIMESTAMP '2026-11-01 00:00:00' AS measured_at;
        CREATE TABLE ${M}.lead_scoring_metrics AS SELECT 'r0' AS run_id, 'lead_scoring' AS model, 'test_roc_auc' AS metric, 0.7::DOUBLE AS value, TIMESTAMP '2026-11-01 00:00:00' AS measured_at, 'v0' AS model_version, 'kept' AS note;
        CREATE VIEW ${M}.model_metrics AS SELECT run_id, model, metric, value, measured_at FROM ${M}.ml_attribution_metrics UNION ALL SELECT run_id, model, metric, value, measured_at FROM ${M}.lead_scoring_metrics;
        CREATE TABLE ${M}.ml_attribution_feature_importance AS SELECT * FROM (VALUES ('r0', 'ml_attribution', 'ch:email', 0.5::DOUBLE, 'treeshap'), ('r0', 'ml_attribution', 'ch:email', 3::DOUBLE, 'gain')) v(run_id, model, feature, importance, kind);
        CREATE VIEW ${M}.feature_importance AS SELECT * FROM ${M}.ml_attribution_feature_importance;`);
      const created = await ensureSourceTables(engine, standIns.settings);
      assert.ok(created.includes(`${M}.model_metrics`) && created.includes(`${M}.feature_importance`), created.join(", "));
      assert.equal((await engine.describeTable({ database: "", schema: M, name: "model_metrics" }))?.kind, "table");
      assert.deepEqual((await rowsOf(engine, M, "model_metrics", "job")).map((r) => [r.run_id, r.job, r.model, r.metric, r.value, r.model_version, r.note]), [
        // One vocabulary: lead scoring's old test_roc_auc is auc now.
        ["r0", "lead_scoring", "lead_scoring", "auc", 0.7, "v0", "kept"],
        ["r0", "ml_attribution", "ml_attribution", "auc", 0.61, null, null],
      ]);
      // One vocabulary: the old "treeshap" is mean_abs_shap now.
      assert.deepEqual((await rowsOf(engine, M, "feature_importance", "kind")).map((r) => [r.job, r.kind]), [["ml_attribution", "gain"], ["ml_attribution", "mean_abs_shap"]]);
      // The old tables are left as they were; a second start moves nothing again.
      assert.equal((await rowsOf(engine, M, "ml_attribution_metrics")).length, 1);
      assert.deepEqual(await ensureSourceTables(engine, standIns.settings), []);
      assert.equal((await rowsOf(engine, M, "model_metrics")).length, 2);
      // The next run of a job adds its rows beside the moved ones.
      succeeded(await runProject(standIns, engine, { ...only("ml_attribution"), runId: "r1" }));
      assert.deepEqual((await rowsOf(engine, M, "model_metrics", "run_id, job, model")).map((r) => `${r.run_id} ${r.job} ${r.model}`),
        ["r0 lead_scoring lead_scoring", "r0 ml_attribution ml_attribution", "r1 ml_attribution ml_attribution", "r1 ml_attribution ml_logistic_regression"]);
    } finally {
      await engine.close();
    }
  });

  it("writes the move as GoogleSQL: the view dropped, then one table from the per-job rows", () => {
    const t = CATALOG.find((x) => x.name === "feature_importance")!;
    const target = { database: "p", schema: "m", name: "feature_importance" };
    const [drop, create] = replacedTablesStatements(t, target, [
      { from: t.replaces![0]!, target: { database: "p", schema: "m", name: "ml_attribution_feature_importance" }, columns: ["run_id", "model", "feature", "importance", "kind"] },
    ], true);
    assert.equal(drop, "DROP VIEW IF EXISTS `p.m.feature_importance`");
    assert.equal(create, "CREATE TABLE `p.m.feature_importance` AS\n" +
      "SELECT CAST(run_id AS STRING) AS run_id, CAST('ml_attribution' AS STRING) AS job, CAST(model AS STRING) AS model, CAST(feature AS STRING) AS feature, " +
      "CAST(importance AS FLOAT64) AS importance, CAST(CASE kind WHEN 'treeshap' THEN 'mean_abs_shap' ELSE kind END AS STRING) AS kind FROM `p.m.ml_attribution_feature_importance`");
  });
});
