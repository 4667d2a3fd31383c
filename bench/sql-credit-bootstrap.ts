/**
 * What the Poisson bootstrap of identity chains (channel_share_replicates) costs: CPU seconds (all threads) and own
 * peak RSS of it, of the self_controlled model's actions and of credit_intervals, on the demo sample or on one
 * benchmark world, in one in-memory warehouse. The pipeline runs once up to credit_intervals (default replicates),
 * then channel_share_replicates and credit_intervals are re-run alone at each replicate count.
 *
 *   npx tsx bench/sql-credit-bootstrap.ts demo 4000 21        (users, days: test/pipeline.test.ts's demo)
 *   npx tsx bench/sql-credit-bootstrap.ts world 3000 harvesting
 */
import os from "node:os";
import path from "node:path";
import { loadProject } from "../src/compile/project.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { writeGa4Export } from "../src/demo/ga4-export.ts";
import { writeCrmTransactions } from "../src/demo/source-tables.ts";
import { drawWorld, type Family } from "../src/benchmark/worlds.ts";
import { observeWorld } from "../src/benchmark/observe.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { silentProgress } from "../src/runner/progress.ts";
import { loadAverage, peakSinceResetMb, report, resetPeak } from "./measure.ts";

const [source = "demo", usersArg = "4000", third = "21"] = process.argv.slice(2);
const users = Number(usersArg);
const WATCHED = ["self_controlled_chain_windows", "self_controlled_channel_credit", "excitation_linear_channel_credit", "channel_share_replicates", "credit_intervals"];

let vars: Record<string, string> = { ml_min_auc: "0", lead_label_maturity_days: "0" };
const engine = await DuckDBEngine.open({ path: ":memory:", memoryLimit: "3GB", threads: 2 });
let project = await loadProject(process.cwd(), { vars, jobs: ALL_JOBS });
const ds = project.settings.datasets;
await engine.ensureDataset("", ds.ga4);
await engine.ensureDataset("", ds.sources);
if (source === "demo") {
  await generateDemo(engine.localLoading!, { users, days: Number(third), seed: 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
} else {
  // As src/benchmark/run.ts builds a world.
  const world = drawWorld(third as Family, 1, users);
  const startMs = Date.parse("2024-03-01T00:00:00Z");
  const obs = observeWorld(world, startMs);
  vars = { ...vars, channel_rules: JSON.stringify(obs.channelRules), non_direct_excluded_channels: JSON.stringify(["direct"]) };
  project = await loadProject(process.cwd(), { vars, jobs: ALL_JOBS });
  await writeGa4Export(engine.localLoading!, obs.sessions, { ga4Schema: ds.ga4, startMs, days: world.days, seed: 1, intradayDays: 0 });
  await writeCrmTransactions(engine.localLoading!, ds.sources, obs.transactions);
}
await ensureSourceTables(engine, project.settings);

const cpu = new Map<string, number>();
const peak = new Map<string, number>();
let cpuAtStart = process.cpuUsage();
const progress = {
  ...silentProgress,
  actionStarted: (): void => { resetPeak(); cpuAtStart = process.cpuUsage(); },
  actionFinished: (name: string): void => {
    const c = process.cpuUsage(cpuAtStart);
    cpu.set(name, (c.user + c.system) / 1e6);
    peak.set(name, peakSinceResetMb());
  },
};
const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-bench-sql-credit-bootstrap"));
const short = (name: string): string => name.replace(/^[^.]*\./, "");
async function run(actions: string[], includeDependencies: boolean, replicates: string): Promise<Record<string, { cpuSeconds: number; peakMb: number }>> {
  const p = await loadProject(process.cwd(), { vars: { ...vars, credit_bootstrap_replicates: replicates }, jobs: ALL_JOBS });
  cpu.clear();
  const cpu0 = process.cpuUsage();
  const r = await runGraph({ graph: p.graph, engine, settings: p.settings, artifacts, fullRefresh: true, progress, selection: { actions, includeDependencies } });
  const failed = r.actions.filter((a) => a.status === "failed");
  if (failed.length) throw new Error(failed.map((a) => `${a.action}: ${String(a.error)}`).join("\n"));
  const total = process.cpuUsage(cpu0);
  const out: Record<string, { cpuSeconds: number; peakMb: number }> = {};
  for (const [name, s] of cpu) if (WATCHED.includes(short(name))) out[short(name)] = { cpuSeconds: Number(s.toFixed(3)), peakMb: Math.round(peak.get(name) ?? 0) };
  out.all = { cpuSeconds: Number(((total.user + total.system) / 1e6).toFixed(3)), peakMb: NaN };
  return out;
}

const pipeline = await run(["credit_intervals"], true, "100");
const [chains] = await engine.queryNative(`SELECT COUNT(DISTINCT chain_key) AS chains, COUNT(*) AS chain_channel_rows FROM "${ds.intermediate}".self_controlled_chain_windows`);
const [published] = await engine.queryNative(`SELECT
  (SELECT COUNT(*) FROM "${ds.outputs}".excitation_linear_channel_credit) AS excitation_linear_channels,
  (SELECT COUNT(*) FROM "${ds.outputs}".self_controlled_channel_credit) AS self_controlled_channels`);
const alone: Record<string, unknown> = {};
for (const b of ["0", "100", "100", "400"]) alone[`replicates=${b}${b === "100" && alone["replicates=100"] ? " (again)" : ""}`] = await run(["channel_share_replicates", "credit_intervals"], false, b);
await engine.close();
report({ source, users, third, load: loadAverage(), chains, published, pipeline, alone });
