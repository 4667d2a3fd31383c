/** Rows into a DuckDB appender: how the demo writes its sessions and source rows without SQL text. */
import type { AppendedCell, LocalLoading } from "../engines/engine.ts";

/** A cell's JS value; TIMESTAMP cells are epoch micros, DATE cells days since 1970-01-01. */
export type Cell = AppendedCell;

/** Append rows to an existing table whose column types are `types`, through the engine's typed cells. */
export async function appendRows(
  local: LocalLoading,
  where: { schema: string; catalog?: string; table: string },
  types: string[],
  rows: Iterable<Cell[]>,
): Promise<number> {
  const a = await local.connection.createAppender(where.table, where.schema, where.catalog ?? null);
  let n = 0;
  try {
    for (const r of rows) {
      for (let i = 0; i < types.length; i++) local.appendCell(a, types[i]!, r[i] ?? null);
      a.endRow();
      n++;
    }
  } finally {
    a.closeSync();
  }
  return n;
}
