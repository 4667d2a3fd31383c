/**
 * The two engines a test runs the same project on: DuckDB in process, and the real BigQuery client
 * against the strict local endpoint (project `STRICT_PROJECT`, every dataset of the project in EU).
 */
import type { Engine } from "../../src/engines/engine.ts";
import type { Project } from "../../src/compile/project.ts";
import { memoryEngine } from "./warehouse.ts";
import { startStrictBigQuery } from "./strict-bigquery.ts";

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
