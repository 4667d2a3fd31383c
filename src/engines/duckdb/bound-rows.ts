/**
 * A few rows written as one INSERT with bound parameters instead of through a temporary NDJSON file and `read_json`
 * (DuckDBEngine.writeRows). The run history is appended to after every action: the file, its reader and its clean-up
 * cost more than the commit itself (≈ 25–35 ms against ≈ 10 ms an append on a loaded machine).
 *
 * Only rows whose every value is its column's natural JS value take this way, so that the table gets exactly what
 * `read_json` would have made of the row's JSON: a string for STRING (well-formed UTF-16), a safe integer or a bigint
 * for INT64, a finite number other than -0 for FLOAT64 (JSON has no NaN, infinity or -0), a boolean for BOOL, a
 * valid Date for TIMESTAMP (JSON keeps its milliseconds), a calendar day `YYYY-MM-DD` for DATE, null or undefined for
 * NULL. Anything else (a string for an INT64, NaN, NUMERIC, JSON, STRUCT or ARRAY columns) → undefined: the NDJSON way.
 */
import type { DuckDBType, DuckDBValue } from "@duckdb/node-api";
import type { ColumnSchema, Row } from "../engine.ts";
import { BIGINT, BOOLEAN, DATE, DOUBLE, DuckDBDateValue, DuckDBTimestampValue, TIMESTAMP, VARCHAR } from "./node-api.ts";

/** At most this many rows a statement (parameters: rows × columns). */
export const BOUND_ROWS_MAX = 64;

/** A surrogate that is not half of a pair (in `u` mode a pair is one code point, not a surrogate). */
const LONE_SURROGATE = /\p{Cs}/u;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

type Bind = (v: unknown) => DuckDBValue | undefined;

/** A column's conversion: the bound value, null for NULL, undefined when the value must go the NDJSON way. */
function binderOf(c: ColumnSchema): { type: DuckDBType; bind: Bind } | undefined {
  if (c.mode === "REPEATED") return undefined;
  switch (c.type) {
    case "STRING":
      return { type: VARCHAR, bind: (v) => (typeof v === "string" && !LONE_SURROGATE.test(v) ? v : undefined) };
    case "INT64":
      return { type: BIGINT, bind: (v) => (typeof v === "bigint" ? v : typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : undefined) };
    case "FLOAT64":
      return { type: DOUBLE, bind: (v) => (typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0) ? v : undefined) };
    case "BOOL":
      return { type: BOOLEAN, bind: (v) => (typeof v === "boolean" ? v : undefined) };
    case "TIMESTAMP":
      return {
        type: TIMESTAMP,
        bind: (v) => (v instanceof Date && Number.isFinite(v.getTime()) ? new DuckDBTimestampValue(BigInt(v.getTime()) * 1000n) : undefined),
      };
    case "DATE":
      return {
        type: DATE,
        bind: (v) => {
          const m = typeof v === "string" ? DAY.exec(v) : null;
          if (!m) return undefined;
          const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
          // Date.UTC rolls 2024-02-30 over into March: only a day that reads back the same is one.
          return new Date(ms).toISOString().startsWith(v as string) ? new DuckDBDateValue(ms / MS_PER_DAY) : undefined;
        },
      };
    default:
      return undefined;
  }
}

/** `rows` as `VALUES` text and its parameters, or undefined (see the module's comment). */
export function boundRows(schema: readonly ColumnSchema[], rows: readonly Row[]): { values: string; params: DuckDBValue[]; types: DuckDBType[] } | undefined {
  if (rows.length === 0 || rows.length > BOUND_ROWS_MAX) return undefined;
  const binders = schema.map(binderOf);
  if (binders.some((b) => b === undefined)) return undefined;
  const params: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const marks: string[] = [];
    for (let c = 0; c < schema.length; c++) {
      const v = (row as Record<string, unknown>)[schema[c]!.name];
      if (v === null || v === undefined) {
        marks.push("NULL");
        continue;
      }
      const bound = binders[c]!.bind(v);
      if (bound === undefined) return undefined;
      params.push(bound);
      types.push(binders[c]!.type);
      marks.push(`$${params.length}`);
    }
    tuples.push(`(${marks.join(", ")})`);
  }
  return { values: tuples.join(", "), params, types };
}
