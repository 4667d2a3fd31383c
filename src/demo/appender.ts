/** Typed cells into a DuckDB appender: how the demo writes its sessions and source rows without SQL text. */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import { DuckDBDateValue, DuckDBTimestampValue } from "../engines/duckdb/node-api.ts";

/** A cell's JS value; TIMESTAMP cells are epoch micros, DATE cells days since 1970-01-01. */
export type Cell = string | number | boolean | null;

export function appendCell(a: DuckDBAppender, type: string, v: Cell): void {
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

/** Append rows to an existing table whose column types are `types`. */
export async function appendRows(
  conn: DuckDBConnection,
  where: { schema: string; catalog?: string; table: string },
  types: string[],
  rows: Iterable<Cell[]>,
): Promise<number> {
  const a = await conn.createAppender(where.table, where.schema, where.catalog ?? null);
  let n = 0;
  try {
    for (const r of rows) {
      for (let i = 0; i < types.length; i++) appendCell(a, types[i]!, r[i] ?? null);
      a.endRow();
      n++;
    }
  } finally {
    a.closeSync();
  }
  return n;
}
