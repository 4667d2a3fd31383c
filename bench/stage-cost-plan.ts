/**
 * The cost plan of a simulated property (bench/pipeline.ts): a demo export of `days` days, run once, then
 * `funnelcredit plan`'s two dry runs (first run, daily incremental run) with bytes estimated by BigQuery's
 * per-type sizes; and once more with start_date at the first export day (a full refresh over the whole history).
 * Prints one BENCH: JSON line.
 */
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { loadProject } from "../src/compile/project.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { runGraph } from "../src/runner/runner.ts";
import { costPlan } from "../src/runner/plan.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { report } from "./measure.ts";

const [db, users, days] = process.argv.slice(2);
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-bench-cost-artifacts"));
const base = await loadProject(process.cwd(), { jobs: ALL_JOBS });
const engine = await DuckDBEngine.open({ path: db!, memoryLimit: "4GB", threads: 1 });
const t0 = performance.now();
const gen = await generateDemo(engine.localLoading, { users: Number(users), days: Number(days), ga4Schema: base.settings.datasets.ga4, sourcesSchema: base.settings.datasets.sources, intradayDays: 0 });
await ensureSourceTables(engine, base.settings);
const run = await runGraph({ graph: base.graph, engine, settings: base.settings, artifacts, fullRefresh: true, recordHistory: false });
const plan = await costPlan({ graph: base.graph, engine, settings: base.settings, artifacts });
// The same plan with the first run reading the whole export (start_date = the first export day).
const [first] = await engine.queryNative(`SELECT MIN(table_name) AS t FROM information_schema.tables WHERE table_schema = '${base.settings.datasets.ga4}' AND table_name LIKE 'events_2%'`);
const startDate = String(first?.t).slice("events_".length);
const whole = await loadProject(process.cwd(), { jobs: ALL_JOBS, vars: { start_date: startDate } });
const wholePlan = await costPlan({ graph: whole.graph, engine, settings: whole.settings, artifacts });
const seconds = (performance.now() - t0) / 1000;
await engine.close();
report({
  seconds, days: Number(days), events: gen.events, eventsPerDay: gen.events / Number(days), runStatus: run.status, startDate,
  lookbackDays: base.settings.lookbackDays, reprocessDays: base.settings.reprocessDays,
  plan: { firstRun: plan.firstRun, daily: plan.daily, notEstimated: plan.notEstimated, rows: plan.rows },
  wholeHistory: { firstRun: wholePlan.firstRun, daily: wholePlan.daily, notEstimated: wholePlan.notEstimated },
});
