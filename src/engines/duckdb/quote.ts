/** The one place DuckDB identifiers and string literals are quoted (engine, translator, importers). */
import type { Target } from "../engine.ts";

/** A DuckDB identifier: "name", with embedded quotes doubled. */
export function duckIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** A DuckDB string literal (standard SQL: no backslash escapes, quotes doubled). */
export function duckString(value: string): string {
  return "'" + value.replace(/'/g, "''") + "'";
}

/** "schema"."table" of a target (the project is dropped: one file is one project). */
export function duckTable(t: Pick<Target, "schema" | "name">): string {
  return `${duckIdent(t.schema)}.${duckIdent(t.name)}`;
}
