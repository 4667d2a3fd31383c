/** A bare in-memory DuckDB connection in UTC, for importer and generator tests below the engine. */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";

export async function openDb(): Promise<{ conn: DuckDBConnection; close: () => void }> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run("SET TimeZone='UTC'");
  return {
    conn,
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
