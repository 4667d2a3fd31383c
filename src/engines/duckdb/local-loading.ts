/** DuckDB's local loading capability (`import`, `demo`): its connection, its storage types and its quoting. */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import type { AppendedCell, LocalLoading } from "../engine.ts";
import { DuckDBDateValue, DuckDBTimestampValue } from "./node-api.ts";
import { duckIdent, duckString } from "./quote.ts";
import { duckColumnType } from "./types.ts";
import { byteSize } from "../../util/byte-size.ts";

/** Local loading over a DuckDB connection (the engine's own, or a bare one in importer tests). */
export function duckLocalLoading(connection: DuckDBConnection): LocalLoading {
  return {
    connection,
    columnType: duckColumnType,
    appendCell,
    ident: duckIdent,
    literal: duckString,
    checkpointWhenHolding: () => checkpointWhenHolding(connection),
  };
}

function appendCell(a: DuckDBAppender, type: string, v: AppendedCell): void {
  if (v === null) return a.appendNull();
  switch (type) {
    case "VARCHAR":
      return a.appendVarchar(String(v));
    case "BIGINT":
      return a.appendBigInt(BigInt(v as number));
    case "INTEGER":
      return a.appendInteger(v as number);
    case "DOUBLE":
      return a.appendDouble(v as number);
    case "BOOLEAN":
      return a.appendBoolean(v as boolean);
    case "TIMESTAMP":
      return a.appendTimestamp(new DuckDBTimestampValue(BigInt(v as number)));
    case "DATE":
      return a.appendDate(new DuckDBDateValue(v as number));
    default:
      throw new Error(`appendCell: unsupported type ${type}`);
  }
}

/**
 * Share of memory_limit the new tables may hold before a checkpoint: a quarter, not a half, because a query reserves
 * memory on top (a day's INSERT failed at "47.9 of 48 MiB used" with 24.5 MiB of tables).
 */
const CHECKPOINT_SHARE = 0.25;

/**
 * CHECKPOINT when the tables DuckDB holds in memory pass CHECKPOINT_SHARE of memory_limit. Tables created since the last
 * checkpoint keep blocks in memory (tag IN_MEMORY_TABLE, not evictable) for every leaf column, whatever their rows:
 * the demo generator ran out of its 256 MiB at day 73 of 2,000 users × 120 days (≈ 300 events a day), and
 * `import ga4` of a 400-day, 38 MB export ran out of 1 GB. Counted on that tag alone, not all memory in use:
 * once written, a table's blocks stay cached but can be evicted, and counting them checkpointed after every table.
 * In memory (`:memory:`) CHECKPOINT writes nothing.
 */
async function checkpointWhenHolding(connection: DuckDBConnection): Promise<void> {
  const [row] = (await connection.runAndReadAll(
    `SELECT (SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'), current_setting('memory_limit')`,
  )).getRows();
  if (Number(row?.[0] ?? 0) > CHECKPOINT_SHARE * byteSize(String(row?.[1] ?? ""))) await connection.run("CHECKPOINT");
}
