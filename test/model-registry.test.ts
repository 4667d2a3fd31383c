/**
 * The attribution model registry (includes/attribution_models.js): a model registered in a copy of
 * the project — its job, its output table in the catalog, one registry entry — is credited in
 * session_credit, compared in channel_credit_by_model / model_agreement and shown in the report,
 * with no other file changed. A malformed registration fails naming the entry.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadProject, type Project } from "../src/compile/project.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { writeRunReport } from "../src/report/write.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { JobDefinition } from "../src/jobs/job.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { copyCompilableProject } from "./support/project-copy.ts";
import { assertRunSucceeded, memoryEngine, runProject } from "./support/warehouse.ts";

/** A model a contributor adds: every channel seen in the converting paths gets weight 1 (so each journey is split equally over its touches). */
const equalChannelsJob: JobDefinition = {
  name: "equal_channels",
  description: "test model: every channel weighs the same",
  reads: ["channel_paths"],
  writes: ["equal_channel_weights"],
  tags: ["attribution"],
  async run(ctx) {
    const rows = await ctx.query(`SELECT path, total_conversions FROM ${ctx.ref("channel_paths")}`);
    const channels = new Map<string, number>();
    for (const r of rows) for (const c of String(r.path).split(" > ")) channels.set(c, (channels.get(c) ?? 0) + Number(r.total_conversions));
    const total = [...channels.values()].reduce((a, b) => a + b, 0);
    return {
      rows: await ctx.write("equal_channel_weights", [
        { name: "channel", type: "STRING" }, { name: "weight", type: "FLOAT64" }, { name: "conversions", type: "FLOAT64" }, { name: "value", type: "FLOAT64" },
      ], [...channels].map(([channel, n]) => ({ channel, weight: 1, conversions: total > 0 ? n / total : 0, value: 0 }))),
    };
  },
};

/** One entry, added to the registry's list the way a contributor adds it (before the list's end). */
const REGISTRATION = `
    {
      name: "equal_channels", job: "equal_channels", description: "every channel weighs the same",
      sessionCredit: { channelWeights: "equal_channel_weights", weight: "weight" },
      channelCredit: { table: "equal_channel_weights", modelColumn: false },
    },
`;

/** The registry file with `entry` appended to attributionModels' list. */
function register(file: string, entry: string): void {
  const text = readFileSync(file, "utf8");
  const end = text.indexOf("\n  ];\n}", text.indexOf("function attributionModels("));
  assert.ok(end > 0, "the registry's list ends with `  ];` inside attributionModels");
  writeFileSync(file, text.slice(0, end + 1) + entry + text.slice(end + 1));
}

const CATALOG_ENTRY = `
module.exports.tables.push({
  name: "equal_channel_weights", layer: "models", producer: { job: "equal_channels" },
  grain: "one row per channel", description: "test model's channel weights",
  columns: [{ name: "channel", type: "STRING" }, { name: "weight", type: "FLOAT64" }, { name: "conversions", type: "FLOAT64" }, { name: "value", type: "FLOAT64" }],
});
`;

describe("attribution model registry", function () {
  this.timeout(300_000);
  let dir: string;
  let project: Project;
  let engine: DuckDBEngine;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-registry-"));
    copyCompilableProject(dir);
    register(path.join(dir, "includes", "attribution_models.js"), REGISTRATION);
    appendFileSync(path.join(dir, "includes", "catalog.js"), CATALOG_ENTRY);
    project = await loadProject(dir, { vars: { ml_min_auc: "0", lead_label_maturity_days: "0" }, jobs: [...ALL_JOBS, equalChannelsJob] });
    engine = await memoryEngine();
    const ds = project.settings.datasets;
    await generateDemo(engine.localLoading, { users: 1000, days: 14, seed: 3, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
    await ensureSourceTables(engine, project.settings);
  });
  after(async () => engine?.close());

  it("credits a model registered with one entry in session_credit, the comparison and the report", async () => {
    assert.ok(project.settings.attributionModels.some((m) => m.name === "equal_channels"), "the TypeScript side reads the project's registry");
    // The attribution part of the DAG (lead scoring needs more leads than this small sample has).
    const run = await runProject(project, engine, { fullRefresh: true, runId: "registry", selection: { actions: ["session_credit", "model_comparison", "model_recommendation"], includeDependencies: true } });
    assertRunSucceeded(run);
    assert.deepEqual(run.actions.filter((a) => a.action === "equal_channels").map((a) => a.status), ["succeeded"], "the registered model's job ran");
    const out = project.settings.datasets.outputs;

    // session_credit: the model splits each journey equally over its touches, so a journey of n touches gives each 1/n.
    const [check] = await engine.queryNative(`
      WITH credit AS (
        SELECT c.transaction_id, c.conversions, j.n_touches
        FROM "${out}".session_credit AS c
        JOIN (SELECT transaction_id, len(list_distinct(list_transform(touches, t -> t.session_key))) AS n_touches
              FROM "${project.settings.datasets.intermediate}".conversion_journeys WHERE converted) AS j USING (transaction_id)
        WHERE c.model = 'equal_channels')
      SELECT COUNT(*) AS rows, COUNT(DISTINCT transaction_id) AS transactions,
             MAX(abs(conversions - 1.0 / n_touches)) AS worst FROM credit`);
    assert.ok(Number(check!.rows) > 0, "the registered model credits sessions");
    assert.ok(Number(check!.worst) < 1e-9, `equal weights give each touch 1/n of its journey (worst error ${check!.worst})`);
    // session_credit rounds each row to 9 decimals: a transaction's n rows sum to 1 within n × 0.5e-9.
    const [sums] = await engine.queryNative(`SELECT MAX(abs(s - 1) - n * 5e-10) AS worst FROM (SELECT SUM(conversions) AS s, COUNT(*) AS n FROM "${out}".session_credit WHERE model = 'equal_channels' GROUP BY transaction_id)`);
    assert.ok(Number(sums!.worst) <= 1e-15, "each transaction's credit sums to one conversion");

    // The comparison: its channel credit beside the others, and agreement pairs with every other model.
    const models = await engine.queryNative(`SELECT DISTINCT model FROM "${out}".channel_credit_by_model ORDER BY 1`);
    assert.deepEqual(models.map((r) => r.model), [...project.settings.attributionModels.map((m) => m.name)].sort());
    const [pairs] = await engine.queryNative(`SELECT COUNT(*) AS n FROM "${out}".model_agreement WHERE 'equal_channels' IN (model_a, model_b)`);
    assert.equal(Number(pairs!.n), project.settings.attributionModels.length - 1);

    // The report shows it.
    const store = new LocalArtifactStore(mkdtempSync(path.join(os.tmpdir(), "fc-registry-report-")));
    const html = readFileSync(await writeRunReport(engine, project.settings, run, store, { database: project.graph.projectConfig.defaultDatabase }), "utf8");
    assert.match(html, /equal_channels/);
  });

  const out = (): string => project.settings.datasets.outputs;
  const mlModels = (): string[] => project.settings.attributionModels.filter((m) => m.job === "ml_attribution").map((m) => m.name);
  /** Registered models with session credit, and the most a transaction's credit of one model is off one conversion. */
  /**
   * The models session_credit credits, and the worst per-transaction sum. `days`: "restated" = the conversions the last
   * (incremental) run re-credited (from the newest conversion day − credit_restatement_days), "older" = the others.
   */
  async function sessionCredit(days: "all" | "restated" | "older" = "all"): Promise<{ models: string[]; worst: number }> {
    const start = `(SELECT MAX(conversion_date) - INTERVAL ${project.settings.creditRestatementDays} DAY FROM "${out()}".session_credit)`;
    const where = days === "all" ? "TRUE" : days === "restated" ? `conversion_date >= ${start}` : `conversion_date < ${start}`;
    const rows = await engine.queryNative(`SELECT model, MAX(abs(s - 1) - n * 5e-10) AS worst FROM (SELECT model, SUM(conversions) AS s, COUNT(*) AS n FROM "${out()}".session_credit WHERE ${where} GROUP BY model, transaction_id) GROUP BY model ORDER BY model`);
    return { models: rows.map((r) => String(r.model)), worst: Math.max(...rows.map((r) => Number(r.worst))) };
  }

  it("credits the ML attribution models (one per family and credit method) when published, in session_credit, the comparison and the recommendation", async () => {
    // Default vars.ml_families: XGBoost's three methods and the logistic regression's two.
    assert.deepEqual(mlModels(), ["ml_removal_effect", "ml_shapley", "ml_treeshap", "ml_logistic_regression_removal_effect", "ml_logistic_regression_shapley"]);
    const credit = await sessionCredit();
    for (const m of mlModels()) assert.ok(credit.models.includes(m), `${m} credits sessions`);
    assert.ok(credit.worst <= 1e-15, "every model's credit of a transaction sums to one conversion");
    // Its weights are the job's published credit of that family and method (ml_family_credit).
    const [same] = await engine.queryNative(`
      SELECT COUNT(*) AS n, SUM(CASE WHEN abs(w.share - f.share) < 1e-12 THEN 1 ELSE 0 END) AS equal
      FROM "${out()}".ml_channel_weights AS w
      JOIN "${out()}".ml_family_credit AS f
        ON w.model = CASE WHEN f.family = 'xgboost' THEN 'ml_' || f.method ELSE 'ml_' || f.family || '_' || f.method END AND w.channel = f.channel`);
    const [weights] = await engine.queryNative(`SELECT COUNT(*) AS n FROM "${out()}".ml_channel_weights`);
    assert.ok(Number(weights!.n) > 0 && Number(same!.n) === Number(weights!.n) && Number(same!.equal) === Number(same!.n), JSON.stringify([same, weights]));
    const compared = (await engine.queryNative(`SELECT DISTINCT model FROM "${out()}".channel_credit_by_model WHERE model LIKE 'ml_%' ORDER BY 1`)).map((r) => r.model);
    assert.deepEqual(compared, [...mlModels()].sort());
    // The benchmark reference measured these five: each is ranked by it.
    const rec = await engine.queryNative(`SELECT model, benchmark_l1 FROM "${out()}".model_recommendation WHERE model LIKE 'ml_%' ORDER BY model`);
    assert.deepEqual(rec.map((r) => r.model), [...mlModels()].sort());
    for (const r of rec) assert.ok(Number(r.benchmark_l1) > 0, `${r.model} has a benchmark L1`);
  });

  it("gives no session credit to a registered model whose channel weights are all 0 (it published nothing), instead of splitting journeys equally", async () => {
    // The test model's table (layer "models") as a job would leave it when it has nothing to publish.
    await engine.runNative(`UPDATE "${project.settings.datasets.models}".equal_channel_weights SET weight = 0`);
    const run = await runProject(project, engine, { runId: "registry-zero", selection: { actions: ["session_credit"] } });
    assertRunSucceeded(run);
    // An incremental run re-credits the restatement window (vars.credit_restatement_days); older conversions keep
    // the credit of the run that last restated them (here the first run's).
    const credit = await sessionCredit("restated");
    assert.ok(!credit.models.includes("equal_channels"), `no session credit for a model without weight: ${credit.models.join(", ")}`);
    assert.ok((await sessionCredit("older")).models.includes("equal_channels"), "older conversions keep their earlier credit");
    assert.ok(credit.models.includes("linear") && credit.models.includes("ml_shapley"), "the other models are still credited");
  });

  it("gives no session credit to ML models refused by vars.ml_min_auc, and the comparison and the report say they were not published", async () => {
    const mlCreditBefore = await engine.queryNative(`SELECT * FROM "${out()}".ml_channel_credit ORDER BY method, channel`);
    assert.ok((await sessionCredit()).models.includes("ml_shapley"), "published by the run before");
    const strict: Project = { ...project, settings: { ...project.settings, mlMinAuc: 0.99 } };
    const run = await runProject(strict, engine, { runId: "registry-refused", selection: { actions: ["session_credit", "model_comparison", "model_recommendation"], includeDependencies: true } });
    assertRunSucceeded(run);
    const ml = run.actions.find((a) => a.action === "ml_attribution")!;
    assert.equal(ml.status, "skipped");
    assert.match(ml.note!, /below vars\.ml_min_auc = 0\.99/);
    for (const a of ["session_credit", "channel_credit_by_model", "model_comparison", "model_recommendation"]) {
      assert.equal(run.actions.find((x) => x.action === a || x.action.endsWith(`.${a}`))?.status, "succeeded", `${a} still runs for the other models`);
    }
    const credit = await sessionCredit("restated");
    assert.deepEqual(credit.models.filter((m) => m.startsWith("ml_")), [], "a refused model credits no restated conversion (not an earlier run's credit, not an equal split)");
    assert.ok(credit.models.includes("equal_channels") && credit.models.includes("linear"));
    const [weights] = await engine.queryNative(`SELECT COUNT(*) AS n FROM "${out()}".ml_channel_weights`);
    assert.equal(Number(weights!.n), 0);
    assert.deepEqual(await engine.queryNative(`SELECT DISTINCT model FROM "${out()}".channel_credit_by_model WHERE model LIKE 'ml_%'`), []);
    assert.deepEqual(await engine.queryNative(`SELECT * FROM "${out()}".model_recommendation WHERE model LIKE 'ml_%'`), []);
    // The job's own credit tables are left as they were (as before registration).
    assert.deepEqual(await engine.queryNative(`SELECT * FROM "${out()}".ml_channel_credit ORDER BY method, channel`), mlCreditBefore);
    // The comparison says so…
    const comparison = run.actions.find((a) => a.action === "model_comparison")!;
    assert.equal(comparison.metrics!.not_published, mlModels().join(", "));
    assert.ok(run.warnings.some((w) => w.startsWith("model_comparison: not compared: ml_removal_effect, ml_shapley")), run.warnings.join("\n"));
    assert.ok(run.warnings.some((w) => /^ml_attribution: not published: test AUC [\d.]+ \(\d+ test conversions\) has a 95 % lower bound [\d.]+ below vars\.ml_min_auc = 0\.99/.test(w)), run.warnings.join("\n"));
    // …and so does the report.
    const store = new LocalArtifactStore(mkdtempSync(path.join(os.tmpdir(), "fc-registry-report-")));
    const html = readFileSync(await writeRunReport(engine, strict.settings, run, store, { database: project.graph.projectConfig.defaultDatabase }), "utf8");
    assert.match(html, /Not published this run \(no credit, not compared\): <code>ml_removal_effect<\/code>, <code>ml_shapley<\/code>/);
  });

  it("refuses a malformed registration, naming the entry", () => {
    const bad = mkdtempSync(path.join(os.tmpdir(), "fc-registry-bad-"));
    copyCompilableProject(bad);
    const file = path.join(bad, "includes", "attribution_models.js");
    register(file, `    { name: "half_done", job: null, description: "", sessionCredit: { channelWeights: "t" }, channelCredit: { table: "t" } },\n`);
    assert.throws(() => loadProjectSettings(bad), /attribution_models\.js: model \d+ \(half_done\): sessionCredit\.channelWeights needs weight: COLUMN/);
  });
});
