/**
 * Helpers jobs share for reading aggregates and writing model tables: one place that turns
 * warehouse rows into model input rows, with errors naming the table, row and column.
 */
import type { Row } from "../engines/engine.ts";
import { UserError } from "../util/errors.ts";
import { amountProblem } from "../util/amounts.ts";

/** "table row N (key = value, …)": where a bad cell is, by position and by the row's key columns. */
function rowAt(row: Row, table: string, index: number, keyColumns: readonly string[]): string {
  const keys = keyColumns.map((k) => `${k} = ${JSON.stringify(row[k] instanceof Date ? (row[k] as Date).toISOString() : row[k])}`);
  return `${table} row ${index + 1}${keys.length ? ` (${keys.join(", ")})` : ""}`;
}

/** A cell as a user reads it: NaN, Infinity and -Infinity by name (JSON.stringify would print null). */
function shown(v: unknown): string {
  return typeof v === "number" || typeof v === "bigint" ? String(v) : JSON.stringify(v);
}

/**
 * A finite, non-negative number from a warehouse cell, or an error naming the table, the row (its position
 * and `keyColumns`), the column and the value (NaN, Infinity, negative, not a number). NULL reads as 0.
 */
export function countOf(row: Row, column: string, table: string, index: number, keyColumns: readonly string[] = []): number {
  const v = row[column];
  const n = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : v === null ? 0 : Number(v);
  const problem = amountProblem(n);
  if (problem) {
    const what = typeof v === "number" || typeof v === "bigint" ? (problem === "negative" ? `negative (${shown(v)})` : shown(v)) : `${shown(v)}, not a number`;
    throw new UserError(`${rowAt(row, table, index, keyColumns)}: column ${column} is ${what}; it must be a finite, non-negative number (a NaN or infinite amount upstream? staging sets those aside in amount_quarantine)`);
  }
  return n;
}

export function textOf(row: Row, column: string, table: string, index: number): string {
  const v = row[column];
  if (typeof v !== "string") throw new UserError(`${table} row ${index + 1}: column ${column} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

