/**
 * The warehouse catalog (includes/catalog.js) is the one declaration of every table no SQLX model
 * builds. These tests hold everything else to it: Dataform's declarations, the jobs' reads and
 * writes, the importers' specs, the report's reads, and the empty inputs every engine creates —
 * so that a GA4-only warehouse runs the whole DAG.
 */
import assert from "node:assert/strict";
import { CATALOG, catalogTable, emptySourceTables, ensureSourceTables, tableLocation, tableSchema } from "../src/catalog/index.ts";
import { SOURCE_SPECS } from "../src/import/sources.ts";
import { GA4_EVENTS_SCHEMA } from "../src/import/ga4-schema.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { loadReportData } from "../src/report/data.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import type { Engine, Target } from "../src/engines/engine.ts";
import type { Project } from "../src/compile/project.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";

const built = (p: Project): Set<string> =>
  new Set(p.graph.actions.filter((a) => a.kind !== "declaration" && a.kind !== "assertion").map((a) => `${a.target.schema}.${a.target.name}`));
const cataloged = (p: Project, pred: (producer: object) => boolean = () => true): Set<string> =>
  new Set(CATALOG.filter((t) => pred(t.producer)).map((t) => `${p.settings.datasets[t.layer]}.${t.name}`));

describe("warehouse catalog", function () {
  this.timeout(120_000);
  let project: Project;
  before(async () => { project = await compiledProject(); });

  it("names every table once", () => {
    const names = CATALOG.map((t) => t.name);
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
    for (const t of CATALOG) assert.ok(project.settings.datasets[t.layer], `${t.name}: layer ${t.layer} is not a dataset in settings.datasets`);
  });

  it("is where every Dataform declaration comes from: nothing is declared that the catalog does not name", () => {
    const declared = project.graph.actions.filter((a) => a.kind === "declaration" || a.kind === "job").map((a) => `${a.target.schema}.${a.target.name}`);
    const known = cataloged(project);
    assert.deepEqual(declared.filter((d) => !known.has(d)), []);
  });

  it("names the producing job of every job output, and every job writes only catalog tables it produces", () => {
    for (const job of ALL_JOBS) {
      for (const w of job.writes) {
        const t = catalogTable(w);
        if ("jobs" in t.producer) assert.ok(t.producer.jobs.includes(job.name), `${w} is a shared history job ${job.name} writes`);
        else assert.deepEqual(t.producer, { job: job.name }, `${w} is written by job ${job.name}`);
      }
    }
    const written = new Set(ALL_JOBS.flatMap((j) => j.writes));
    for (const t of CATALOG) if ("job" in t.producer) assert.ok(written.has(t.name), `catalog says job ${t.producer.job} writes ${t.name}; it does not`);
    for (const t of CATALOG) {
      if (!("jobs" in t.producer)) continue;
      for (const j of t.producer.jobs) assert.ok(ALL_JOBS.find((x) => x.name === j)?.writes.includes(t.name), `catalog says job ${j} writes ${t.name}; it does not`);
    }
  });

  it("fails when a job reads a table that nothing builds and the catalog does not name", () => {
    const known = new Set([...built(project), ...cataloged(project)].map((n) => n.split(".")[1]));
    for (const job of ALL_JOBS) for (const r of job.reads) assert.ok(known.has(r), `job ${job.name} reads ${r}, which nothing builds`);
  });

  it("is what every SQL model reads besides other models", () => {
    const byName = new Map(project.graph.actions.map((a) => [a.name, a]));
    const known = new Set([...built(project), ...cataloged(project)]);
    for (const a of project.graph.actions) {
      for (const d of a.dependencies) {
        const dep = byName.get(d);
        assert.ok(dep, `${a.name} depends on ${d}, which is not in the graph`);
        assert.ok(known.has(`${dep.target.schema}.${dep.target.name}`), `${a.name} reads ${dep.target.schema}.${dep.target.name}, which nothing builds and the catalog does not name`);
      }
    }
  });

  it("names the SQLX file of every table a model builds that it catalogs, and declares none of them again", () => {
    for (const t of CATALOG) {
      if (!("model" in t.producer)) continue;
      const built = project.graph.actions.filter((a) => a.target.name === t.name && a.target.schema === project.settings.datasets[t.layer]);
      // A table, or a date-partitioned incremental table (the credit tables restated by day).
      assert.deepEqual(built.map((a) => [a.kind === "incremental" ? "table" : a.kind, a.fileName]), [["table", t.producer.model]], `${t.name}: built once, by ${t.producer.model}`);
    }
  });

  it("gives the importers their target columns and the jobs their write-back schemas", () => {
    for (const spec of Object.values(SOURCE_SPECS)) assert.deepEqual(spec.columns.map((c) => c.name), tableSchema(spec.table).map((c) => c.name));
    assert.deepEqual(SOURCE_SPECS.costs.columns.map((c) => c.type), ["DATE", "VARCHAR", "VARCHAR", "VARCHAR", "DOUBLE", "BIGINT", "BIGINT"]);
    assert.equal(catalogTable("events_*").columns, GA4_EVENTS_SCHEMA);
    // A write-back schema is a copy: a job changing it cannot change the catalog.
    const s = tableSchema("markov_removal_effects");
    s[0]!.name = "changed";
    assert.equal(tableSchema("markov_removal_effects")[0]!.name, "channel");
  });

  it("locates every meta table in one place, from settings", () => {
    const db = project.workflow.defaultProject;
    assert.deepEqual(tableLocation("run_history", { settings: project.settings, database: db }), { database: db, schema: "funnelcredit_meta", name: "run_history" });
    assert.throws(() => tableLocation("no_such_table", { settings: project.settings, database: db }), /no_such_table is not in the warehouse catalog \(includes\/catalog\.js\)/);
  });

  it("lets the report read only built or cataloged tables, and names the one read that nothing builds yet", async () => {
    const engine = await memoryEngine();
    const read = new Set<string>();
    const note = (t: Target): void => { read.add(`${t.schema}.${t.name}`); };
    const recording = new Proxy(engine as Engine, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop === "tableExists" || prop === "tableSchema") return (t: Target) => { note(t); return (v as (t: Target) => unknown).call(target, t); };
        // Without the one-query listing the report asks about each table it reads, so every one is recorded.
        if (prop === "tableShapesIn") return undefined;
        if (prop === "query") {
          return (sql: string, opts?: object) => {
            for (const m of sql.matchAll(/`[^`.]+\.([^`.]+)\.([^`.]+)`/g)) read.add(`${m[1]}.${m[2]}`);
            return (v as (s: string, o?: object) => unknown).call(target, sql, opts);
          };
        }
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    try {
      const run: RunRecord = { runId: "r", engine: "duckdb", startedAt: new Date(0), endedAt: new Date(0), status: "succeeded", fullRefresh: true, dryRun: false, actions: [], warnings: [] };
      await loadReportData(recording, project.settings, project.graph, run);
    } finally {
      await engine.close();
    }
    assert.ok(read.size > 10, `the report read ${[...read].join(", ")}`);
    const known = new Set([...built(project), ...cataloged(project)]);
    assert.deepEqual([...read].filter((r) => !known.has(r)), [], "the report reads tables nothing builds and the catalog does not name");
  });

  it("creates every missing input and job history empty with its catalog schema, and leaves loaded ones alone", async () => {
    const engine = await memoryEngine();
    try {
      await engine.runNative(`CREATE SCHEMA funnelcredit_sources; CREATE TABLE funnelcredit_sources.costs (x INTEGER)`);
      const created = await ensureSourceTables(engine, project.settings);
      assert.deepEqual(created.sort(), [
        "funnelcredit_models.feature_importance", "funnelcredit_models.lead_score_monitoring",
        "funnelcredit_models.model_curves", "funnelcredit_models.model_metrics",
        "funnelcredit_sources.channel_paths_import", "funnelcredit_sources.crm_transactions", "funnelcredit_sources.custom_events",
        "funnelcredit_sources.incrementality_experiments", "funnelcredit_sources.leads", "funnelcredit_sources.mmm_channel_shares",
        "ga4_export.events_19700101",
      ]);
      assert.deepEqual((await engine.tableSchema({ database: "", schema: "funnelcredit_sources", name: "costs" })).map((c) => c.name), ["x"]);
      const tx = await engine.tableSchema({ database: "", schema: "funnelcredit_sources", name: "crm_transactions" });
      assert.deepEqual(tx.map((c) => `${c.name} ${c.type}`), tableSchema("crm_transactions").map((c) => `${c.name} ${c.type}`));
      const ga4 = await engine.tableSchema({ database: "", schema: "ga4_export", name: "events_19700101" });
      assert.deepEqual(ga4.map((c) => c.name), GA4_EVENTS_SCHEMA.map((c) => c.name));
      assert.deepEqual(await ensureSourceTables(engine, project.settings), [], "a second call creates nothing");
      assert.equal(emptySourceTables(project.settings, "").length, CATALOG.filter((t) => "import" in t.producer || t.history).length);
    } finally {
      await engine.close();
    }
  });
});

describe("GA4-only input on DuckDB", function () {
  this.timeout(300_000);

  it("runs the whole DAG when no CRM, custom-event, cost or lead table exists", async () => {
    // The demo's GA4 export alone: its other inputs are dropped before the run.
    const project = await compiledProject({ ml_min_auc: "0", lead_label_maturity_days: "0" });
    const engine = await memoryEngine();
    try {
      const ds = project.settings.datasets;
      await generateDemo(engine.localLoading, { users: 1500, days: 14, seed: 3, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await engine.runNative(`DROP SCHEMA "${ds.sources}" CASCADE`);
      const created = await ensureSourceTables(engine, project.settings);
      assert.ok(created.includes(`${ds.sources}.crm_transactions`) && created.includes(`${ds.sources}.leads`), created.join(", "));
      const run = await runProject(project, engine, { fullRefresh: true, runId: "ga4-only" });
      const failed = run.actions.filter((a) => a.status === "failed").map((a) => `${a.action}: ${a.error}`);
      assert.deepEqual(failed, []);
      assert.ok(run.actions.filter((a) => a.status === "succeeded").length > 60, "the run got past staging");
      const [credit] = await engine.queryNative(`SELECT COUNT(DISTINCT model) AS models, SUM(conversions) AS c FROM "${ds.outputs}".session_credit`);
      const [tx] = await engine.queryNative(`SELECT COUNT(*) AS n FROM "${ds.intermediate}".transactions`);
      assert.ok(Number(tx!.n) > 0, "GA4 purchases are the transactions");
      assert.ok(Number(credit!.models) >= 8, `models in session_credit: ${credit!.models}`);
      assert.ok(Math.abs(Number(credit!.c) - Number(credit!.models) * Number(tx!.n)) < 1e-6, "every model distributes exactly the GA4 transactions");
    } finally {
      await engine.close();
    }
  });
});
