/** `createEngine(config)`: a switch over a closed union that fails loudly on an unknown type. */
import { SettingsError } from "../util/errors.ts";
import type { Engine } from "./engine.ts";
import type { DuckDBConfig } from "./duckdb/engine.ts";
import type { BigQueryConfig } from "./bigquery/engine.ts";

export type EngineConfig = ({ kind: "duckdb" } & DuckDBConfig) | ({ kind: "bigquery" } & BigQueryConfig);

export async function createEngine(config: EngineConfig): Promise<Engine> {
  switch (config.kind) {
    case "duckdb": {
      const { DuckDBEngine } = await import("./duckdb/engine.ts");
      return DuckDBEngine.open(config);
    }
    case "bigquery": {
      const { createBigQueryEngine } = await import("./bigquery/engine.ts");
      return createBigQueryEngine(config);
    }
    default: {
      const kind: never = config;
      throw new SettingsError(`unknown engine ${JSON.stringify((kind as { kind: string }).kind)}: use --engine duckdb or --engine bigquery`);
    }
  }
}
