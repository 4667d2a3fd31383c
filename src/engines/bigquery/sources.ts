/**
 * Declared sources a BigQuery project may not have (a GA4-only project has no CRM transactions,
 * custom events, costs, leads or imported paths): created empty before a run, as the DuckDB engine
 * does (src/engines/duckdb/sources.ts), so staging reads an empty table instead of failing
 * "Not found" and skipping every credit table. Only missing tables are created; existing ones are
 * never touched. Column contracts: the importers' SOURCE_SPECS, and for the optional inputs the
 * same columns as the DuckDB side.
 */
import { SOURCE_SPECS } from "../../import/index.ts";
import type { ColumnSchema, ColumnType } from "../engine.ts";

/** The importers' DuckDB column types → GoogleSQL. */
const GOOGLESQL: Record<string, ColumnType> = {
  VARCHAR: "STRING",
  DOUBLE: "FLOAT64",
  BIGINT: "INT64",
  TIMESTAMP: "TIMESTAMP",
  DATE: "DATE",
  BOOLEAN: "BOOL",
};

function googleSqlType(duckType: string, where: string): ColumnType {
  const t = GOOGLESQL[duckType.toUpperCase()];
  if (!t) throw new Error(`source column ${where} has type ${duckType}, which has no GoogleSQL mapping in src/engines/bigquery/sources.ts`);
  return t;
}

/** Table name → columns of every source that may be created empty. */
export function emptySourceSchemas(): Map<string, ColumnSchema[]> {
  const out = new Map<string, ColumnSchema[]>();
  for (const spec of Object.values(SOURCE_SPECS)) {
    out.set(spec.table, spec.columns.map((c) => ({ name: c.name, type: googleSqlType(c.type, `${spec.table}.${c.name}`) })));
  }
  // Optional inputs: leads (imported leads add their own feature columns), the ML attribution job's
  // measured incrementality and MMM shares.
  out.set("leads", [
    { name: "lead_id", type: "STRING" },
    { name: "created_at", type: "TIMESTAMP" },
    { name: "converted_at", type: "TIMESTAMP" },
    { name: "converted", type: "BOOL" },
    { name: "user_id", type: "STRING" },
    { name: "client_id", type: "STRING" },
  ]);
  out.set("incrementality_experiments", [
    { name: "channel", type: "STRING" },
    { name: "period_start", type: "DATE" },
    { name: "period_end", type: "DATE" },
    { name: "incremental_conversions", type: "FLOAT64" },
  ]);
  out.set("mmm_channel_shares", [
    { name: "channel", type: "STRING" },
    { name: "share", type: "FLOAT64" },
  ]);
  return out;
}
