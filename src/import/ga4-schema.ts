/**
 * DuckDB forms of the GA4 export schema (src/catalog/ga4-events.ts) for the importer and the demo:
 * the CREATE TABLE column list, the row STRUCT type and the json_transform structure.
 */
import type { ColumnSchema } from "../engines/engine.ts";
import { duckColumnType } from "../engines/duckdb/types.ts";
import { GA4_EVENTS_SCHEMA, ga4Field } from "../catalog/ga4-events.ts";

export { GA4_EVENTS_SCHEMA, ga4Field };

/** Bookkeeping fields of shared/ extracts that are not part of the export and are dropped on import. */
export const GA4_BOOKKEEPING_FIELDS: readonly string[] = ["_source_table", "_source_variant"];

/** `"event_date" VARCHAR, "event_timestamp" BIGINT, …` — the column list of CREATE TABLE. */
export const GA4_COLUMNS_DDL: string = GA4_EVENTS_SCHEMA.map((c) => `"${c.name}" ${duckColumnType(c)}`).join(", ");

/** One DuckDB type for a whole event row: `STRUCT("event_date" VARCHAR, …)`. */
export const GA4_EVENT_ROW_TYPE: string = `STRUCT(${GA4_COLUMNS_DDL})`;

/** DuckDB type of one top-level column, e.g. `ga4ColumnType("event_params")`. */
export function ga4ColumnType(name: string): string {
  const c = GA4_EVENTS_SCHEMA.find((x) => x.name === name);
  if (!c) throw new Error(`not a GA4 export column: ${name}`);
  return duckColumnType(c);
}

function jsonStructure(c: ColumnSchema): unknown {
  let base: unknown;
  if (c.type === "RECORD") {
    const o: Record<string, unknown> = {};
    for (const f of c.fields ?? []) o[f.name] = jsonStructure(f);
    base = o;
  } else {
    base = duckColumnType({ ...c, mode: undefined });
  }
  return c.mode === "REPEATED" ? [base] : base;
}

/** The `json_transform` structure of one event row (JSON text). Unknown keys are ignored by DuckDB. */
export const GA4_JSON_STRUCTURE: string = JSON.stringify(
  Object.fromEntries(GA4_EVENTS_SCHEMA.map((c) => [c.name, jsonStructure(c)])),
);

/** `CREATE TABLE <name> (<GA4 columns>)`; `name` must already be quoted. */
export function ga4CreateTableSql(quotedName: string, opts: { orReplace?: boolean; ifNotExists?: boolean } = {}): string {
  return `CREATE ${opts.orReplace ? "OR REPLACE " : ""}TABLE ${opts.ifNotExists ? "IF NOT EXISTS " : ""}${quotedName} (${GA4_COLUMNS_DDL})`;
}
