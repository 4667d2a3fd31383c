import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadProject } from "../src/compile/project.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import os from "node:os";
import path from "node:path";
import { peakMb, report } from "./measure.ts";

/** Stage of an action: its definitions/ folder, or "jobs". */
function stageOf(file: string | undefined, kind: string): string {
  if (kind === "job") return "jobs (fit)";
  if (kind === "assertion") return "assertions";
  const m = /^definitions\/([^/]+)\//.exec(file ?? "");
  return m ? `sql: ${m[1]}` : "other";
}

const [db] = process.argv.slice(2);
const project = await loadProject(process.cwd(), { jobs: ALL_JOBS });
const engine = await DuckDBEngine.open({ path: db!, memoryLimit: "8GB" });
const t0 = performance.now();
const run = await runGraph({
  graph: project.graph, engine, settings: project.settings, fullRefresh: true,
  artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "fc-bench-artifacts")),
});
const seconds = (performance.now() - t0) / 1000;
await engine.close();
const byStage = new Map<string, number>();
const files = new Map(project.graph.actions.map((a) => [a.name, a]));
for (const a of run.actions) {
  const act = files.get(a.action);
  const st = stageOf(act?.fileName, a.kind);
  byStage.set(st, (byStage.get(st) ?? 0) + (a.endedAt.getTime() - a.startedAt.getTime()) / 1000);
}
// Per-stage memory is not separable inside one process: the whole run's peak is reported below.
const stages = [...byStage.entries()].sort((a, b) => b[1] - a[1]).map(([stage, s]) => ({ stage, seconds: s, peakMb: 0 }));
report({ seconds, peakMb: peakMb(), stages, actions: run.actions.length, status: run.status });
