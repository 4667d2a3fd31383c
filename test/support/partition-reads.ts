/**
 * What each statement of an action read, on DuckDB, by the byte estimator's rules (src/engines/duckdb/scan-bytes.ts):
 * the tables its scans read and, for a partitioned table, the partitions (days) its filters on the partitioning column
 * keep. Worked out right after the action ran, while its script variables are still set on the connection, so a
 * filter on `partition_window_start` prunes as it did in the run.
 */
import type { DuckDBEngine } from "../../src/engines/duckdb/engine.ts";
import { partitionsOfRead, tablesRead, type PartitionColumnOf } from "../../src/engines/duckdb/scan-bytes.ts";

/** [statement kind, "schema.table" read, days read or "all"]: kind is DECLARE, DELETE, INSERT, … or "check" for partitions.checks. */
export type StatementRead = [string, string, string[] | "all"];

export async function statementReads(engine: DuckDBEngine, statements: string[], action: string, partitionColumnOf: PartitionColumnOf): Promise<StatementRead[]> {
  const out: StatementRead[] = [];
  const variables = new Set<string>();
  for (const s of statements) {
    // A DECLARE of two names, or one with its DEFAULT, becomes SET VARIABLE statements joined by ";\n".
    for (const duck of engine.translate(s, action, variables).split(/;\n(?=SET VARIABLE)/)) {
      const set = /^\s*SET\s+VARIABLE\s+\S+\s*=\s*([\s\S]*)$/i.exec(duck);
      const kind = set ? "DECLARE" : /^\s*(?:--[^\n]*\n\s*)*-- \S+: (every|the row conditions)/.test(s) ? "check" : /^\s*(?:--[^\n]*\n\s*)*(\w+)/.exec(s)![1]!.toUpperCase();
      for (const read of await tablesRead(engine, set ? `SELECT ${set[1]}` : duck, partitionColumnOf)) {
        // A scan of no column (COUNT(*), a wildcard's _TABLE_SUFFIX alone) bills nothing: not a read.
        if (!read.columns.length) continue;
        out.push([kind, `${read.schema}.${read.table}`, (await partitionsOfRead(engine, read, partitionColumnOf)) ?? "all"]);
      }
    }
  }
  return out;
}
