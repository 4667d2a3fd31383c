/**
 * The loading pattern every importer follows, so that a failed import never leaves a half-written table:
 * 1. stream the file, check its syntax in JS and append raw text into a connection-local TEMP staging
 *    table (`_line` + VARCHAR columns);
 * 2. validate types with DuckDB's own casts in one scan, reporting the first bad line and field
 *    (quarantine mode, see quarantine.ts: every bad row is set aside instead, up to vars.bad_row_max_share);
 * 3. swap the typed rows into the target tables in one transaction (all tables or none).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { InputError } from "../util/errors.ts";
import type { LocalLoading, SqlQuoting } from "../engines/engine.ts";

let stagingCounter = 0;

/** A fresh name for a TEMP staging table (connection-local, dropped by the importer). */
export function stagingName(prefix: string): string {
  stagingCounter++;
  return `fc_${prefix}_${process.pid}_${stagingCounter}`;
}

export interface StagedRow {
  line: number;
  values: (string | null)[];
}

/**
 * Create `temp.<name>(_line BIGINT, <columns> VARCHAR)` and append rows. Returns the row count.
 * `extra` columns may be given with their own DuckDB type (values appended as VARCHAR and cast).
 */
export async function stageRows(
  local: LocalLoading,
  name: string,
  columns: readonly string[],
  rows: AsyncIterable<StagedRow>,
): Promise<number> {
  const { connection: conn, ident: q } = local;
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${q(name)} (_line BIGINT, ${columns.map((c) => `${q(c)} VARCHAR`).join(", ")})`);
  const appender = await conn.createAppender(name, "main", "temp");
  let count = 0;
  try {
    for await (const row of rows) {
      appender.appendBigInt(BigInt(row.line));
      for (const v of row.values) {
        if (v === null) appender.appendNull();
        else appender.appendVarchar(v);
      }
      appender.endRow();
      count++;
    }
  } finally {
    appender.closeSync();
  }
  return count;
}

/**
 * Drops the hidden tables `stagingName(prefix)` + `rest` (a regular expression) that an import of another process,
 * killed before it finished, left in `schema`. This process's own are kept (an import may be running on another
 * connection); DuckDB lets one process at a time write a database file.
 */
export async function dropLeftoverTables(local: LocalLoading, schema: string, prefix: string, rest = "$"): Promise<void> {
  const { connection: conn, ident: q, literal: lit } = local;
  const found = (await conn.runAndReadAll(
    `SELECT table_name FROM duckdb_tables() WHERE schema_name = ${lit(schema)} AND NOT temporary ` +
      `AND regexp_matches(table_name, ${lit(`^fc_${prefix}_[0-9]+_[0-9]+${rest}`)}) AND NOT starts_with(table_name, ${lit(`fc_${prefix}_${process.pid}_`)})`,
  )).getRows().map((r) => String(r[0]));
  for (const t of found) await conn.run(`DROP TABLE IF EXISTS ${q(schema)}.${q(t)}`);
}

export async function dropTemp(local: LocalLoading, name: string): Promise<void> {
  try {
    await local.connection.run(`DROP TABLE IF EXISTS temp.main.${local.ident(name)}`);
  } catch {
    // the connection may already be closed; the TEMP table dies with it.
  }
}

/** `YYYYMMDD` naming a real calendar day (20240132 and 00000000 do not). */
export function isCalendarDay(s: string): boolean {
  if (!/^[0-9]{8}$/.test(s)) return false;
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(4, 6));
  const d = Number(s.slice(6, 8));
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** Target column types of source tables (DuckDB names). */
export type SourceType = "VARCHAR" | "DOUBLE" | "BIGINT" | "BOOLEAN" | "DATE" | "TIMESTAMP";

/** Epoch timestamps from this value on are milliseconds, below it seconds (see convertSql). */
const EPOCH_MILLIS_FROM = 100_000_000_000;

const TRUE_WORDS = ["true", "t", "yes", "y", "1"];
const FALSE_WORDS = ["false", "f", "no", "n", "0"];

/**
 * The SQL expression converting VARCHAR `x` to `type`; NULL where `x` does not parse.
 * Timestamps with an offset (`Z`, `+02:00`) are converted to UTC; naive ones are taken as UTC.
 */
export function convertSql(quoting: SqlQuoting, x: string, type: SourceType): string {
  const lit = quoting.literal;
  const t = `trim(${x})`;
  switch (type) {
    case "VARCHAR":
      return x;
    case "DOUBLE":
      // DuckDB's cast of text skips ASCII blanks around the number itself and refuses anything else around it, so
      // a value it converts converts to the same number trimmed: trim (a copy of every value) runs only on the values
      // it refused, such as one padded with U+00A0 or U+3000.
      return `COALESCE(TRY_CAST(${x} AS DOUBLE), TRY_CAST(${t} AS DOUBLE))`;
    case "BIGINT":
      return `CASE WHEN regexp_full_match(${t}, '[+-]?[0-9]+') THEN TRY_CAST(${t} AS BIGINT) END`;
    case "BOOLEAN":
      return `CASE WHEN lower(${t}) IN (${TRUE_WORDS.map(lit).join(", ")}) THEN TRUE WHEN lower(${t}) IN (${FALSE_WORDS.map(lit).join(", ")}) THEN FALSE END`;
    case "DATE":
      return `COALESCE(TRY_CAST(${t} AS DATE), CASE WHEN regexp_full_match(${t}, '[0-9]{8}') THEN TRY_CAST(TRY_STRPTIME(${t}, '%Y%m%d') AS DATE) END)`;
    case "TIMESTAMP":
      // Epoch numbers (CRM exports): 9 to 13 digits; below 10^11 they count seconds since 1970-01-01 UTC,
      // from 10^11 on milliseconds (10^11 s is the year 5138, 10^11 ms is 1973, so the ranges cannot be confused).
      return `CASE WHEN regexp_full_match(${t}, '[0-9]{9,13}(\\.[0-9]{1,6})?') THEN make_timestamp(TRY_CAST(TRY_CAST(${t} AS DECIMAL(24, 6)) * CASE WHEN TRY_CAST(${t} AS DECIMAL(24, 6)) < ${EPOCH_MILLIS_FROM} THEN 1000000 ELSE 1000 END AS BIGINT)) ` +
        `WHEN regexp_matches(${t}, '[0-9]:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)? ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') THEN timezone('UTC', TRY_CAST(${t} AS TIMESTAMPTZ)) ELSE TRY_CAST(${t} AS TIMESTAMP) END`;
  }
}

const EXPECTED: Record<SourceType, string> = {
  VARCHAR: "text",
  DOUBLE: "a number",
  BIGINT: "an integer",
  BOOLEAN: "a boolean (true/false, yes/no, 1/0)",
  DATE: "a date (YYYY-MM-DD)",
  TIMESTAMP: "a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff], optionally with Z or ±HH:MM, or epoch seconds / milliseconds)",
};

export interface ColumnCheck {
  /** Column of the staging table. */
  column: string;
  /** Name shown in errors (the file's header). */
  field: string;
  type: SourceType;
  /** The value may not be NULL/empty. */
  required?: boolean;
  /** The value may not be negative (numbers). */
  nonNegative?: boolean;
}

/**
 * Dates and times outside this range are bad rows (a CRM's 1970-01-01 placeholder, a clock years
 * ahead): earliest allowed, and how far past "now" a value may be (clock skew, time zones).
 */
export const EARLIEST_PLAUSIBLE_TIME = "1990-01-01";
export const FUTURE_TOLERANCE_DAYS = 2;

/** One validation rule over a staged column: the SQL finding violations and the reason (JS and SQL). */
export interface CheckCondition {
  check: ColumnCheck;
  sql: string;
  reason: (v: string | null) => string;
  reasonSql: string;
}

/** The rules of `checks`, in order (the first a row breaks is the one reported). */
export function checkConditions(quoting: SqlQuoting, checks: readonly ColumnCheck[], now: Date = new Date()): CheckCondition[] {
  const { ident: q, literal: lit } = quoting;
  const conds: CheckCondition[] = [];
  const latest = new Date(now.getTime() + FUTURE_TOLERANCE_DAYS * 86_400_000).toISOString().replace("T", " ").replace("Z", "");
  for (const c of checks) {
    const col = q(c.column);
    const got = `CAST(to_json(${col}) AS VARCHAR)`;
    if (c.required) {
      conds.push({ check: c, sql: `${col} IS NULL OR trim(${col}) = ''`, reason: () => "a value is required here", reasonSql: lit("a value is required here") });
    }
    if (c.type !== "VARCHAR") {
      conds.push({
        check: c,
        sql: `${col} IS NOT NULL AND trim(${col}) <> '' AND ${convertSql(quoting, col, c.type)} IS NULL`,
        reason: (v) => `expected ${EXPECTED[c.type]}, got ${JSON.stringify(v)}`,
        reasonSql: `${lit(`expected ${EXPECTED[c.type]}, got `)} || ${got}`,
      });
    }
    // NaN, ±Infinity and overflowing literals (1e309) parse as DOUBLE but are no amounts: a NaN revenue
    // turns every credit sum it reaches into NaN, and -inf passes a "not negative" check written as `>= 0`.
    if (c.type === "DOUBLE") {
      conds.push({
        check: c,
        sql: `NOT isfinite(${convertSql(quoting, col, c.type)})`,
        reason: (v) => `must be a finite number, got ${JSON.stringify(v)}`,
        reasonSql: `${lit("must be a finite number, got ")} || ${got}`,
      });
    }
    if (c.nonNegative) {
      conds.push({
        check: c,
        sql: `${convertSql(quoting, col, c.type)} < 0`,
        reason: (v) => `must not be negative, got ${JSON.stringify(v)}`,
        reasonSql: `${lit("must not be negative, got ")} || ${got}`,
      });
    }
    if (c.type === "TIMESTAMP" || c.type === "DATE") {
      const v = `CAST(${convertSql(quoting, col, c.type)} AS TIMESTAMP)`;
      conds.push({
        check: c,
        sql: `${v} < TIMESTAMP ${lit(EARLIEST_PLAUSIBLE_TIME)}`,
        reason: (x) => `is before ${EARLIEST_PLAUSIBLE_TIME}, got ${JSON.stringify(x)} (a placeholder date?)`,
        reasonSql: `${lit(`is before ${EARLIEST_PLAUSIBLE_TIME}, got `)} || ${got} || ' (a placeholder date?)'`,
      });
      conds.push({
        check: c,
        sql: `${v} > TIMESTAMP ${lit(latest)}`,
        reason: (x) => `is in the future, got ${JSON.stringify(x)}`,
        reasonSql: `${lit("is in the future, got ")} || ${got}`,
      });
    }
  }
  return conds;
}

/**
 * Validate staged values in one scan; throw an InputError for the first bad line (ties: the first
 * check in `checks` order).
 */
export async function validateStaged(
  local: LocalLoading,
  staging: string,
  file: string,
  checks: readonly ColumnCheck[],
): Promise<void> {
  const { connection: conn, ident: q } = local;
  const conds = checkConditions(local, checks);
  if (conds.length === 0) return;
  const sql = `SELECT ${conds.map((c, i) => `min(CASE WHEN ${c.sql} THEN _line END) AS b${i}`).join(", ")} FROM temp.main.${q(staging)}`;
  const row = (await conn.runAndReadAll(sql)).getRows()[0] ?? [];
  let best = -1;
  let bestLine = Infinity;
  row.forEach((v, i) => {
    if (v !== null && Number(v) < bestLine) {
      bestLine = Number(v);
      best = i;
    }
  });
  if (best < 0) return;
  const bad = conds[best]!;
  const valueRows = (
    await conn.runAndReadAll(
      `SELECT ${q(bad.check.column)} FROM temp.main.${q(staging)} WHERE _line = ${bestLine} LIMIT 1`,
    )
  ).getRows();
  const value = (valueRows[0]?.[0] ?? null) as string | null;
  throw new InputError(file, bestLine, bad.check.field, bad.reason(value));
}

/**
 * Run statements in one transaction: all take effect or none. A failure rolls back and rethrows.
 */
export async function inTransaction(conn: DuckDBConnection, statements: readonly string[]): Promise<void> {
  await conn.run("BEGIN TRANSACTION");
  try {
    for (const s of statements) await conn.run(s);
    await conn.run("COMMIT");
  } catch (e) {
    await conn.run("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

export async function tableExists(local: LocalLoading, schema: string, table: string): Promise<boolean> {
  const lit = local.literal;
  const r = await local.connection.runAndReadAll(
    `SELECT 1 FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = ${lit(schema)} AND table_name = ${lit(table)}`,
  );
  return r.getRows().length > 0;
}

export type ImportMode = "replace" | "append";

/**
 * Statements that put `selectSql`'s rows into `schema.table` with columns `ddl`:
 * replace → CREATE OR REPLACE; append → CREATE IF NOT EXISTS + INSERT BY NAME.
 */
export function writeStatements(
  quoting: SqlQuoting,
  schema: string,
  table: string,
  ddl: string,
  selectSql: string,
  mode: ImportMode,
): string[] {
  const q = quoting.ident;
  const target = `${q(schema)}.${q(table)}`;
  return [
    `CREATE SCHEMA IF NOT EXISTS ${q(schema)}`,
    mode === "replace" ? `CREATE OR REPLACE TABLE ${target} (${ddl})` : `CREATE TABLE IF NOT EXISTS ${target} (${ddl})`,
    `INSERT INTO ${target} BY NAME ${selectSql}`,
  ];
}
