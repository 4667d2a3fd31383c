/**
 * Helpers jobs share for reading aggregates and writing model tables: one place that turns
 * warehouse rows into model input rows, with errors naming the table, row and column.
 */
import type { Row } from "../engines/engine.ts";
import { UserError } from "../util/errors.ts";
import { amountProblem } from "../util/amounts.ts";
import { splitChannelPath } from "../models/paths.ts";
import type { ChannelPathRow } from "../models/channel-markov.ts";

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


/** A `channel_paths` row as the path models read it. */
type ChannelPaths = ChannelPathRow & { path: string[]; nulls: number };

/**
 * The one reader of the `channel_paths` aggregate (`table`: its quoted name): channels decoded, oldest
 * touch first; counts checked (an error names the row by its path); rows with an empty path left out;
 * ordered by path. `value`: total_conversion_value too (the models that credit value).
 */
export async function readChannelPaths(query: (sql: string) => Promise<Row[]>, table: string, opts: { value: true }): Promise<(ChannelPaths & { value: number })[]>;
export async function readChannelPaths(query: (sql: string) => Promise<Row[]>, table: string, opts?: { value?: boolean }): Promise<ChannelPaths[]>;
export async function readChannelPaths(query: (sql: string) => Promise<Row[]>, table: string, opts: { value?: boolean } = {}): Promise<ChannelPaths[]> {
  const raw = await query(`SELECT path, total_conversions, ${opts.value ? "total_conversion_value, " : ""}total_null FROM ${table} ORDER BY path`);
  return raw.map((r, i) => ({
    path: splitChannelPath(textOf(r, "path", "channel_paths", i)),
    conversions: countOf(r, "total_conversions", "channel_paths", i, ["path"]),
    ...(opts.value ? { value: countOf(r, "total_conversion_value", "channel_paths", i, ["path"]) } : {}),
    nulls: countOf(r, "total_null", "channel_paths", i, ["path"]),
  })).filter((r) => r.path.length > 0);
}
