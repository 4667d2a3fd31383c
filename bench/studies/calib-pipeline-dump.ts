/**
 * The pipeline's view of benchmark worlds, for the credit-calibration study (bench/studies/calib.ts --source pipeline):
 * each world's observed GA4 export and CRM rows (observe.ts, as `funnelcredit benchmark` writes them) run
 * through the real pipeline up to `conversion_journeys` (staging, identity, sessions), then dumped with the
 * world's true incremental shares to /tmp/calib-cache/pipeline-<family>-<seed>-<users>-<truth>.json:
 * sessions (chain, channel, start, event count, excluded source) and journeys (converted, touches).
 *
 *   nice -n 10 npx tsx bench/studies/calib-pipeline-dump.ts --families harvesting --seeds 1,2,3 --users 3000 --truth-users 4000
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadProject } from "../../src/compile/project.ts";
import { engineDriver } from "../../src/engines/registry.ts";
import { ensureSourceTables } from "../../src/catalog/index.ts";
import { writeGa4Export } from "../../src/demo/ga4-export.ts";
import { writeCrmTransactions } from "../../src/demo/source-tables.ts";
import { runGraph } from "../../src/runner/runner.ts";
import { LocalArtifactStore } from "../../src/artifacts/store.ts";
import { ALL_JOBS } from "../../jobs/index.ts";
import { drawWorld, FAMILIES, type Family } from "../../src/benchmark/worlds.ts";
import { observeWorld } from "../../src/benchmark/observe.ts";
import { trueIncremental } from "./calib-worlds.ts";
import { option as opt } from "../measure.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const families = opt("--families", FAMILIES.join(",")).split(",") as Family[];
const seeds = opt("--seeds", "1,2,3").split(",").map(Number);
const users = Number(opt("--users", "3000"));
const truthUsers = Number(opt("--truth-users", "4000"));
const START = "2024-03-01";
// --cache: where the dumps go (bench/studies/selbias.ts reads /tmp/selbias-cache, which also needs `conversions`).
const cacheDir = opt("--cache", "/tmp/calib-cache");

export interface PipelineDump {
  family: Family;
  seed: number;
  channels: string[];
  days: number;
  truth: Record<string, number>;
  /** chain, channel, days from the window start, event count, excluded source (its value goes to the previous session). */
  sessions: Array<[string, string, number, number, boolean]>;
  /** converted, touches as [channel, days from the window start]. */
  journeys: Array<[boolean, Array<[string, number]>]>;
  /** Index in `sessions` of each transaction's converting session (transactions.session_key), one per transaction. */
  conversions?: number[];
  seconds: number;
}

for (const family of families) {
  for (const seed of seeds) {
    const file = `${cacheDir}/pipeline-${family}-${seed}-${users}-${truthUsers}.json`;
    if (fs.existsSync(file)) continue;
    const t0 = Date.now();
    const world = drawWorld(family, seed, users);
    const truth = trueIncremental(world, truthUsers);
    const startMs = Date.parse(`${START}T00:00:00Z`);
    const obs = observeWorld(world, startMs);
    const vars = { channel_rules: JSON.stringify(obs.channelRules), non_direct_excluded_channels: JSON.stringify(["direct"]) };
    const project = await loadProject(ROOT, { vars, jobs: ALL_JOBS });
    const engine = await engineDriver("duckdb").open({ path: ":memory:", memoryLimit: "3GB", threads: 1 });
    try {
      const ds = project.settings.datasets;
      await engine.ensureDataset("", ds.ga4);
      await engine.ensureDataset("", ds.sources);
      await writeGa4Export(engine.localLoading!, obs.sessions, { ga4Schema: ds.ga4, startMs, days: world.days, seed, intradayDays: 0 });
      await writeCrmTransactions(engine.localLoading!, ds.sources, obs.transactions);
      await ensureSourceTables(engine, project.settings);
      const run = await runGraph({
        graph: project.graph, engine, settings: project.settings,
        artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "funnelcredit-calib-artifacts")),
        selection: { actions: ["conversion_journeys"], includeDependencies: true }, fullRefresh: true,
      });
      const failed = run.actions.filter((a) => a.status === "failed");
      if (failed.length) throw new Error(`${family}/s${seed}: ${failed.map((a) => `${a.action}: ${String(a.error)}`).join("; ")}`);
      const day = (v: unknown): number => ((v instanceof Date ? v.getTime() : Date.parse(String(v))) - startMs) / 86_400_000;
      const sessionRows = await engine.query(`SELECT session_key, chain_key, channel, session_start_at, event_count, is_excluded_source FROM \`${ds.intermediate}.sessions\` ORDER BY chain_key, session_start_at, session_key`);
      const sessionIndex = new Map(sessionRows.map((r, i) => [String(r.session_key), i]));
      const conversions = (await engine.query(`SELECT session_key FROM \`${ds.intermediate}.transactions\` ORDER BY transaction_id`))
        .map((r) => sessionIndex.get(String(r.session_key)) ?? -1);
      const sessions = sessionRows
        .map((r) => [String(r.chain_key), String(r.channel), day(r.session_start_at), Number(r.event_count), r.is_excluded_source === true] as [string, string, number, number, boolean]);
      const journeys = (await engine.query(`SELECT converted, touches FROM \`${ds.intermediate}.conversion_journeys\` ORDER BY journey_key`))
        .map((r) => [r.converted === true, ((r.touches ?? []) as Array<{ channel: string; touch_at: unknown; position: number }>)
          .sort((a, b) => Number(a.position) - Number(b.position)).map((t) => [String(t.channel), day(t.touch_at)] as [string, number])] as [boolean, Array<[string, number]>]);
      const dump: PipelineDump = { family, seed, channels: world.channels.map((c) => c.key), days: world.days, truth, sessions, journeys, conversions, seconds: (Date.now() - t0) / 1000 };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(dump));
      console.log(`${family}/s${seed}: ${sessions.length} sessions, ${journeys.length} journeys, ${journeys.filter((j) => j[0]).length} conversions, ${dump.seconds.toFixed(0)} s`);
    } finally {
      await engine.close();
    }
  }
}
