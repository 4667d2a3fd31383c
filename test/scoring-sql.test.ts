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
import { compiledProject, memoryEngine, assertRunSucceeded, SHARED_DATA } from "./support/warehouse.ts";
import { startStrictBigQuery } from "./support/strict-bigquery.ts";
import { importCsvOrNdjson } from "../src/import/index.ts";
import { toLeadRecords, candidateColumns, labelOf } from "../src/lead-scoring/dataset.ts";
import { trainLeadModel } from "../src/lead-scoring/train.ts";
import { loadLeadModel, CURRENT_MODEL_ARTIFACT, type LoadedLeadModel } from "../src/lead-scoring/artifact.ts";
import { encodeRows } from "../src/models/encoding.ts";
import { applyCalibrator } from "../src/models/calibration.ts";
import { segmentOf } from "../src/lead-scoring/score.ts";
import { leadScoresSql } from "../src/scoring-sql/lead-scores.ts";
import { float32LessThanBound, float64Literal } from "../src/scoring-sql/numbers.ts";
import { nestingDepth, BIGQUERY_SQL_LIMITS } from "../src/scoring-sql/limits.ts";
import type { Engine, Row } from "../src/engines/engine.ts";
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

async function runAll(engine: Engine, statements: string[]): Promise<void> {
  for (const s of statements) await engine.execute([s]);
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
    await importCsvOrNdjson(engine.conn, "leads", path.join(SHARED_DATA, "x-education-leads", "Leads.csv"), {
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
    await runAll(engine, sql.statements);
    const out = await engine.query(`SELECT * FROM ${target}`);
    const d = assertSame(out, tsScores(model, rows, cutoff), model.artifact.modelVersion);
    console.log(`      ${rows.length} leads, ${model.booster.numTrees} trees, ${model.artifact.calibrator.kind}; SQL ${sql.maxStatementChars} chars, nesting ${sql.maxNestingDepth}; max |Δp| ${d.toExponential(2)}`);
  });

  it("splits the trees over several statements under a forced small limit, with the same scores", async () => {
    const full = leadScoresSql(model, { source, target, scoreCutoff: cutoff });
    const limit = Math.ceil(full.maxStatementChars / 3);
    const sql = leadScoresSql(model, { source, target, scoreCutoff: cutoff, limits: { ...BIGQUERY_SQL_LIMITS, maxStatementChars: limit } });
    assert.ok(sql.treesPerStatement.length >= 3, `split into ${sql.treesPerStatement.length}`);
    assert.equal(sql.treesPerStatement.reduce((a, b) => a + b, 0), model.booster.numTrees);
    for (const s of sql.statements) assert.ok(s.length <= limit, `statement of ${s.length} > ${limit}`);
    await runAll(engine, sql.statements);
    assertSame(await engine.query(`SELECT * FROM ${target}`), tsScores(model, rows, cutoff), model.artifact.modelVersion);
    const left = await engine.query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%margin_step%'");
    assert.deepEqual(left, [], "step tables dropped");
    assert.throws(() => leadScoresSql(model, { source, target, scoreCutoff: cutoff, limits: { ...BIGQUERY_SQL_LIMITS, maxStatementChars: 2000 } }), /too large to score in SQL/);
  });

  it("scores a feature whose column the table lacks as missing, as the TypeScript scorer does", async () => {
    const dropped = "total_time_spent_on_website";
    assert.ok(model.artifact.encoder.features.some((f) => f.name === dropped));
    await engine.execute([`CREATE OR REPLACE TABLE \`funnelcredit_sources.leads_without\` AS SELECT * EXCEPT (${dropped}) FROM ${source}`]);
    const columns = (await engine.tableSchema({ database: "memory", schema: "funnelcredit_sources", name: "leads_without" })).map((c) => c.name);
    const sql = leadScoresSql(model, { source: "`funnelcredit_sources.leads_without`", target, scoreCutoff: cutoff, columns });
    await runAll(engine, sql.statements);
    const without = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== dropped)));
    assertSame(await engine.query(`SELECT * FROM ${target}`), tsScores(model, without, cutoff), model.artifact.modelVersion);
  });

  it("scores every lead on the strict local BigQuery (ZetaSQL-checked) within 1e-6", async () => {
    const bq = await startStrictBigQuery({ projectId: "p" });
    try {
      const schema = await engine.tableSchema({ database: undefined, schema: "funnelcredit_sources", name: "leads" } as never);
      await bq.createTable("p.leads_ds.leads", schema, rows);
      const e = bq.engine();
      const sql = leadScoresSql(model, { source: "`p.leads_ds.leads`", target: "`p.leads_ds.lead_scores_sql`", scoreCutoff: cutoff, limits: { ...BIGQUERY_SQL_LIMITS, maxStatementChars: 400_000 } });
      await runAll(e, sql.statements);
      assertSame(await e.query("SELECT * FROM `p.leads_ds.lead_scores_sql`"), tsScores(model, rows, cutoff), model.artifact.modelVersion);
      assert.ok(bq.analysis.statements >= sql.statements.length, "every statement analyzed by ZetaSQL");
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
      await generateDemo(engine.conn, { users: 4000, days: 21, seed: 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
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
      await runAll(e, sql.statements);
      assertSame(await e.query("SELECT * FROM `p.leads_ds.lead_scores_sql`"), expected, model.artifact.modelVersion);
    } finally {
      await bq.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
