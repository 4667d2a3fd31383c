/** A bare in-memory DuckDB connection in UTC, for importer and generator tests below the engine. */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { LocalLoading } from "../../src/engines/engine.ts";
import { duckLocalLoading } from "../../src/engines/duckdb/local-loading.ts";

export async function openDb(): Promise<{ conn: DuckDBConnection; local: LocalLoading; close: () => void }> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run("SET TimeZone='UTC'");
  return {
    conn,
    local: duckLocalLoading(conn),
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
