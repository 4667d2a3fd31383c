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
    const run = await runProject(project, engine, { fullRefresh: true, runId: "registry", selection: { actions: ["session_credit", "model_comparison"], includeDependencies: true } });
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

  it("refuses a malformed registration, naming the entry", () => {
    const bad = mkdtempSync(path.join(os.tmpdir(), "fc-registry-bad-"));
    copyCompilableProject(bad);
    const file = path.join(bad, "includes", "attribution_models.js");
    register(file, `    { name: "half_done", job: null, description: "", sessionCredit: { channelWeights: "t" }, channelCredit: { table: "t" } },\n`);
    assert.throws(() => loadProjectSettings(bad), /attribution_models\.js: model \d+ \(half_done\): sessionCredit\.channelWeights needs weight: COLUMN/);
  });
});
