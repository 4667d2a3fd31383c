/** DuckDB's local loading capability (`import`, `demo`): its connection, its storage types and its quoting. */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { LocalLoading } from "../engine.ts";
import { duckIdent, duckString } from "./quote.ts";
import { duckColumnType } from "./types.ts";

/** Local loading over a DuckDB connection (the engine's own, or a bare one in importer tests). */
export function duckLocalLoading(connection: DuckDBConnection): LocalLoading {
  return { connection, columnType: duckColumnType, ident: duckIdent, literal: duckString };
}
