/**
 * The whole DAG through the BigQuery engine (the real @google-cloud/bigquery client) against the
 * strict local BigQuery (test/support/strict-bigquery.ts: every statement analyzed by ZetaSQL,
 * executed on DuckDB through the translator, BigQuery's quotas and script rules enforced), compared
 * table by table with the DuckDB engine on the same input: (a) the demo sample, (b) GA4-only input,
 * (c) one more day incrementally, (d) a run killed mid-way and resumed.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { createBigQueryEngine } from "../src/engines/bigquery/engine.ts";
import type { Engine, Row } from "../src/engines/engine.ts";
import { DuckDBEngine, duckIdent } from "../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../src/engines/duckdb/sources.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { runGraph, type RunOptions } from "../src/runner/runner.ts";
import { resumePlan } from "../src/runner/history.ts";
import { select } from "../src/dag/dag.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import type { Project } from "../src/compile/project.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { compiledProject, memoryEngine } from "./support/warehouse.ts";
import { startStrictBigQuery, type StrictBigQuery } from "./support/strict-bigquery.ts";

const P = "funnelcredit-local";
const DEMO = { users: 400, days: 10, seed: 7, intradayDays: 0 };
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-bq-dag"));
/** Values that depend on when or by which run a table was built, not on the input. */
const RUN_DEPENDENT = /^(run_id|model_version|measured_at)$/;

/** A table's rows as sorted text, numbers rounded to 1e-9 (credit columns are rounded so in the models). */
function canonical(rows: Row[]): string[] {
  const norm = (v: unknown): unknown => {
    if (typeof v === "number") return Number.isInteger(v) ? v : Math.round(v * 1e9) / 1e9;
    if (typeof v === "bigint") return Number(v);
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, norm(x)]));
    return v;
  };
  // Timings (e.g. ml_attribution_metrics' credit_seconds) measure the machine, not the input.
  return rows.filter((r) => !/_(seconds|ms)$/.test(String(r.metric ?? ""))).map((r) => JSON.stringify(norm(Object.fromEntries(Object.entries(r).filter(([k]) => !RUN_DEPENDENT.test(k)))))).sort();
}

describe("the whole DAG on the BigQuery engine against the strict local BigQuery equals DuckDB", function () {
  this.timeout(900_000);
  let project: Project;
  let bq: StrictBigQuery;
  let engine: Engine;
  let duck: DuckDBEngine;

  before(async () => {
    project = await compiledProject({ ml_min_auc: "0", lead_label_maturity_days: "0" });
  });
  beforeEach(async () => {
    bq = await startStrictBigQuery({ projectId: P, location: "EU" });
    engine = createBigQueryEngine({ projectId: P, location: "EU", apiEndpoint: bq.url }, { authClient: bq.authClient() });
    duck = await memoryEngine();
  });
  afterEach(async () => {
    await bq?.close();
    await duck?.close();
  });

  const ds = () => project.settings.datasets;
  /** The same deterministic sample into both warehouses. */
  async function loadSample(): Promise<void> {
    bq.addDataset(ds().ga4, "EU");
    bq.addDataset(ds().sources, "EU");
    await generateDemo(bq.duck.conn, { ...DEMO, ga4Schema: `${P}/${ds().ga4}`, sourcesSchema: `${P}/${ds().sources}` });
    await generateDemo(duck.conn, { ...DEMO, ga4Schema: ds().ga4, sourcesSchema: ds().sources });
  }
  const runOn = (e: Engine, extra: Partial<RunOptions> = {}): Promise<RunRecord> =>
    // One fixed clock for both engines: tables that stamp when they were built compare equal.
    runGraph({ graph: project.graph, engine: e, settings: project.settings, artifacts, now: () => new Date("2026-06-01T00:00:00Z"), ...extra });
  async function runDuck(extra: Partial<RunOptions> = {}): Promise<RunRecord> {
    await ensureSourceTables(duck, project.settings);
    return runOn(duck, extra);
  }

  /** Every table of the output and model datasets, equal on both engines. */
  async function assertSameOutputs(): Promise<number> {
    let compared = 0;
    const differing: string[] = [];
    for (const schema of [ds().outputs, ds().models]) {
      const tables = (await duck.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' AND table_type = 'BASE TABLE' ORDER BY 1`)).map((r) => String(r.table_name));
      for (const t of tables) {
        const want = canonical(await duck.queryNative(`SELECT * FROM ${duckIdent(schema)}.${duckIdent(t)}`));
        const have = canonical(await bq.rows(`${P}.${schema}.${t}`));
        compared++;
        if (JSON.stringify(want) !== JSON.stringify(have)) {
          const i = want.findIndex((w, k) => have[k] !== w);
          differing.push(`${schema}.${t}: ${want.length} vs ${have.length} rows; first difference:\n    duckdb   ${want[i]}\n    bigquery ${have[i]}`);
        }
      }
    }
    assert.deepEqual(differing, []);
    return compared;
  }

  const status = (run: RunRecord) => run.actions.filter((a) => a.status === "failed").map((a) => `${a.action}: ${a.error}`);
  /**
   * Both engines give every action the same status. The small sample has too few labelled leads
   * for lead scoring on either engine (its own message); everything else succeeds.
   */
  function assertSameStatus(bqRun: RunRecord, duckRun: RunRecord, alsoFailing?: RegExp): void {
    const of = (r: RunRecord) => Object.fromEntries(r.actions.map((a) => [a.action, a.status]));
    assert.deepEqual(of(bqRun), of(duckRun));
    assert.deepEqual(status(duckRun).filter((s) => !/^lead_scoring: only \d+ labelled leads/.test(s) && !alsoFailing?.test(s)), []);
  }

  it("(a) runs the demo sample and produces DuckDB's credit and model tables", async () => {
    await loadSample();
    const duckRun = await runDuck({ fullRefresh: true });
    const started = Date.now();
    const run = await runOn(engine, { fullRefresh: true });
    const ms = Date.now() - started;
    assertSameStatus(run, duckRun);
    assert.deepEqual(run.warnings.filter((w) => /run history/.test(w)), []);
    const n = await assertSameOutputs();
    assert.ok(n >= 15, `only ${n} tables compared`);
    console.log(`      BigQuery engine run: ${run.actions.length} actions in ${ms} ms; ${bq.analysis.statements} statements analyzed by ZetaSQL in ${bq.analysis.ms} ms; ${n} tables equal`);
  });

  it("(b) runs GA4-only input: the missing sources are created empty", async () => {
    await loadSample();
    for (const t of ["crm_transactions", "custom_events", "costs", "leads", "channel_paths_import"]) {
      await bq.duck.runNative(`DROP TABLE IF EXISTS ${duckIdent(`${P}/${ds().sources}`)}.${duckIdent(t)}`);
      await duck.runNative(`DROP TABLE IF EXISTS ${duckIdent(ds().sources)}.${duckIdent(t)}`);
    }
    const duckRun = await runDuck({ fullRefresh: true });
    const run = await runOn(engine, { fullRefresh: true });
    // Without leads the lead-scoring job writes no metrics, and the model views over its tables fail
    // on both engines (a defect of the lead-scoring outputs, not of the engine: same on DuckDB).
    assertSameStatus(run, duckRun, /^funnelcredit_models\.(feature_importance|model_curves|model_metrics): .*lead_scoring_/);
    assert.ok((await bq.tableIds(ds().sources)).includes("crm_transactions"));
    assert.ok(run.actions.some((a) => a.action.endsWith("transaction_credit") && a.status === "succeeded"), "credit tables are built, not skipped");
    await assertSameOutputs();
  });

  it("(c) adds one more day incrementally", async () => {
    await loadSample();
    const lastDay = (await bq.tableIds(ds().ga4)).filter((t) => /^events_\d{8}$/.test(t)).sort().pop()!;
    const hold = async (from: string, to: string) => {
      await bq.duck.runNative(`ALTER TABLE ${duckIdent(`${P}/${ds().ga4}`)}.${duckIdent(from)} RENAME TO ${duckIdent(to)}`);
      await duck.runNative(`ALTER TABLE ${duckIdent(ds().ga4)}.${duckIdent(from)} RENAME TO ${duckIdent(to)}`);
    };
    await hold(lastDay, `held_${lastDay}`);
    assertSameStatus(await runOn(engine, { fullRefresh: true }), await runDuck({ fullRefresh: true }));
    await hold(`held_${lastDay}`, lastDay);
    const duckRun = await runDuck();
    const run = await runOn(engine);
    assertSameStatus(run, duckRun);
    assert.ok(run.actions.some((a) => a.kind === "incremental" && a.status === "succeeded"));
    await assertSameOutputs();
  });

  it("(d) resumes a run killed mid-way and ends equal to DuckDB", async () => {
    await loadSample();
    const duckRun = await runDuck({ fullRefresh: true });
    // The process dies after 40 engine calls: nothing after that reaches BigQuery.
    let calls = 0;
    const dying: Engine = new Proxy(engine, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== "function" || ["capabilities", "kind"].includes(String(prop))) return v;
        return (...args: unknown[]) => {
          if (++calls > 40) return new Promise(() => undefined); // never answers: killed
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const runId = "killed_run";
    void runOn(dying, { fullRefresh: true, runId });
    while (calls <= 40) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const plan = await resumePlan(engine, project, runId, select(project.graph, {}));
    assert.ok(plan.known, "the killed run left history rows");
    const resumed = await runOn(engine, { fullRefresh: true, runId, attempt: "resume_1", alreadySucceeded: plan.skip, now: () => new Date("2026-06-01T01:00:00Z") });
    assert.deepEqual(status(resumed), status(duckRun));
    assert.ok(resumed.actions.some((a) => a.note === "succeeded in the resumed run"), "the resume skipped what the killed run finished");
    await assertSameOutputs();
  });
});
