/**
 * The channel Markov on 1,000,000 path rows, the engine's way: import the gzip CSV into DuckDB,
 * aggregate to distinct paths in SQL (the channel_paths model with path_source = import), pull the
 * aggregate, fit the exact model (order 1, with nulls).
 */
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { importCsvOrNdjson } from "../src/import/index.ts";
import { loadProject } from "../src/compile/project.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { peakMb, report } from "./measure.ts";

const FILE = path.resolve(process.cwd(), "..", "shared", "data", "channelattribution-synthetic-1m", "synthetic_1m_paths.csv.gz");
const dir = mkdtempSync(path.join(os.tmpdir(), "fc-bench-markov-"));
const project = await loadProject(process.cwd(), { vars: { path_source: "import" }, jobs: ALL_JOBS });
const engine = await DuckDBEngine.open({ path: path.join(dir, "w.duckdb"), memoryLimit: "8GB" });
await ensureSourceTables(engine, project.settings);
const stages: { stage: string; seconds: number; peakMb: number; note?: string }[] = [];
let t = performance.now();
const imp = await importCsvOrNdjson(engine.localLoading, "paths", FILE, { schema: project.settings.datasets.sources });
stages.push({ stage: "import CSV.gz into DuckDB", seconds: (performance.now() - t) / 1000, peakMb: peakMb(), note: `${imp.rows.toLocaleString("en-US")} rows` });
t = performance.now();
const run = await runGraph({
  graph: project.graph, engine, settings: project.settings, fullRefresh: true, recordHistory: false,
  selection: { actions: ["channel_paths", "channel_markov"] },
  artifacts: new LocalArtifactStore(path.join(dir, "artifacts")),
});
const total = (performance.now() - t) / 1000;
for (const a of run.actions) {
  stages.push({ stage: a.kind === "job" ? "fit (pull aggregate + exact solve + write)" : a.kind === "assertion" ? "uniqueness assertion" : "aggregate paths in SQL", seconds: (a.endedAt.getTime() - a.startedAt.getTime()) / 1000, peakMb: peakMb(), note: a.status === "succeeded" ? (a.metrics ? `${a.metrics.paths} paths` : "") : a.error });
}
stages.push({ stage: "aggregate + fit", seconds: total, peakMb: peakMb() });
await engine.close();
rmSync(dir, { recursive: true, force: true });
report({ stages });
