/**
 * Local-engine forms of the GA4 export schema (src/catalog/ga4-events.ts) for the importer and the
 * demo: the CREATE TABLE column list, the row STRUCT type and the json_transform structure, in the
 * types of the engine that loads (LocalLoading.columnType).
 */
import type { ColumnSchema, LocalLoading } from "../engines/engine.ts";
import { GA4_EVENTS_SCHEMA, ga4Field } from "../catalog/ga4-events.ts";

export { GA4_EVENTS_SCHEMA, ga4Field };

/** Bookkeeping fields of shared/ extracts that are not part of the export and are dropped on import. */
export const GA4_BOOKKEEPING_FIELDS: readonly string[] = ["_source_table", "_source_variant"];

/** The GA4 export in a local engine's types (LocalLoading.columnType). */
interface Ga4LocalTypes {
  /** `"event_date" VARCHAR, "event_timestamp" BIGINT, …` — the column list of CREATE TABLE. */
  columnsDdl: string;
  /** One type for a whole event row: `STRUCT("event_date" VARCHAR, …)`. */
  eventRowType: string;
  /** The `json_transform` structure of one event row (JSON text). Unknown keys are ignored by DuckDB. */
  jsonStructure: string;
}

/** The GA4 export's column list, row type and json_transform structure in the types of `columnType`. */
export function ga4LocalTypes(columnType: LocalLoading["columnType"]): Ga4LocalTypes {
  const jsonStructure = (c: ColumnSchema): unknown => {
    let base: unknown;
    if (c.type === "RECORD") {
      const o: Record<string, unknown> = {};
      for (const f of c.fields ?? []) o[f.name] = jsonStructure(f);
      base = o;
    } else {
      base = columnType({ ...c, mode: undefined });
    }
    return c.mode === "REPEATED" ? [base] : base;
  };
  const columnsDdl = GA4_EVENTS_SCHEMA.map((c) => `"${c.name}" ${columnType(c)}`).join(", ");
  return {
    columnsDdl,
    eventRowType: `STRUCT(${columnsDdl})`,
    jsonStructure: JSON.stringify(Object.fromEntries(GA4_EVENTS_SCHEMA.map((c) => [c.name, jsonStructure(c)]))),
  };
}

/** `CREATE TABLE <name> (<GA4 columns>)` on a local engine; `name` must already be quoted. */
export function ga4CreateTableSql(local: Pick<LocalLoading, "columnType">, quotedName: string, opts: { orReplace?: boolean; ifNotExists?: boolean } = {}): string {
  return `CREATE ${opts.orReplace ? "OR REPLACE " : ""}TABLE ${opts.ifNotExists ? "IF NOT EXISTS " : ""}${quotedName} (${ga4LocalTypes(local.columnType).columnsDdl})`;
}
