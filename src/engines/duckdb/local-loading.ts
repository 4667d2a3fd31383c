/** DuckDB's local loading capability (`import`, `demo`): its connection and its storage types. */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { LocalLoading } from "../engine.ts";
import { duckColumnType } from "./types.ts";

/** Local loading over a DuckDB connection (the engine's own, or a bare one in importer tests). */
export function duckLocalLoading(connection: DuckDBConnection): LocalLoading {
  return { connection, columnType: duckColumnType };
}
