/** GoogleSQL DDL text from column schemas (pure; the BigQuery engine runs it as is). */
import type { ColumnSchema } from "./types.ts";
import { GOOGLESQL_RESERVED } from "./lexer.ts";

/** A column's GoogleSQL type: `STRING`, `ARRAY<STRUCT<key STRING, value INT64>>`. */
export function googleSqlType(c: ColumnSchema): string {
  const base = c.type === "RECORD"
    ? `STRUCT<${(c.fields ?? []).map((f) => `${quoteName(f.name)} ${googleSqlType(f)}${f.mode === "REQUIRED" ? " NOT NULL" : ""}`).join(", ")}>`
    : c.type;
  return c.mode === "REPEATED" ? `ARRAY<${base}>` : base;
}

/** `name TYPE [NOT NULL], …` — the column list of CREATE TABLE. */
export function googleSqlColumns(columns: readonly ColumnSchema[]): string {
  return columns.map((c) => `${quoteName(c.name)} ${googleSqlType(c)}${c.mode === "REQUIRED" ? " NOT NULL" : ""}`).join(", ");
}

/** A column name as written in DDL: plain when it can be, else in backticks (reserved words, other characters). */
function quoteName(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !GOOGLESQL_RESERVED.has(name.toUpperCase())) return name;
  return "`" + name.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
}
