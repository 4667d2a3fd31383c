/**
 * Lead scores in SQL: the trained model (encoder, every tree, calibrator) compiled to GoogleSQL scores
 * every lead exactly as the TypeScript predictor does (within 1e-6), on DuckDB through the translator
 * and on the strict local BigQuery (every statement analyzed by ZetaSQL); too-large models are split
 * over several statements.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { compiledProject, memoryEngine, assertRunSucceeded, fixtureTable, SHARED_DATA } from "./support/warehouse.ts";
import { CONVERSION_JOURNEYS_COLUMNS, conversionJourneyRows, generateJourneys, journeyStartTables } from "./fixtures/ml/journeys.ts";
import { mlJourneyScoresSqlJob } from "../jobs/ml-journey-scores-sql.ts";
import { ML_CURRENT_MODEL_ARTIFACT } from "../src/ml-attribution/pipeline.ts";
import { loadModel } from "../src/models/xgboost/index.ts";
import { startStrictBigQuery } from "./support/strict-bigquery.ts";
import { importCsvOrNdjson } from "../src/import/index.ts";
import { toLeadRecords, candidateColumns, labelOf } from "../src/lead-scoring/dataset.ts";
import { trainLeadModel } from "../src/lead-scoring/train.ts";
import { loadLeadModel, CURRENT_MODEL_ARTIFACT, type LoadedLeadModel } from "../src/lead-scoring/artifact.ts";
import { encodeRows } from "../src/models/encoding.ts";
import { applyCalibrator, fitIsotonic } from "../src/models/calibration.ts";
import { segmentOf } from "../src/lead-scoring/score.ts";
import { leadScoresSql } from "../src/scoring-sql/lead-scores.ts";
import { float32LessThanBound, float64Literal } from "../src/scoring-sql/numbers.ts";
import { nestingDepth, BIGQUERY_SQL_LIMITS } from "../src/scoring-sql/limits.ts";
import type { ColumnSchema, Engine, Row } from "../src/engines/engine.ts";
import { journeyScoresSql } from "../src/scoring-sql/journey-scores.ts";
import { fitConversionModel } from "../src/ml-attribution/pipeline.ts";
import { encodeJourney, featureKey, parseChannelStats, type FeatureEncoding, type FeatureRow } from "../src/ml-attribution/features.ts";
import { encodePathChannel } from "../src/models/paths.ts";
import { leadScoresSqlJob } from "../jobs/lead-scores-sql.ts";
import type { JobContext } from "../src/jobs/job.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";

/** What scoreLeads computes, for every row. */
function tsScores(model: LoadedLeadModel, rows: Row[], cutoff: number): Map<string, { p: number; score: number; segment: string }> {
  const X = encodeRows(model.artifact.encoder, rows);
  const p = applyCalibrator(model.artifact.calibrator, model.booster.predictMargin(X));
  return new Map(rows.map((r, i) => {
    const score = Math.round(100 * p[i]!);
    return [String(r.lead_id), { p: p[i]!, score, segment: segmentOf(score, cutoff) }];
  }));
}

function assertSame(sqlRows: Row[], expected: ReturnType<typeof tsScores>, version: string): number {
  assert.equal(sqlRows.length, expected.size, "one row per lead");
  let maxDiff = 0;
  for (const r of sqlRows) {
    const e = expected.get(String(r.lead_id));
    assert.ok(e, `lead ${String(r.lead_id)} scored in SQL only`);
    const d = Math.abs(Number(r.probability) - e.p);
    maxDiff = Math.max(maxDiff, d);
    assert.ok(d <= 1e-6, `lead ${String(r.lead_id)}: SQL ${String(r.probability)} vs TS ${e.p}`);
    // The score is round(100 p): only a probability within 1e-6 of a rounding edge could differ.
    if (Math.abs(100 * e.p - Math.floor(100 * e.p) - 0.5) > 1e-4) {
      assert.equal(Number(r.score), e.score, `lead ${String(r.lead_id)} score`);
      assert.equal(r.segment, e.segment);
    }
    assert.equal(r.model_version, version);
  }
  return maxDiff;
}

/** Each job as one script (as the lead_scores_sql job runs them). */
async function runAll(engine: Engine, jobs: string[][]): Promise<void> {
  for (const job of jobs) await engine.execute(job);
}

describe("scores in SQL: numbers", () => {
  it("compares a FLOAT64 with a float32 threshold exactly as float32 rounding would", () => {
    // Hand check: the float32 just below 0.5 is 0.5 − 2⁻²⁵; the midpoint 0.5 − 2⁻²⁶ rounds (tie, even) to 0.5,
    // so x < 0.5 − 2⁻²⁶ is exactly fround(x) < 0.5.
    assert.equal(float32LessThanBound(0.5), 0.5 - 2 ** -26);
    for (const t of [0.5, 1, 3, -2.5, 0, Math.fround(0.1), Math.fround(-7.3e-5), Math.fround(12345.678), Math.fround(1e30)]) {
      const b = float32LessThanBound(t);
      const justBelow = b - Math.abs(b) * 2 ** -52 - Number.MIN_VALUE;
      assert.ok(Math.fround(b) >= t, `fround(B) ≥ t for ${t}`);
      assert.ok(Math.fround(justBelow) < t, `below B rounds under t for ${t}`);
    }
    assert.equal(Number(float64Literal(0.1)), 0.1);
    assert.match(float64Literal(3), /e/);
    assert.throws(() => float64Literal(NaN), /no portable SQL literal/);
    assert.equal(nestingDepth("SELECT CASE WHEN (a) THEN 'x)(' END"), 2);
  });
});

describe("scores in SQL: X Education leads", function () {
  this.timeout(900_000);
  let engine: Awaited<ReturnType<typeof memoryEngine>>;
  let model: LoadedLeadModel;
  let rows: Row[];
  const cutoff = 45;
  const source = "`funnelcredit_sources.leads`";
  const target = "`funnelcredit_sources.lead_scores_sql`";

  before(async () => {
    engine = await memoryEngine();
    await importCsvOrNdjson(engine.localLoading, "leads", path.join(SHARED_DATA, "x-education-leads", "Leads.csv"), {
      idColumn: "Prospect ID", labelColumn: "Converted",
      synthesiseCreatedAt: { orderColumn: "Lead Number", start: "2024-01-01", end: "2024-06-30" },
    });
    rows = await engine.query(`SELECT * FROM ${source} ORDER BY lead_id`);
    const records = toLeadRecords(rows, "leads");
    const now = new Date("2024-09-01T00:00:00Z");
    const labels = records.map((r) => labelOf(r, now.getTime(), 30));
    const idx = labels.flatMap((y, i) => (y === null ? [] : [i]));
    const { columns } = candidateColumns(rows, ["tags", "lead_number", "lead_quality", "lead_profile", "asymmetrique_activity_score", "asymmetrique_profile_score"]);
    const trained = await trainLeadModel(idx.map((i) => records[i]!), idx.map((i) => labels[i]!), {
      featureColumns: columns, split: "time", validationShare: 0.2, testShare: 0.2, seed: 1, categorical: "one_hot",
      params: { max_depth: 5, eta: 0.1 }, maxRounds: 120, scoreCutoff: cutoff, runId: "t", now,
    });
    model = loadLeadModel(JSON.stringify(trained.artifact));
  });
  after(async () => engine?.close());

  it("scores every lead on DuckDB as the TypeScript predictor does (within 1e-6)", async () => {
    const sql = leadScoresSql(model, { source, target, scoreCutoff: cutoff });
    assert.equal(sql.statements.length, 1, "fits one statement");
    assert.ok(sql.maxStatementChars <= BIGQUERY_SQL_LIMITS.maxStatementChars);
    await runAll(engine, sql.jobs);
    const out = await engine.query(`SELECT * FROM ${target}`);
    const d = assertSame(out, tsScores(model, rows, cutoff), model.artifact.modelVersion);
    console.log(`      ${rows.length} leads, ${model.booster.numTrees} trees, ${model.artifact.calibrator.kind}; SQL ${sql.maxStatementChars} chars, nesting ${sql.maxNestingDepth}; max |Δp| ${d.toExponential(2)}`);
  });

  it("splits the trees over temporary SQL functions under a forced small statement limit, with the same scores", async () => {
    const full = leadScoresSql(model, { source, target, scoreCutoff: cutoff });
    const limit = Math.ceil(full.maxStatementChars / 3);
    const sql = leadScoresSql(model, { source, target, scoreCutoff: cutoff, limits: { ...BIGQUERY_SQL_LIMITS, maxStatementChars: limit } });
    assert.equal(sql.form, "functions");
    assert.equal(sql.jobs.length, 1, "one script: the functions live in it");
    assert.ok(sql.treeGroups.length >= 3, `split into ${sql.treeGroups.length}`);
    assert.equal(sql.treeGroups.reduce((a, b) => a + b, 0), model.booster.numTrees);
    assert.equal(sql.statements.filter((s) => /^CREATE TEMP FUNCTION lead_scores_sql_trees_\d+_to_\d+\(margin FLOAT64/m.test(s)).length, sql.treeGroups.length);
    for (const s of sql.statements) assert.ok(s.length <= limit, `statement of ${s.length} > ${limit}`);
    await runAll(engine, sql.jobs);
    const d = assertSame(await engine.query(`SELECT * FROM ${target}`), tsScores(model, rows, cutoff), model.artifact.modelVersion);
    console.log(`      limit ${limit} chars: ${sql.treeGroups.length} functions (${sql.treeGroups.join(", ")} trees), longest statement ${sql.maxStatementChars}, script ${sql.maxScriptChars} (one statement: ${full.maxStatementChars}); max |Δp| ${d.toExponential(2)}`);
  });

  it("splits the trees over several jobs (step tables) when the whole script is also limited, with the same scores", async () => {
    const full = leadScoresSql(model, { source, target, scoreCutoff: cutoff });
    const limit = Math.ceil(full.maxStatementChars / 3);
    const sql = leadScoresSql(model, { source, target, scoreCutoff: cutoff, limits: { ...BIGQUERY_SQL_LIMITS, maxStatementChars: limit, maxScriptChars: limit } });
    assert.equal(sql.form, "tables");
    assert.ok(sql.treeGroups.length >= 3, `split into ${sql.treeGroups.length}`);
    assert.equal(sql.treeGroups.reduce((a, b) => a + b, 0), model.booster.numTrees);
    for (const s of sql.statements) assert.ok(s.length <= limit, `statement of ${s.length} > ${limit}`);
    await runAll(engine, sql.jobs);
    assertSame(await engine.query(`SELECT * FROM ${target}`), tsScores(model, rows, cutoff), model.artifact.modelVersion);
    const left = await engine.query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%margin_step%'");
    assert.deepEqual(left, [], "step tables dropped");
    assert.throws(() => leadScoresSql(model, { source, target, scoreCutoff: cutoff, limits: { ...BIGQUERY_SQL_LIMITS, maxStatementChars: 2000, maxScriptChars: 2000 } }), /too large to score in SQL/);
  });

  it("scores a feature whose column the table lacks as missing, as the TypeScript scorer does", async () => {
    const dropped = "total_time_spent_on_website";
    assert.ok(model.artifact.encoder.features.some((f) => f.name === dropped));
    await engine.execute([`CREATE OR REPLACE TABLE \`funnelcredit_sources.leads_without\` AS SELECT * EXCEPT (${dropped}) FROM ${source}`]);
    const columns = (await engine.tableSchema({ database: "memory", schema: "funnelcredit_sources", name: "leads_without" })).map((c) => c.name);
    const sql = leadScoresSql(model, { source: "`funnelcredit_sources.leads_without`", target, scoreCutoff: cutoff, columns });
    await runAll(engine, sql.jobs);
    const without = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== dropped)));
    assertSame(await engine.query(`SELECT * FROM ${target}`), tsScores(model, without, cutoff), model.artifact.modelVersion);
  });

  it("applies an isotonic calibrator (blocks, interpolation between them, clipped ends) as the TypeScript one does", async () => {
    // Isotonic fitted on every 7th lead's margin: many blocks, and margins outside their range on both sides.
    const X = encodeRows(model.artifact.encoder, rows);
    const margins = model.booster.predictMargin(X);
    const pick = Array.from({ length: Math.floor(rows.length / 7) }, (_, i) => i * 7);
    const y = pick.map((i) => (rows[i]!.converted === true ? 1 : 0));
    const iso = fitIsotonic(pick.map((i) => margins[i]!), y);
    assert.ok(iso.y.length > 20, `${iso.y.length} blocks`);
    const isoModel: LoadedLeadModel = { ...model, artifact: { ...model.artifact, calibrator: iso } };
    await runAll(engine, leadScoresSql(isoModel, { source, target, scoreCutoff: cutoff }).jobs);
    assertSame(await engine.query(`SELECT * FROM ${target}`), tsScores(isoModel, rows, cutoff), model.artifact.modelVersion);
  });

  it("scores every lead on the strict local BigQuery (ZetaSQL-checked) within 1e-6, in all three forms", async () => {
    const bq = await startStrictBigQuery({ projectId: "p" });
    try {
      const schema = await engine.tableSchema({ database: undefined, schema: "funnelcredit_sources", name: "leads" } as never);
      await bq.createTable("p.leads_ds.leads", schema, rows);
      const e = bq.engine();
      const opts = { source: "`p.leads_ds.leads`", target: "`p.leads_ds.lead_scores_sql`", scoreCutoff: cutoff };
      const limit = Math.ceil(leadScoresSql(model, opts).maxStatementChars / 3);
      const forms = [
        leadScoresSql(model, opts),
        leadScoresSql(model, { ...opts, limits: { ...BIGQUERY_SQL_LIMITS, maxStatementChars: limit } }),
        leadScoresSql(model, { ...opts, limits: { ...BIGQUERY_SQL_LIMITS, maxStatementChars: limit, maxScriptChars: limit } }),
      ];
      assert.deepEqual(forms.map((f) => f.form), ["statement", "functions", "tables"]);
      for (const sql of forms) {
        const analyzed = bq.analysis.statements;
        await runAll(e, sql.jobs);
        assertSame(await e.query("SELECT * FROM `p.leads_ds.lead_scores_sql`"), tsScores(model, rows, cutoff), model.artifact.modelVersion);
        assert.ok(bq.analysis.statements - analyzed >= sql.statements.length, `every ${sql.form} statement analyzed by ZetaSQL`);
      }
      assert.deepEqual((await bq.tableIds("leads_ds")).sort(), ["lead_scores_sql", "leads"], "no step tables left");
    } finally {
      await bq.close();
    }
  });
});

describe("scores in SQL: the demo warehouse (lead_scores_sql job)", function () {
  this.timeout(900_000);
  it("builds lead_scores_sql for every lead of lead_features, equal to the TypeScript scores on DuckDB and on the strict local BigQuery", async () => {
    const project = await compiledProject({ lead_max_rounds: "120" });
    const engine = await memoryEngine();
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-lead-sql-"));
    const bq = await startStrictBigQuery({ projectId: "p" });
    try {
      const ds = project.settings.datasets;
      await generateDemo(engine.localLoading, { users: 4000, days: 21, seed: 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await ensureSourceTables(engine, project.settings);
      const artifacts = new LocalArtifactStore(dir);
      const run = await runGraph({
        graph: project.graph, engine, settings: project.settings, artifacts, now: () => new Date("2024-06-01T00:00:00Z"), runId: "r1",
        selection: { actions: ["lead_scores_sql"], includeDependencies: true },
      });
      assertRunSucceeded(run);
      const model = loadLeadModel((await artifacts.get(CURRENT_MODEL_ARTIFACT))!);
      const features = await engine.query(`SELECT * FROM \`${ds.intermediate}.lead_features\` ORDER BY lead_id`);
      const cutoff = project.settings.leadScoreCutoff;
      const expected = tsScores(model, features, cutoff);
      assertSame(await engine.query(`SELECT * FROM \`${ds.outputs}.lead_scores_sql\``), expected, model.artifact.modelVersion);
      const saved = (await artifacts.get(`models/lead-scoring/${model.artifact.modelVersion.replace("@", "-")}.sql`))!.toString("utf8");
      assert.match(saved, /CREATE OR REPLACE TABLE/);
      console.log(`      demo: ${features.length} leads, ${model.booster.numTrees} trees; the same statements on the strict local BigQuery`);

      // The same compiled SQL on BigQuery (ZetaSQL-checked), over a copy of lead_features.
      const schema = await engine.tableSchema({ database: "memory", schema: ds.intermediate, name: "lead_features" });
      await bq.createTable("p.leads_ds.lead_features", schema, features);
      const e = bq.engine();
      const sql = leadScoresSql(model, { source: "`p.leads_ds.lead_features`", target: "`p.leads_ds.lead_scores_sql`", scoreCutoff: cutoff });
      await runAll(e, sql.jobs);
      assertSame(await e.query("SELECT * FROM `p.leads_ds.lead_scores_sql`"), expected, model.artifact.modelVersion);
    } finally {
      await bq.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("scores in SQL: ML attribution journeys", function () {
  this.timeout(900_000);
  it("gives every ml_journey_features row the conversion model's probability (within 1e-6) on DuckDB and on the strict local BigQuery", async () => {
    // Synthetic journeys: touch sequences over five channels (two with names that need escaping), 30 days.
    let x = 17;
    const rnd = (): number => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const CHANNELS = ["Direct", "Email", "Organic > Search", "Paid Search", "Social 100%"];
    const groups = new Map<string, FeatureRow & { journeys: number }>();
    for (let j = 0; j < 8000; j++) {
      const len = 1 + Math.floor(rnd() * 5);
      const touches = Array.from({ length: len }, () => CHANNELS[Math.floor(rnd() ** 1.5 * CHANNELS.length)]!);
      const per = new Map<string, { n: number; first: number; last: number }>();
      touches.forEach((c, i) => {
        const s = per.get(c) ?? { n: 0, first: i, last: i };
        s.n++;
        s.last = i;
        per.set(c, s);
      });
      const byFirst = [...per.entries()].sort((a, b) => a[1].first - b[1].first).map(([c]) => c);
      const byLast = [...per.entries()].sort((a, b) => b[1].last - a[1].last).map(([c]) => c);
      const channels = [...per.entries()].map(([c, s]) => {
        const recency = Math.floor(rnd() * 4);
        return { channel: c, touches: s.n, firstRank: byFirst.indexOf(c) + 1, lastRank: byLast.indexOf(c) + 1, recencyBucket: recency, firstTouchBucket: recency + Math.floor(rnd() * 2) };
      }).sort((a, b) => (a.channel < b.channel ? -1 : 1));
      const stats = channels.map((c) => `${encodePathChannel(c.channel)}=${c.touches},${c.firstRank},${c.lastRank},${c.recencyBucket},${c.firstTouchBucket}`).join(" > ");
      const userType = rnd() < 0.7 ? "new" : "returning";
      const device = ["desktop", "mobile", "tablet"][Math.floor(rnd() * 3)]!;
      const region = ["EU", "US", "(not set)"][Math.floor(rnd() * 3)]!;
      const engagement = ["0-1 pages", "2-3 pages", "(not set)"][Math.floor(rnd() * 3)]!;
      const z = -2.5 + (per.has("Email") ? 1.2 : 0) + 0.3 * len + (per.has("Paid Search") ? 0.6 : 0) + (userType === "returning" ? 0.5 : 0);
      const converted = rnd() < 1 / (1 + Math.exp(-z));
      const date = new Date(Date.UTC(2024, 2, 1 + Math.floor(rnd() * 30))).toISOString().slice(0, 10);
      const key = JSON.stringify([date, stats, userType, device, region, engagement]);
      const g = groups.get(key) ?? { date, channels: parseChannelStats(stats, "test"), userType, device, region, engagement, conversions: 0, nonConversions: 0, value: 0, key: "", journeys: 0 };
      g.key = featureKey(g);
      if (converted) g.conversions++;
      else g.nonConversions++;
      g.journeys++;
      groups.set(key, g);
    }
    const featureRows = [...groups.values()];
    const fit = await fitConversionModel(featureRows, { split: [0.6, 0.2, 0.2], maxRounds: 80, maxDepth: 4, learningRate: 0.1, earlyStoppingRounds: 20, seed: 1 });
    const table = featureRows.map((r) => ({
      journey_end_date: r.date, channel_stats: r.channels.map((c) => `${encodePathChannel(c.channel)}=${c.touches},${c.firstRank},${c.lastRank},${c.recencyBucket},${c.firstTouchBucket}`).join(" > "),
      user_type: r.userType, device: r.device, region: r.region, engagement: r.engagement, journey_count: r.journeys, conversions: r.conversions, non_conversions: r.nonConversions, conversion_value: 0,
    }));
    const X = new Float32Array(featureRows.length * fit.encoding.featureNames.length);
    featureRows.forEach((r, i) => encodeJourney(fit.encoding, r, X, i * fit.encoding.featureNames.length));
    const p = fit.model.predict(X);
    const expected = new Map(table.map((t, i) => [JSON.stringify([t.journey_end_date, t.channel_stats, t.user_type, t.device, t.region, t.engagement]), p[i]!]));
    const check = (out: Row[]): void => {
      assert.equal(out.length, expected.size);
      for (const r of out) {
        const d = r.journey_end_date instanceof Date ? r.journey_end_date.toISOString().slice(0, 10) : String(r.journey_end_date);
        const want = expected.get(JSON.stringify([d, r.channel_stats, r.user_type, r.device, r.region, r.engagement]));
        assert.ok(want !== undefined, `row ${d} ${String(r.channel_stats)} scored in SQL only`);
        assert.ok(Math.abs(Number(r.conversion_probability) - want) <= 1e-6, `${String(r.channel_stats)}: SQL ${String(r.conversion_probability)} vs TS ${want}`);
      }
    };
    const schema: ColumnSchema[] = [
      { name: "journey_end_date", type: "DATE" }, { name: "channel_stats", type: "STRING" }, { name: "user_type", type: "STRING" }, { name: "device", type: "STRING" },
      { name: "region", type: "STRING" }, { name: "engagement", type: "STRING" }, { name: "journey_count", type: "INT64" }, { name: "conversions", type: "INT64" }, { name: "non_conversions", type: "INT64" }, { name: "conversion_value", type: "FLOAT64" },
    ];
    const engine = await memoryEngine();
    const bq = await startStrictBigQuery({ projectId: "p" });
    try {
      await engine.ensureDataset("memory", "ml");
      await engine.writeRows({ database: "memory", schema: "ml", name: "ml_journey_features" }, schema, table, { mode: "replace" });
      const sql = journeyScoresSql(fit.model, fit.encoding, { source: "`ml.ml_journey_features`", target: "`ml.journey_scores_sql`", modelRunId: "t" });
      await runAll(engine, sql.jobs);
      check(await engine.query("SELECT * FROM `ml.journey_scores_sql`"));
      console.log(`      ${table.length} journey rows, ${fit.model.numTrees} trees, ${fit.encoding.featureNames.length} features; SQL ${sql.maxStatementChars} chars`);
      await bq.createTable("p.ml.ml_journey_features", schema, table);
      const e = bq.engine();
      const sqlBq = journeyScoresSql(fit.model, fit.encoding, { source: "`p.ml.ml_journey_features`", target: "`p.ml.journey_scores_sql`", modelRunId: "t" });
      await runAll(e, sqlBq.jobs);
      check(await e.query("SELECT * FROM `p.ml.journey_scores_sql`"));
    } finally {
      await bq.close();
      await engine.close();
    }
  });
});

describe("scores in SQL: the lead_scores_sql job without a usable model", () => {
  it("is skipped, naming the reason, when there is no saved model or it cannot be read", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-lead-sql-skip-"));
    try {
      const artifacts = new LocalArtifactStore(dir);
      // Only the artifact store is used before the job decides to skip.
      const ctx = { artifacts } as unknown as JobContext;
      assert.match(String((await leadScoresSqlJob.run(ctx)).skipped), /no lead-scoring model at models\/lead-scoring\/current\.json/);
      await artifacts.put(CURRENT_MODEL_ARTIFACT, JSON.stringify({ type: "funnelcredit.lead_scoring", version: 99 }));
      assert.match(String((await leadScoresSqlJob.run(ctx)).skipped), /cannot be read \(the saved lead-scoring model has type "funnelcredit\.lead_scoring" version 99/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("scores in SQL: the ml_journey_scores_sql job", function () {
  this.timeout(900_000);
  // The ML attribution job and the SQL it needs, on a conversion_journeys fixture (as test/ml-attribution-job.test.ts).
  const SELECTION = ["ml_journeys", "ml_journey_features", "channel_paths", "channel_markov", "shapley", "markov_removal_effects", "shapley_channel_credit", "ml_attribution", "ml_channel_credit", "ml_journey_scores_sql"];

  it("builds ml_journey_scores_sql with the published model's probability for every journey row, equal to the TypeScript predictions on DuckDB and on the strict local BigQuery", async () => {
    const project = await compiledProject();
    const engine = await memoryEngine();
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-journey-sql-"));
    const bq = await startStrictBigQuery({ projectId: "p" });
    try {
      const targetOf = (name: string) => project.graph.actions.find((a) => a.kind !== "job" && a.target.name === name)!.target;
      const cj = targetOf("conversion_journeys");
      await fixtureTable(engine, cj.schema, cj.name, CONVERSION_JOURNEYS_COLUMNS, conversionJourneyRows(generateJourneys({ journeys: 6_000, days: 28 })));
      for (const t of journeyStartTables(generateJourneys({ journeys: 6_000, days: 28 }))) { const tg = targetOf(t.name); await fixtureTable(engine, tg.schema, tg.name, t.columns, t.rows); }
      const exp = targetOf("incrementality_experiments");
      await fixtureTable(engine, exp.schema, exp.name, { channel: "VARCHAR", period_start: "DATE", period_end: "DATE", incremental_conversions: "DOUBLE" }, []);
      const mmm = targetOf("mmm_channel_shares");
      await fixtureTable(engine, mmm.schema, mmm.name, { channel: "VARCHAR", share: "DOUBLE" }, []);
      const artifacts = new LocalArtifactStore(dir);
      const run = await runGraph({
        graph: project.graph, engine, settings: project.settings, artifacts, now: () => new Date("2024-05-01T00:00:00Z"), runId: "ml-r1",
        selection: { actions: SELECTION },
      });
      assertRunSucceeded(run);
      const action = run.actions.find((a) => a.action === "ml_journey_scores_sql")!;
      assert.equal(action.status, "succeeded", String(action.note ?? action.error));
      const saved = JSON.parse((await artifacts.get(ML_CURRENT_MODEL_ARTIFACT))!.toString("utf8")) as { run_id: string; model: unknown; encoding: FeatureEncoding };
      assert.equal(saved.run_id, "ml-r1");
      const model = loadModel(saved.model);
      const enc = saved.encoding;

      // The TypeScript predictions for every ml_journey_features row.
      const features = targetOf("ml_journey_features");
      const table = await engine.query(`SELECT * FROM \`${features.schema}.ml_journey_features\``);
      const F = enc.featureNames.length;
      const X = new Float32Array(table.length * F);
      const keyOf = (r: Row): string => JSON.stringify([r.journey_end_date instanceof Date ? r.journey_end_date.toISOString().slice(0, 10) : String(r.journey_end_date), r.channel_stats, r.user_type, r.device, r.region, r.engagement]);
      table.forEach((r, i) => {
        const channels = parseChannelStats(String(r.channel_stats), "test");
        const base = { channels, userType: String(r.user_type), device: String(r.device), region: String(r.region), engagement: String(r.engagement) };
        encodeJourney(enc, base, X, i * F);
      });
      const p = model.predict(X);
      const expected = new Map(table.map((r, i) => [keyOf(r), p[i]!]));
      const check = (out: Row[], what: string): number => {
        assert.equal(out.length, expected.size, `${what}: one row per journey row`);
        let max = 0;
        for (const r of out) {
          const want = expected.get(keyOf(r));
          assert.ok(want !== undefined, `${what}: ${keyOf(r)} scored in SQL only`);
          const d = Math.abs(Number(r.conversion_probability) - want);
          max = Math.max(max, d);
          assert.ok(d <= 1e-6, `${what}: ${String(r.channel_stats)}: SQL ${String(r.conversion_probability)} vs TS ${want}`);
          assert.equal(r.model_run_id, "ml-r1");
        }
        return max;
      };
      const outputs = targetOf("ml_journey_scores_sql");
      const d = check(await engine.query(`SELECT * FROM \`${outputs.schema}.ml_journey_scores_sql\``), "job on DuckDB");
      assert.match((await artifacts.get("models/ml-attribution/ml-r1.sql"))!.toString("utf8"), /CREATE OR REPLACE TABLE/);
      console.log(`      ${table.length} journey rows, ${model.numTrees} trees, ${F} features; ${String(action.metrics!.sql_characters)} chars (${String(action.metrics!.sql_form)}); max |Δp| ${d.toExponential(2)}`);

      // The split into temporary functions under a forced small limit, on DuckDB.
      const opts = { source: `\`${features.schema}.ml_journey_features\``, target: "`ml.journey_scores_split`", modelRunId: "ml-r1" };
      await engine.ensureDataset("memory", "ml");
      const full = journeyScoresSql(model, enc, opts);
      const small = { ...BIGQUERY_SQL_LIMITS, maxStatementChars: Math.ceil(full.maxStatementChars / 3) };
      const split = journeyScoresSql(model, enc, { ...opts, limits: small });
      assert.equal(split.form, "functions");
      assert.ok(split.treeGroups.length >= 3);
      await runAll(engine, split.jobs);
      check(await engine.query("SELECT * FROM `ml.journey_scores_split`"), "functions on DuckDB");

      // The same compiled SQL on BigQuery (ZetaSQL-checked), in one statement and split, over a copy of ml_journey_features.
      const schema = await engine.tableSchema({ database: "memory", schema: features.schema, name: "ml_journey_features" });
      await bq.createTable("p.ml.ml_journey_features", schema, table);
      const e = bq.engine();
      for (const limits of [BIGQUERY_SQL_LIMITS, small]) {
        const sql = journeyScoresSql(model, enc, { source: "`p.ml.ml_journey_features`", target: "`p.ml.ml_journey_scores_sql`", modelRunId: "ml-r1", limits });
        await runAll(e, sql.jobs);
        check(await e.query("SELECT * FROM `p.ml.ml_journey_scores_sql`"), `${sql.form} on BigQuery`);
      }
    } finally {
      await bq.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is skipped, naming the reason, when no ML attribution model was published", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-journey-sql-skip-"));
    try {
      const artifacts = new LocalArtifactStore(dir);
      const ctx = { artifacts } as unknown as JobContext;
      assert.match(String((await mlJourneyScoresSqlJob.run(ctx)).skipped), /no published ML attribution model at models\/ml-attribution\/current\.json/);
      await artifacts.put(ML_CURRENT_MODEL_ARTIFACT, JSON.stringify({ model: {}, encoding: {} }));
      assert.match(String((await mlJourneyScoresSqlJob.run(ctx)).skipped), /cannot be used: it has no run_id/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
