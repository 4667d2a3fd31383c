/**
 * The two engines a test runs the same project on: DuckDB in process, and the real BigQuery client
 * against the strict local endpoint (project `STRICT_PROJECT`, every dataset of the project in EU).
 */
import os from "node:os";
import path from "node:path";
import type { Engine } from "../../src/engines/engine.ts";
import type { Project } from "../../src/compile/project.ts";
import type { DuckDBEngine } from "../../src/engines/duckdb/engine.ts";
import { ensureSourceTables } from "../../src/catalog/index.ts";
import { generateDemo } from "../../src/demo/generate.ts";
import { runGraph } from "../../src/runner/runner.ts";
import { LocalArtifactStore } from "../../src/artifacts/store.ts";
import { assertRunSucceeded, memoryEngine } from "./warehouse.ts";
import { startStrictBigQuery, type StrictBigQuery } from "./strict-bigquery.ts";

export const STRICT_PROJECT = "funnelcredit-local";

export interface Warehouse { engine: Engine; database: string; close(): Promise<void> }

export const BOTH_ENGINES: { name: string; open(project: Project): Promise<Warehouse> }[] = [
  { name: "duckdb", async open() { const engine = await memoryEngine(); return { engine, database: "", close: () => engine.close() }; } },
  {
    name: "bigquery (strict local endpoint)",
    async open(project) {
      const bq = await startStrictBigQuery({ projectId: STRICT_PROJECT, location: "EU" });
      for (const d of Object.values(project.settings.datasets)) bq.addDataset(d, "EU");
      return { engine: bq.engine(), database: STRICT_PROJECT, close: () => bq.close() };
    },
  },
];

/** The demo sample the SQL credit models are compared on across the engines: small, and every channel with sessions. */
const DEMO_SAMPLE = { users: 400, days: 10, seed: 7, intradayDays: 0 };

/**
 * The demo sample generated into `engine` (DuckDB) and into a strict local BigQuery, then `actions` and what they read
 * run on both (full refresh, a fixed clock). Returns the BigQuery side for the caller to read and close.
 */
export async function runDemoSampleOnBothEngines(engine: DuckDBEngine, project: Project, actions: string[]): Promise<StrictBigQuery> {
  const ds = project.settings.datasets;
  const bq = await startStrictBigQuery({ projectId: STRICT_PROJECT, location: "EU" });
  try {
    bq.addDataset(ds.ga4, "EU");
    bq.addDataset(ds.sources, "EU");
    await generateDemo(bq.duck.localLoading, { ...DEMO_SAMPLE, ga4Schema: `${STRICT_PROJECT}/${ds.ga4}`, sourcesSchema: `${STRICT_PROJECT}/${ds.sources}` });
    await generateDemo(engine.localLoading, { ...DEMO_SAMPLE, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
    const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-demo-both-engines"));
    for (const e of [engine, bq.engine()] as Engine[]) {
      await ensureSourceTables(e, project.settings, e === engine ? "" : STRICT_PROJECT);
      assertRunSucceeded(await runGraph({ graph: project.graph, engine: e, settings: project.settings, artifacts, now: () => new Date("2026-06-01T00:00:00Z"), fullRefresh: true,
        selection: { actions, includeDependencies: true } }));
    }
    return bq;
  } catch (e) {
    await bq.close();
    throw e;
  }
}
