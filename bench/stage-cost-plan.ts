/**
 * The cost plan of a simulated property (bench/pipeline.ts): a demo export of `days` days, run once, then
 * `funnelcredit plan`'s two dry runs (first run, daily incremental run) with bytes estimated by BigQuery's
 * per-type sizes; then the whole history built (a full refresh from the first export day) and planned again: the full
 * refresh's bytes, and a daily run's once the warehouse holds every day; then that daily run with the identity horizon
 * (vars.identity_horizon_days 90).
 * Also what makes the sample comparable with a real property: its events per active user-day next to the demo
 * sample's (README "Demo sample": 2,000 users × 30 days, seed 42), and each action's cost driver (costDriver) for
 * the extrapolation. Prints one BENCH: JSON line.
 */
import os from "node:os";
import path from "node:path";
import { DuckDBEngine, duckIdent } from "../src/engines/duckdb/engine.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { loadProject } from "../src/compile/project.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { runGraph } from "../src/runner/runner.ts";
import { costPlan } from "../src/runner/plan.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import type { Action } from "../src/dag/graph.ts";
import { report } from "./measure.ts";
import { ga4DayTables } from "../test/support/warehouse.ts";
import { horizonFigures } from "./horizons.ts";

/**
 * What an action's bytes grow with, from the inputs it reaches upstream, jobs and the tables they write included:
 * - "traffic": the GA4 export or a source that grows with visitors and orders (CRM transactions, leads, custom events);
 * - "costs": cost sources only (a row per campaign-day: as many rows at any traffic);
 * - "fixed": neither (imported paths, experiments, MMM shares, the run history).
 * A fitted model's own tables (a Markov matrix, model metrics) do not grow with traffic but are fed by it, so they count
 * as traffic: small tables, overstated rather than left out.
 */
export type CostDriver = "traffic" | "costs" | "fixed";
const TRAFFIC_SOURCES = /^(ga4_export\.events_\*|.*\.(crm_transactions|leads|custom_events|webinar_attendances))$/;

function costDrivers(actions: Action[], datasets: { ga4: string; sources: string }): Map<string, CostDriver> {
  const byName = new Map(actions.map((a) => [a.name, a]));
  const sourceOf = (a: Action): CostDriver | undefined => {
    if (a.kind !== "declaration" || a.dependencies.length) return undefined; // a job's table: what the job reads
    const name = `${a.target.schema === datasets.ga4 ? "ga4_export" : a.target.schema}.${a.target.name}`;
    if (TRAFFIC_SOURCES.test(name)) return "traffic";
    if (a.target.schema === datasets.sources && /cost/.test(a.target.name)) return "costs";
    return "fixed";
  };
  const memo = new Map<string, Set<CostDriver>>();
  /** The drivers of the sources `name` reaches upstream. */
  const reach = (name: string): Set<CostDriver> => {
    const cached = memo.get(name);
    if (cached) return cached;
    const a = byName.get(name);
    const out = new Set<CostDriver>();
    if (!a) return out;
    memo.set(name, out);
    const own = sourceOf(a);
    if (own) out.add(own);
    else for (const d of a.dependencies) for (const x of reach(d)) out.add(x);
    return out;
  };
  return new Map(actions.map((a) => {
    const r = reach(a.name);
    return [a.name, r.has("traffic") ? "traffic" : r.has("costs") ? "costs" : "fixed"];
  }));
}

/** Events, and events per user-day with at least one event (user_pseudo_id × event_date), over every GA4 day table. */
async function eventsPerActiveUserDay(engine: DuckDBEngine, ga4Schema: string): Promise<{ events: number; activeUserDays: number; perActiveUserDay: number }> {
  const tables = await ga4DayTables(engine, ga4Schema);
  const union = tables.map((t) => `SELECT user_pseudo_id, event_date FROM ${duckIdent(ga4Schema)}.${duckIdent(t)}`).join(" UNION ALL ");
  const [row] = await engine.queryNative(`SELECT COUNT(*) AS events, COUNT(DISTINCT (user_pseudo_id, event_date)) AS user_days FROM (${union}) WHERE user_pseudo_id IS NOT NULL`);
  const events = Number(row!.events);
  const activeUserDays = Number(row!.user_days);
  return { events, activeUserDays, perActiveUserDay: events / activeUserDays };
}

const [db, users, days] = process.argv.slice(2);
/** The identity horizon the bounded plan is made with (days). */
const IDENTITY_HORIZON_DAYS = 90;
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-bench-cost-artifacts"));
const base = await loadProject(process.cwd(), { jobs: ALL_JOBS });
const ga4Schema = base.settings.datasets.ga4;
const engine = await DuckDBEngine.open({ path: db!, memoryLimit: "4GB", threads: 1 });
const t0 = performance.now();
const gen = await generateDemo(engine.localLoading, { users: Number(users), days: Number(days), ga4Schema, sourcesSchema: base.settings.datasets.sources, intradayDays: 0 });
const generateSeconds = (performance.now() - t0) / 1000;
await ensureSourceTables(engine, base.settings);
const density = await eventsPerActiveUserDay(engine, ga4Schema);
// Recorded as a user's run is: without a run history, rpt_run_history (a view over it) fails and the run with it.
const run = await runGraph({ graph: base.graph, engine, settings: base.settings, artifacts, fullRefresh: true });
const runSeconds = (performance.now() - t0) / 1000 - generateSeconds;
const plan = await costPlan({ graph: base.graph, engine, settings: base.settings, artifacts });
// A full refresh's start_date: the first export day.
const [first] = await ga4DayTables(engine, ga4Schema);
const startDate = String(first).slice("events_".length);
const whole = await loadProject(process.cwd(), { jobs: ALL_JOBS, vars: { start_date: startDate } });
// A full refresh reads what its inputs hold once it has built them: planned on the warehouse above (whose tables hold
// the first run's days) it would count the downstream tables' reads over those days only. So the whole history is
// built (a full refresh with start_date at the first export day), and planned there: its first run is the full
// refresh, its daily run the daily run of a warehouse that holds every day (a property in production since the export began).
const t1 = performance.now();
const wholeRun = await runGraph({ graph: whole.graph, engine, settings: whole.settings, artifacts, fullRefresh: true });
const wholeRunSeconds = (performance.now() - t1) / 1000;
const wholePlan = await costPlan({ graph: whole.graph, engine, settings: whole.settings, artifacts });
// The same warehouse with the identity horizon (vars.identity_horizon_days = 90: int_session_identity incremental,
// reading H days before its window): int_session_identity (and the CRM and custom sessions it compares) rebuilt once under it (on this property it changes no
// session's user: the horizon figures below), then the daily run planned.
const bounded = await loadProject(process.cwd(), { jobs: ALL_JOBS, vars: { start_date: startDate, identity_horizon_days: String(IDENTITY_HORIZON_DAYS) } });
const boundedRun = await runGraph({ graph: bounded.graph, engine, settings: bounded.settings, artifacts, fullRefresh: true, selection: { actions: ["int_offline_sessions", "int_session_identity"] } });
// … and once incrementally, as the daily run after it did: what it carries forward (each client's last login before its
// window) is then as of a day ago, as in every later daily run.
const boundedDaily = await runGraph({ graph: bounded.graph, engine, settings: bounded.settings, artifacts, selection: { actions: ["int_session_identity"] } });
const boundedPlan = await costPlan({ graph: bounded.graph, engine, settings: bounded.settings, artifacts });
const seconds = (performance.now() - t0) / 1000;
const costRows = Number((await engine.queryNative(`SELECT COUNT(*) AS n FROM ${duckIdent(base.settings.datasets.sources)}.costs`))[0]!.n);
// What a bounded daily run would change, on the whole history just built (bench/horizons.ts).
const horizons = await horizonFigures((sql) => engine.queryNative(sql), whole.settings.datasets, [7, 30, 90, 180]);
await engine.close();
// The demo sample's density, for comparison (generation only, in memory).
const demo = await DuckDBEngine.open({ path: ":memory:", memoryLimit: "2GB", threads: 1 });
await generateDemo(demo.localLoading, { users: 2000, days: 30, seed: 42, ga4Schema, sourcesSchema: base.settings.datasets.sources });
const demoDensity = await eventsPerActiveUserDay(demo, ga4Schema);
await demo.close();
const drivers = costDrivers(base.graph.actions, base.settings.datasets);
const withDriver = <T extends { action: string }>(rows: T[]) => rows.map((r) => ({ ...r, driver: drivers.get(r.action) ?? "fixed" }));
report({
  seconds, generateSeconds, runSeconds, days: Number(days), users: Number(users), events: gen.events, eventsPerDay: gen.events / Number(days), runStatus: run.status, startDate,
  failedActions: [run, wholeRun, boundedRun, boundedDaily].flatMap((r) => r.actions.filter((a) => a.status === "failed").map((a) => a.action)), wholeRunStatus: wholeRun.status, wholeRunSeconds,
  eventsPerActiveUserDay: density.perActiveUserDay, activeUsersPerDay: density.activeUserDays / Number(days), demoEventsPerActiveUserDay: demoDensity.perActiveUserDay,
  costRows,
  lookbackDays: base.settings.lookbackDays, reprocessDays: base.settings.reprocessDays,
  plan: { firstRun: plan.firstRun, daily: plan.daily, notEstimated: plan.notEstimated, rows: withDriver(plan.rows) },
  wholeHistory: { firstRun: wholePlan.firstRun, daily: wholePlan.daily, notEstimated: wholePlan.notEstimated, rows: withDriver(wholePlan.rows) },
  horizons,
  identityHorizon: { days: IDENTITY_HORIZON_DAYS, daily: boundedPlan.daily, notEstimated: boundedPlan.notEstimated.daily, rows: withDriver(boundedPlan.rows) },
});
