/**
 * What each statement of an action read, on DuckDB, by the byte estimator's rules (src/engines/duckdb/scan-bytes.ts):
 * the tables its scans read and, for a partitioned table, the partitions (days) its filters on the partitioning column
 * keep. Worked out right after the action ran, while its script variables are still set on the connection, so a
 * filter on `partition_window_start` prunes as it did in the run.
 */
import { duckIdent, type DuckDBEngine } from "../../src/engines/duckdb/engine.ts";
import type { Engine, ExecOptions } from "../../src/engines/engine.ts";
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

/**
 * `engine` as an Engine whose `execute` calls `after(statements, opts)` once the statements ran (the
 * action's script variables still set on the connection), and whose `query` calls `afterQuery(sql, opts)` when given:
 * to record what an action read or how DuckDB planned it.
 */
export function afterExecute(
  engine: DuckDBEngine,
  after: (statements: string[], opts: ExecOptions | undefined) => Promise<void>,
  afterQuery?: (sql: string, opts: ExecOptions | undefined) => Promise<void>,
): Engine {
  return new Proxy(engine as Engine, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      const call = v as (...a: unknown[]) => Promise<unknown>;
      if (prop === "execute") {
        return async (statements: string[], opts?: ExecOptions) => {
          const r = await call.call(target, statements, opts);
          await after(statements, opts);
          return r;
        };
      }
      if (prop === "query" && afterQuery) {
        return async (sql: string, opts?: ExecOptions) => {
          const r = await call.call(target, sql, opts);
          await afterQuery(sql, opts);
          return r;
        };
      }
      return call.bind(target);
    },
  });
}

/**
 * The days (partitions) `table` ("schema.table") holds from `from` on, and before `before` when given, as YYYY-MM-DD
 * text in order: what statementReads reports for a read of those partitions. `column`: a DATE, or a TIMESTAMP the
 * table is partitioned by the DATE of.
 */
export async function partitionDays(engine: DuckDBEngine, table: string, column: string, from: string, before?: string): Promise<string[]> {
  const day = `CAST(${duckIdent(column)} AS DATE)`;
  const rows = await engine.queryNative(`SELECT DISTINCT CAST(${day} AS VARCHAR) AS d FROM ${table.split(".").map(duckIdent).join(".")}
    WHERE ${day} >= DATE '${from}'${before ? ` AND ${day} < DATE '${before}'` : ""} ORDER BY 1`);
  return rows.map((r) => String(r.d));
}
