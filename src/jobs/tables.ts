/**
 * Helpers jobs share for reading aggregates and writing model tables: one place that turns
 * warehouse rows into model input rows, with errors naming the table, row and column.
 */
import type { Row } from "../engines/engine.ts";
import { UserError } from "../util/errors.ts";

/** A finite, non-negative number from a warehouse cell, or a clear error. */
export function countOf(row: Row, column: string, table: string, index: number): number {
  const v = row[column];
  const n = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : v === null ? 0 : Number(v);
  if (!Number.isFinite(n) || n < 0) {
    throw new UserError(`${table} row ${index + 1}: column ${column} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function textOf(row: Row, column: string, table: string, index: number): string {
  const v = row[column];
  if (typeof v !== "string") throw new UserError(`${table} row ${index + 1}: column ${column} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

