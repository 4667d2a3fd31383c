/**
 * The whole DAG through the BigQuery engine (the real @google-cloud/bigquery client) against the
 * strict local BigQuery (test/support/strict-bigquery.ts: every statement analyzed by ZetaSQL,
 * executed on DuckDB through the translator, BigQuery's quotas and script rules enforced), compared
 * table by table with the DuckDB engine on the same input: (a) the demo sample, (b) GA4-only input,
 * (c) one more day incrementally, (d) a run killed mid-way and resumed.
 *
 * The demo sample's DuckDB full refresh is built once and is the reference of (a) and (d); the strict BigQuery that
 * (a) builds from the sample is the built warehouse (f) dry-runs (its dry run writes nothing: asserted there). The
 * other cases start from a fresh warehouse each.
 */
import { canonicalRows } from "./support/canonical.ts";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { qualified, type Engine, type Row } from "../src/engines/engine.ts";
import { fromWireSchema, type WireField } from "../src/engines/bigquery/values.ts";
import { DuckDBEngine, duckIdent } from "../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { runGraph, type RunOptions } from "../src/runner/runner.ts";
import { resumePlan } from "../src/runner/history.ts";
import { select } from "../src/dag/dag.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import type { Project } from "../src/compile/project.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { SHARED_DATA, compiledProject, memoryEngine } from "./support/warehouse.ts";
import { resolveGa4OptionalColumns } from "../src/compile/ga4-columns.ts";
import { startStrictBigQuery, type StrictBigQuery } from "./support/strict-bigquery.ts";

const P = "funnelcredit-local";
const DEMO = { users: 400, days: 10, seed: 7, intradayDays: 0 };
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-bq-dag"));
const canonical = (rows: Row[]): string[] => canonicalRows(rows);

describe("the whole DAG on the BigQuery engine against the strict local BigQuery equals DuckDB", function () {
  this.timeout(900_000);
  let project: Project;
  let bq: StrictBigQuery;
  let engine: Engine;
  let duck: DuckDBEngine;
  /** The demo sample on DuckDB after one full refresh, and that run's record (built once: see the file's comment). */
  let reference: { duck: DuckDBEngine; run: RunRecord } | undefined;

  before(async () => {
    project = await compiledProject({ ml_min_auc: "0", lead_label_maturity_days: "0" });
  });
  after(async () => {
    await reference?.duck.close();
  });
  /** A fresh strict BigQuery and a fresh DuckDB. */
  async function freshWarehouses(): Promise<void> {
    bq = await startStrictBigQuery({ projectId: P, location: "EU" });
    engine = bq.engine();
    duck = await memoryEngine();
  }
  async function closeWarehouses(): Promise<void> {
    await bq?.close();
    await duck?.close();
  }

  const ds = () => project.settings.datasets;
  /** The deterministic sample into one warehouse: the strict BigQuery's DuckDB (`${P}/` schemas) or a DuckDB engine. */
  async function loadSampleInto(e: DuckDBEngine, prefix: string): Promise<void> {
    await generateDemo(e.localLoading, { ...DEMO, ga4Schema: `${prefix}${ds().ga4}`, sourcesSchema: `${prefix}${ds().sources}` });
  }
  /** The same deterministic sample into both warehouses. */
  async function loadSample(): Promise<void> {
    bq.addDataset(ds().ga4, "EU");
    bq.addDataset(ds().sources, "EU");
    await loadSampleInto(bq.duck, `${P}/`);
    await loadSampleInto(duck, "");
  }
  /** The sample on the strict BigQuery only, and the DuckDB reference of the same sample (built on first use). */
  async function loadSampleWithReference(): Promise<{ duck: DuckDBEngine; run: RunRecord }> {
    bq.addDataset(ds().ga4, "EU");
    bq.addDataset(ds().sources, "EU");
    await loadSampleInto(bq.duck, `${P}/`);
    if (!reference) {
      const ref = await memoryEngine();
      await loadSampleInto(ref, "");
      reference = { duck: ref, run: await runOn(ref, { fullRefresh: true }) };
    }
    return reference;
  }
  /** As `funnelcredit run` does: inputs not loaded yet are created empty (not on a dry run), then the DAG runs. */
  async function runOn(e: Engine, extra: Partial<RunOptions> = {}): Promise<RunRecord> {
    if (!extra.dryRun) await ensureSourceTables(e, project.settings, e instanceof DuckDBEngine ? "" : P);
    // One fixed clock for both engines: tables that stamp when they were built compare equal.
    return runGraph({ graph: project.graph, engine: e, settings: project.settings, artifacts, now: () => new Date("2026-06-01T00:00:00Z"), ...extra });
  }
  const runDuck = (extra: Partial<RunOptions> = {}): Promise<RunRecord> => runOn(duck, extra);

  /** Every table of the output and model datasets, equal on both engines (`duckSide`: the DuckDB warehouse). */
  async function assertSameOutputs(duckSide: DuckDBEngine = duck): Promise<number> {
    let compared = 0;
    const differing: string[] = [];
    for (const schema of [ds().outputs, ds().models]) {
      const tables = (await duckSide.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' AND table_type = 'BASE TABLE' ORDER BY 1`)).map((r) => String(r.table_name));
      for (const t of tables) {
        const want = canonical(await duckSide.queryNative(`SELECT * FROM ${duckIdent(schema)}.${duckIdent(t)}`));
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

  /** Everything a run could change: datasets, tables and their row counts, and what went over the wire. */
  async function snapshot(): Promise<string> {
    const tables = await bq.duck.queryNative("SELECT schema_name, table_name, estimated_size FROM duckdb_tables() ORDER BY 1, 2");
    return JSON.stringify({ datasets: [...bq.datasets.keys()].sort(), tables });
  }
  // A real query job is a write, but for the reads of the changed-definitions check (src/runner/definitions.ts), which
  // a dry run makes too: labelled, and SELECTs.
  type JobBody = { configuration?: { dryRun?: boolean; labels?: Record<string, string>; query?: { query?: string } } };
  const definitionsRead = (body: JobBody | undefined): boolean =>
    body?.configuration?.labels?.funnelcredit_check === "incremental_definitions" && /^SELECT /.test(body.configuration.query?.query ?? "");
  const writesOverTheWire = () =>
    bq.requests.filter((r) => r.route === "datasets.insert" || r.route === "tabledata.insertAll" || (r.route === "jobs.insert" && !(r.body as JobBody)?.configuration?.dryRun && !definitionsRead(r.body as JobBody)));

  describe("the demo sample, built once by a full run on the strict BigQuery", () => {
    let built: { run: RunRecord; ms: number; ref: { duck: DuckDBEngine; run: RunRecord } };
    before(async () => {
      await freshWarehouses();
      const ref = await loadSampleWithReference();
      const started = Date.now();
      const run = await runOn(engine, { fullRefresh: true });
      built = { run, ms: Date.now() - started, ref };
    });
    after(closeWarehouses);

    it("(a) runs the demo sample and produces DuckDB's credit and model tables", async () => {
      const { run, ms, ref } = built;
      assertSameStatus(run, ref.run);
      assert.deepEqual(run.warnings.filter((w) => /run history/.test(w)), []);
      const n = await assertSameOutputs(ref.duck);
      assert.ok(n >= 15, `only ${n} tables compared`);
      console.log(`      BigQuery engine run: ${run.actions.length} actions in ${ms} ms; ${bq.analysis.statements} statements analyzed by ZetaSQL in ${bq.analysis.ms} ms; ${n} tables equal`);
    });

    it("(f) --dry-run of a built warehouse checks every action, assertions and jobs' reads included, and writes nothing", async () => {
      const before = await snapshot();
      const ops = JSON.stringify([...bq.tableOperations]);
      bq.clearRequests();
      const run = await runOn(engine, { dryRun: true });
      assert.deepEqual(status(run), []);
      assert.equal(await snapshot(), before);
      assert.equal(JSON.stringify([...bq.tableOperations]), ops);
      assert.deepEqual(writesOverTheWire().map((r) => r.path), []);
      assert.deepEqual(run.actions.filter((a) => a.status !== "dry_run").map((a) => a.action), []);
      // Only what reads lead scoring's outputs is left unchecked: on this small sample lead scoring has
      // too few labelled leads and wrote nothing (the same on DuckDB).
      const unchecked = run.actions.filter((a) => a.note?.startsWith("not checked"));
      assert.ok(unchecked.length < 10);
      for (const a of unchecked) assert.match(a.note!, /lead_scor|model_metrics|model_curves|feature_importance/, a.action);
      // An assertion over a table with rows (the configured-cost-source staging is empty here, so 0 bytes).
      // (The models check their keys in their own queries: a data-quality assertion over sessions and transactions here.)
      const assertion = run.actions.find((a) => a.kind === "assertion" && a.action.endsWith("dq_transactions_without_sessions"))!;
      const job = run.actions.find((a) => a.action === "channel_markov")!;
      assert.ok((assertion.bytesProcessed ?? 0) > 0 && (job.bytesProcessed ?? 0) > 0, "assertions and jobs are dry-run with their bytes");
      const incremental = run.actions.find((a) => a.action.endsWith("stg_ga4_events"))!;
      assert.ok((incremental.bytesProcessed ?? 0) > 0, "the incremental script with its DECLARE pre-operation is accepted");
    });
  });

  describe("each on a fresh warehouse", () => {
    beforeEach(freshWarehouses);
    afterEach(closeWarehouses);

    it("(b) runs GA4-only input: the missing sources are created empty", async () => {
      await loadSample();
      // Only the GA4 export stays: every table of the sources dataset goes (CRM, custom events and the
      // analyst-owned event tables, costs, leads), on both engines.
      const dropAll = async (e: DuckDBEngine, schema: string): Promise<string[]> => {
        const tables = (await e.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY 1`)).map((r) => String(r.table_name));
        for (const t of tables) await e.runNative(`DROP TABLE ${duckIdent(schema)}.${duckIdent(t)}`);
        return tables;
      };
      const dropped = await dropAll(bq.duck, `${P}/${ds().sources}`);
      assert.deepEqual(await dropAll(duck, ds().sources), dropped);
      for (const t of ["crm_transactions", "custom_events", "costs", "leads", "call_centre_calls", "webinar_attendances"]) assert.ok(dropped.includes(t), `${t} was loaded, then dropped`);
      const duckRun = await runDuck({ fullRefresh: true });
      const run = await runOn(engine, { fullRefresh: true });
      // Without leads the lead-scoring job writes no metrics; the shared model_* histories hold the ML
      // job's rows and their readers succeed on both engines.
      assertSameStatus(run, duckRun);
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
      bq.clearRequests();
      const run = await runOn(engine);
      assertSameStatus(run, duckRun);
      assert.ok(run.actions.some((a) => a.kind === "incremental" && a.status === "succeeded"));
      // What the daily run asked of the tables' metadata: one tables.list per dataset (each table's kind and
      // partitioning, src/engines/table-listing.ts) instead of a tables.get per model before its statements and per
      // source before it is created empty if missing. tables.get remains for the incremental models' columns (their
      // MERGE/INSERT), the jobs' shared histories, the sources the jobs read and the run's own tables (measured: 28
      // tables.get and 7 tables.list, where a tables.get per model and per source made 102).
      const built = project.graph.actions.filter((a) => run.actions.some((r) => r.action === a.name && r.status === "succeeded") && (a.kind === "table" || a.kind === "view"));
      const datasets = new Set(project.graph.actions.filter((a) => a.kind === "table" || a.kind === "view" || a.kind === "incremental").map((a) => `${a.target.schema}`));
      const got = bq.requestsTo("tables.get").map((r) => r.path.split("/").map(decodeURIComponent)).map((p) => `${p.at(-3)}.${p.at(-1)}`);
      assert.deepEqual(built.map((a) => `${a.target.schema}.${a.target.name}`).filter((t) => got.includes(t)), [], "no tables.get for a table or view model");
      assert.ok(built.length > 40, `${built.length} table and view models built`);
      const lists = bq.requestsTo("tables.list").map((r) => decodeURIComponent(r.path.split("/").at(-2)!));
      assert.ok(datasets.size >= 5 && datasets.size <= lists.length, `${lists.join(", ")} listed; the models' datasets: ${[...datasets].join(", ")}`);
      assert.equal(new Set(lists).size, lists.length, `each dataset listed once: ${lists.join(", ")}`);
      await assertSameOutputs();
    });

    it("(d) resumes a run killed mid-way and ends equal to DuckDB", async () => {
      const { duck: refDuck, run: duckRun } = await loadSampleWithReference();
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
      let ended: unknown;
      void runOn(dying, { fullRefresh: true, runId }).then((r) => { ended = r; }, (e: unknown) => { ended = e; });
      // Bounded: a run that ends (or fails) before the 40th call would otherwise leave this loop waiting forever.
      while (calls <= 40 && ended === undefined) await new Promise((r) => setTimeout(r, 50));
      assert.equal(ended, undefined, `the run ended before it could be killed: ${String(ended)}`);
      await new Promise((r) => setTimeout(r, 500));
      const plan = await resumePlan(engine, project, runId, select(project.graph, {}));
      assert.ok(plan.known, "the killed run left history rows");
      const resumed = await runOn(engine, { fullRefresh: true, runId, attempt: "resume_1", alreadySucceeded: plan.skip, now: () => new Date("2026-06-01T01:00:00Z") });
      assert.deepEqual(status(resumed), status(duckRun));
      assert.ok(resumed.actions.some((a) => a.note === "succeeded in the resumed run"), "the resume skipped what the killed run finished");
      await assertSameOutputs(refDuck);
    });

    it("(e) --dry-run on an empty project (GA4 export only) passes and writes nothing", async () => {
      bq.addDataset(ds().ga4, "EU");
      await generateDemo(bq.duck.localLoading, { ...DEMO, ga4Schema: `${P}/${ds().ga4}`, sourcesSchema: `${P}/scratch` });
      await bq.duck.runNative(`DROP SCHEMA ${duckIdent(`${P}/scratch`)} CASCADE`);
      const before = await snapshot();
      bq.clearRequests();
      const run = await runOn(engine, { dryRun: true });
      assert.deepEqual(status(run), []);
      assert.equal(await snapshot(), before);
      assert.deepEqual(writesOverTheWire().map((r) => r.path), []);
      const ga4 = run.actions.find((a) => a.action.endsWith("stg_ga4_events"))!;
      assert.equal(ga4.status, "dry_run");
      assert.ok((ga4.bytesProcessed ?? 0) > 0, "the GA4 staging model is dry-run with its bytes");
      const unchecked = run.actions.filter((a) => a.note?.startsWith("not checked: depends on tables not yet built"));
      assert.ok(unchecked.length > 50, `${unchecked.length} actions reported as depending on tables not built yet`);
      assert.ok(unchecked.some((a) => a.action.endsWith("stg_crm_transactions") && /crm_transactions/.test(a.note!)), "an optional source a real run creates empty counts as not built");
    });

  });
});

describe("GA4 export in another project and location (strict local BigQuery)", function () {
  this.timeout(300_000);
  const SAMPLE = path.join(SHARED_DATA, "ga4-obfuscated-sample-ecommerce");

  it("reads the public GA4 sample's layout with ga4_project=bigquery-public-data (compile + the strict endpoint loaded with the sample)", async () => {
    const project = await compiledProject({ ga4_project: "bigquery-public-data", ga4_dataset: "ga4_obfuscated_sample_ecommerce" });
    const events = project.graph.actions.find((a) => a.kind === "declaration" && a.target.name === "events_*")!;
    assert.deepEqual(events.target, { database: "bigquery-public-data", schema: "ga4_obfuscated_sample_ecommerce", name: "events_*" });
    const stg = project.graph.actions.find((a) => a.name.endsWith("stg_ga4_events"))!;
    assert.match(stg.query!, /`bigquery-public-data\.ga4_obfuscated_sample_ecommerce\.events_\*`/);
    assert.doesNotMatch(stg.query!, /funnelcredit-local\.ga4_obfuscated_sample_ecommerce/);
    // The public dataset lives in the US, in its own project; jobs run (and bill) in ours.
    const bq = await startStrictBigQuery({ projectId: P, location: "US" });
    try {
      const fields = JSON.parse(readFileSync(path.join(SAMPLE, "events_schema.json"), "utf8")) as WireField[];
      const schema = fromWireSchema(fields, (p, t) => { throw new Error(`${p}: ${t}`); });
      const rows = readFileSync(path.join(SAMPLE, "ga4_events_sample.ndjson"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Row);
      const byDay = new Map<string, Row[]>();
      for (const r of rows) byDay.set(String(r.event_date), [...(byDay.get(String(r.event_date)) ?? []), r]);
      bq.addDataset("ga4_obfuscated_sample_ecommerce", "US", "bigquery-public-data");
      for (const [day, rs] of byDay) await bq.createTable(`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_${day}`, schema, rs);
      const engine = bq.engine();
      const [n] = await engine.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT _TABLE_SUFFIX) AS days FROM ${qualified(events.target)}`);
      assert.deepEqual(n, { n: rows.length, days: byDay.size });
      // Nothing is created in someone else's project: the GA4 declaration is only read.
      await engine.prepareDeclarations!(project.graph.actions.filter((a) => a.kind === "declaration").map((a) => a.target));
      assert.deepEqual([...bq.datasets.keys()].filter((k) => k.startsWith("bigquery-public-data.")), ["bigquery-public-data.ga4_obfuscated_sample_ecommerce"]);

      // The sample's schema predates collected_traffic_source and batch_event_index: compiled assuming a 2023+ export,
      // staging fails on BigQuery; with the columns read from the newest events_ table (as the CLI does) it runs.
      const stagingOnly = { selection: { actions: ["stg_ga4_sessions"], includeDependencies: true } };
      const assumed = await runGraph({ graph: project.graph, engine, settings: project.settings, artifacts, ...stagingOnly });
      assert.match(assumed.actions.find((a) => a.action.endsWith("stg_ga4_events"))!.error ?? "", /Unrecognized name: (collected_traffic_source|batch_event_index)/);
      const found = await resolveGa4OptionalColumns(engine, project.settings, "bigquery-public-data");
      assert.equal(found, "none");
      const resolved = await compiledProject({ ga4_project: "bigquery-public-data", ga4_dataset: "ga4_obfuscated_sample_ecommerce", ga4_optional_columns: found! });
      const run = await runGraph({ graph: resolved.graph, engine, settings: resolved.settings, artifacts, ...stagingOnly });
      assert.deepEqual(run.actions.filter((a) => a.status === "failed").map((a) => `${a.action}: ${a.error}`), []);
      const [staged] = await engine.query(`SELECT COUNT(*) AS n FROM ${qualified({ database: P, schema: resolved.settings.datasets.staging, name: "stg_ga4_events" })}`);
      const [sessions] = await engine.query(`SELECT COUNT(*) AS n FROM ${qualified({ database: P, schema: resolved.settings.datasets.staging, name: "stg_ga4_sessions" })}`);
      // The same figures as the sample on DuckDB (test/warehouse-real-data.test.ts): 700 events, 206 sessions.
      assert.deepEqual([Number(staged!.n), Number(sessions!.n)], [700, 206]);
    } finally {
      await bq.close();
    }
  });

  it("stops before the first job when the GA4 dataset is in another location, naming dataset, location and settings (regression: a bare Not found)", async () => {
    const project = await compiledProject({ ml_min_auc: "0", lead_label_maturity_days: "0" });
    const bq = await startStrictBigQuery({ projectId: P, location: "EU", analyze: false });
    try {
      const ga4 = project.settings.datasets.ga4;
      bq.addDataset(ga4, "US");
      await bq.createTable(`${P}.${ga4}.events_20240101`, [{ name: "event_date", type: "STRING" }], []);
      bq.datasets.set(`${P}.${ga4}`, { location: "US" });
      const engine = bq.engine();
      await assert.rejects(
        runGraph({ graph: project.graph, engine, settings: project.settings, artifacts }),
        (e: Error) => /source dataset funnelcredit-local\.ga4_export \(events_\*\) is in location US; jobs run in EU/.test(e.message) && /vars\.ga4_project \/ vars\.ga4_dataset/.test(e.message),
      );
      assert.equal(bq.requestsTo("jobs.insert").length, 0, "no job ran");
    } finally {
      await bq.close();
    }
  });
});
