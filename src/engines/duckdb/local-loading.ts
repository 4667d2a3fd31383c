/** DuckDB's local loading capability (`import`, `demo`): its connection and its storage types. */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { LocalLoading } from "../engine.ts";
import { memoryLimitBytes } from "./memory-limit.ts";
import { duckColumnType } from "./types.ts";

/**
 * Local loading over a DuckDB connection (the engine's own, or a bare one in importer tests).
 * `memoryLimit`: the engine's own memory_limit as opened, restored after `withMemoryLimit`
 * (without it, the connection's current setting is read and restored).
 */
export function duckLocalLoading(connection: DuckDBConnection, memoryLimit?: string): LocalLoading {
  return {
    connection,
    columnType: duckColumnType,
    async withMemoryLimit<T>(limit: string, work: () => Promise<T>): Promise<T> {
      const own = memoryLimit ?? String((await connection.runAndReadAll("SELECT current_setting('memory_limit')")).getRows()[0]![0]);
      const ownBytes = memoryLimitBytes(own);
      const limitBytes = memoryLimitBytes(limit);
      if (limitBytes === undefined) throw new Error(`withMemoryLimit: ${JSON.stringify(limit)} is not a size such as 512MiB`);
      // Only ever lowered: a user who gave a smaller --memory-limit keeps it.
      if (ownBytes !== undefined && ownBytes <= limitBytes) return work();
      await connection.run(`SET memory_limit = '${limit}'`);
      try {
        return await work();
      } finally {
        await connection.run(`SET memory_limit = '${own}'`);
      }
    },
  };
}
