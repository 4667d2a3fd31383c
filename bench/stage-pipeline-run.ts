import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadProject } from "../src/compile/project.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import os from "node:os";
import path from "node:path";
import { defaultMemoryLimit } from "../src/engines/duckdb/driver.ts";
import { silentProgress } from "../src/runner/progress.ts";
import { loadAverage, peakMb, peakSinceResetMb, report, resetPeak, sampleLoad } from "./measure.ts";

/** Stage of an action: its definitions/ folder, or "jobs". */
function stageOf(file: string | undefined, kind: string): string {
  if (kind === "job") return "jobs (fit)";
  if (kind === "assertion") return "assertions";
  const m = /^definitions\/([^/]+)\//.exec(file ?? "");
  return m ? `sql: ${m[1]}` : "other";
}

// memory limit: `auto` (what a user gets) unless a size is given, to compare limits on one warehouse; then any
// key=value settings (`--vars` of a run: e.g. the jobs' row guards raised at 30M events).
const [db, limitArg, ...varArgs] = process.argv.slice(2);
const vars = Object.fromEntries(varArgs.map((a) => {
  const at = a.indexOf("=");
  if (at <= 0) throw new Error(`stage-pipeline-run: ${JSON.stringify(a)} is not key=value`);
  return [a.slice(0, at), a.slice(at + 1)];
}));
const project = await loadProject(process.cwd(), { jobs: ALL_JOBS, vars });
// The memory limit a user gets (`--memory-limit auto`), not a bigger one the bench would pick.
const memoryLimit = limitArg && limitArg !== "auto" ? limitArg : defaultMemoryLimit();
const engine = await DuckDBEngine.open({ path: db!, memoryLimit });
// Each action's own peak RSS: the peak mark is reset when it starts and read when it ends (actions run one
// at a time on DuckDB).
// CPU seconds too (all threads: Node and DuckDB's), the figure a busy machine inflates least.
const actionPeakMb = new Map<string, number>();
const actionCpu = new Map<string, number>();
// The 1-minute load average when each action ends: on a shared machine it says how far wall time is inflated.
const actionLoad = new Map<string, number>();
let cpuAtStart = process.cpuUsage();
let started: string | undefined;
const progress = {
  ...silentProgress,
  actionStarted: (name: string): void => {
    resetPeak();
    cpuAtStart = process.cpuUsage();
    started = name;
  },
  actionFinished: (name: string): void => {
    // A skipped action (an upstream one failed) never started: it used nothing (it would otherwise be charged with
    // everything since the last action that started).
    if (name !== started) {
      actionPeakMb.set(name, 0);
      actionCpu.set(name, 0);
      actionLoad.set(name, os.loadavg()[0]!);
      return;
    }
    started = undefined;
    actionPeakMb.set(name, peakSinceResetMb());
    const c = process.cpuUsage(cpuAtStart);
    actionCpu.set(name, (c.user + c.system) / 1e6);
    actionLoad.set(name, os.loadavg()[0]!);
  },
};
const cpu0 = process.cpuUsage();
const load = loadAverage();
const sampler = sampleLoad();
const t0 = performance.now();
const run = await runGraph({
  graph: project.graph, engine, settings: project.settings, fullRefresh: true, progress,
  artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "fc-bench-artifacts")),
});
const seconds = (performance.now() - t0) / 1000;
const cpuTotal = process.cpuUsage(cpu0);
await engine.close();
const byStage = new Map<string, { seconds: number; cpuSeconds: number; peakMb: number; slowest: string; slowestSeconds: number; loadSeconds: number }>();
const files = new Map(project.graph.actions.map((a) => [a.name, a]));
for (const a of run.actions) {
  const act = files.get(a.action);
  const st = stageOf(act?.fileName, a.kind);
  const s = (a.endedAt.getTime() - a.startedAt.getTime()) / 1000;
  const f = byStage.get(st) ?? { seconds: 0, cpuSeconds: 0, peakMb: 0, slowest: "", slowestSeconds: 0, loadSeconds: 0 };
  f.seconds += s;
  f.loadSeconds += s * (actionLoad.get(a.action) ?? 0);
  f.cpuSeconds += actionCpu.get(a.action) ?? 0;
  f.peakMb = Math.max(f.peakMb, actionPeakMb.get(a.action) ?? 0);
  if (s > f.slowestSeconds) Object.assign(f, { slowest: a.action, slowestSeconds: s });
  byStage.set(st, f);
}
const stages = [...byStage.entries()].sort((a, b) => b[1].seconds - a[1].seconds)
  // load: the stage's mean 1-minute load average, weighted by its actions' wall time.
  .map(([stage, f]) => ({ stage, seconds: f.seconds, cpuSeconds: f.cpuSeconds, peakMb: f.peakMb, load: f.seconds > 0 ? f.loadSeconds / f.seconds : undefined, note: `slowest ${f.slowest} ${f.slowestSeconds.toFixed(1)} s` }));
const failed = run.actions.filter((a) => a.status === "failed").map((a) => `${a.action}: ${String(a.error ?? "").slice(0, 300)}`);
// The resets above also lower getrusage's maxRSS: the run's peak is the largest of the actions' own peaks.
const runPeakMb = Math.max(peakMb(), ...[...actionPeakMb.values()].filter(Number.isFinite));
// Every action's own figures, for the per-action table and growth (pipeline.ts --actions).
const actions = run.actions.map((a) => ({
  action: a.action, stage: stageOf(files.get(a.action)?.fileName, a.kind), seconds: (a.endedAt.getTime() - a.startedAt.getTime()) / 1000,
  cpuSeconds: actionCpu.get(a.action) ?? 0, peakMb: actionPeakMb.get(a.action) ?? 0,
}));
report({ seconds, cpuSeconds: (cpuTotal.user + cpuTotal.system) / 1e6, peakMb: runPeakMb, stages, perAction: actions, actions: run.actions.length, status: run.status, failed, memoryLimit, load: `${load} → ${loadAverage()}`, meanLoad: sampler.mean() });
