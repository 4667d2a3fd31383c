/**
 * npm run bench -- --heavy-chains — how the models that compare a chain's sessions, events or transactions with one
 * another grow with one chain's size (issue 15: "it should grow linearly; say where it does not"). Real exports have
 * such chains: a bot or a shared device under one client id (thousands of sessions), a reseller or test account
 * (thousands of orders). The demo sample (`--users`, default 500 × 30 days) gets one bot client with N sessions (a page
 * view each, spread over the days) and one account with N purchases (each its own session and transaction), for each
 * N of `--sizes` (default 0,10000,20000,40000); the pipeline up to the chain models runs as a full
 * refresh on a fresh copy each time and each of those models' seconds are printed. Linear: twice N, about twice the
 * added time (a join of a chain with itself was four times: 8.8 → 33.9 s for `sessions` at 20k → 40k sessions).
 *
 *   npm run bench -- --heavy-chains [--sizes 0,10000,20000,40000] [--users 500]
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { loadProject } from "../src/compile/project.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { silentProgress } from "../src/runner/progress.ts";
import { duckIdent } from "../src/engines/duckdb/quote.ts";
import { option } from "./measure.ts";
import { ga4DayTables } from "../test/support/warehouse.ts";

/** The models that relate a chain's rows to each other (a window or join per chain). */
const CHAIN_MODELS = ["sessions", "channel_excitation", "transactions", "conversion_journeys", "funnel_event_occurrences"];
const sizes = option("--sizes", "0,10000,20000,40000").split(",").map(Number);
const users = Number(option("--users", "500"));
const DAYS = 30;

const dir = mkdtempSync(path.join(os.tmpdir(), "fc-bench-chains-"));
try {
  const project = await loadProject(process.cwd(), { jobs: [], vars: {} });
  const ds = project.settings.datasets;
  const base = path.join(dir, "base.duckdb");
  {
    const engine = await DuckDBEngine.open({ path: base });
    await generateDemo(engine.localLoading, { users, days: DAYS, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
    await ensureSourceTables(engine, project.settings);
    await engine.close();
  }
  console.log(`one heavy chain of N sessions (a bot client) and one of N orders (an account) in the demo sample (${users} users × ${DAYS} days); seconds per model, full refresh`);
  console.log(`${"N".padStart(7)}  ${CHAIN_MODELS.map((m) => m.padStart(Math.max(m.length, 8))).join("  ")}`);
  for (const n of sizes) {
    const file = path.join(dir, `n${n}.duckdb`);
    copyFileSync(base, file);
    const engine = await DuckDBEngine.open({ path: file });
    try {
      if (n > 0) await addHeavyChains(engine, ds.ga4, n);
      const run = await runGraph({
        graph: project.graph, engine, settings: project.settings, artifacts: new LocalArtifactStore(path.join(dir, "artifacts")), fullRefresh: true,
        selection: { actions: CHAIN_MODELS, includeDependencies: true }, progress: silentProgress,
      });
      const failed = run.actions.filter((a) => a.status === "failed");
      if (failed.length) throw new Error(`N = ${n}: ${failed.map((a) => `${a.action}: ${a.error}`).join("; ")}`);
      const seconds = (model: string): number => {
        const a = run.actions.find((x) => x.action.endsWith(`.${model}`))!;
        return (a.endedAt.getTime() - a.startedAt.getTime()) / 1000;
      };
      console.log(`${String(n).padStart(7)}  ${CHAIN_MODELS.map((m) => seconds(m).toFixed(2).padStart(Math.max(m.length, 8))).join("  ")}`);
    } finally {
      await engine.close();
      rmSync(file, { force: true });
    }
  }
  console.log(`\nload average at end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The bot: client `bot.1`, no user id, N page views spread evenly over the export's days, each its own session (a copy
 * of one page view of the day with another session id and time). The account: client `buyer.1`, N purchases spread
 * the same way, each its own session and transaction id (copies of one purchase of the day): one chain of N sessions
 * and N transactions.
 */
async function addHeavyChains(engine: DuckDBEngine, ga4: string, n: number): Promise<void> {
  const days = await ga4DayTables(engine, ga4);
  const perDay = Math.ceil(n / days.length);
  for (const [d, t] of days.entries()) {
    const table = `${duckIdent(ga4)}.${duckIdent(t)}`;
    const [{ ecommerce }] = (await engine.queryNative(`SELECT typeof(ecommerce) AS ecommerce FROM ${table} LIMIT 1`)) as [{ ecommerce: string }];
    for (const [client, eventName, offset] of [["bot.1", "page_view", 0], ["buyer.1", "purchase", 1]] as const) {
      const id = `${d} * 1000000 + g`;
      const param = (key: string, value: string): string =>
        `WHEN p.key = '${key}' THEN struct_pack(key := p.key, value := struct_pack(string_value := ${key === "transaction_id" ? value : "p.value.string_value"}, int_value := ${key === "ga_session_id" ? value : "p.value.int_value"}, float_value := p.value.float_value, double_value := p.value.double_value))`;
      await engine.runNative(`INSERT INTO ${table} SELECT e.* REPLACE (
          '${client}' AS user_pseudo_id, NULL AS user_id,
          (SELECT min(event_timestamp) FROM ${table}) + ${offset} + g * (86000000000 // ${perDay}) AS event_timestamp,
          list_transform(e.event_params, p -> CASE ${param("ga_session_id", id)} ${param("transaction_id", `'HEAVY-' || (${id})::VARCHAR`)} ELSE p END) AS event_params,
          ${eventName === "purchase" ? `CAST(json_merge_patch(to_json(e.ecommerce), json_object('transaction_id', 'HEAVY-' || (${id})::VARCHAR)) AS ${ecommerce})` : "e.ecommerce"} AS ecommerce)
        FROM (SELECT * FROM ${table} WHERE event_name = '${eventName}' LIMIT 1) AS e, range(${perDay}) AS r(g)`);
    }
  }
}
