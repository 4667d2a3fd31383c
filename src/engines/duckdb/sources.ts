/**
 * The embedded warehouse's source tables: created empty when a user has not imported them, so a
 * GA4-only (or CRM-only) warehouse still runs the whole DAG. Columns are the importers' contract.
 */
import { SOURCE_SPECS, sourceTableDdl, ga4CreateTableSql } from "../../import/index.ts";
import type { Settings } from "../../config/settings.ts";
import type { DuckDBEngine } from "./engine.ts";
import { duckIdent, duckString, duckTable } from "./quote.ts";

export async function ensureSourceTables(engine: DuckDBEngine, settings: Settings): Promise<string[]> {
  const created: string[] = [];
  const src = settings.datasets.sources;
  await engine.runNative(`CREATE SCHEMA IF NOT EXISTS ${duckIdent(src)}`);
  for (const kind of Object.keys(SOURCE_SPECS) as (keyof typeof SOURCE_SPECS)[]) {
    const t = { schema: src, name: SOURCE_SPECS[kind].table };
    const exists = await engine.queryNative(`SELECT 1 FROM information_schema.tables WHERE table_schema = ${duckString(src)} AND table_name = ${duckString(t.name)}`);
    if (!exists.length) {
      await engine.runNative(`CREATE TABLE ${duckTable(t)} (${sourceTableDdl(kind)})`);
      created.push(`${src}.${t.name}`);
    }
  }
  // Optional inputs: leads (lead scoring; imported leads add their own feature columns), and the ML
  // attribution job's measured incrementality and MMM shares.
  const optional: Record<string, string> = {
    leads: `"lead_id" VARCHAR, "created_at" TIMESTAMP, "converted_at" TIMESTAMP, "converted" BOOLEAN, "user_id" VARCHAR, "client_id" VARCHAR`,
    incrementality_experiments: `"channel" VARCHAR, "period_start" DATE, "period_end" DATE, "incremental_conversions" DOUBLE`,
    mmm_channel_shares: `"channel" VARCHAR, "share" DOUBLE`,
  };
  for (const [name, ddl] of Object.entries(optional)) {
    await engine.runNative(`CREATE TABLE IF NOT EXISTS ${duckTable({ schema: src, name })} (${ddl})`);
  }
  // GA4: an empty day table keeps `events_*` queryable before the first import.
  const ga4 = settings.datasets.ga4;
  await engine.runNative(`CREATE SCHEMA IF NOT EXISTS ${duckIdent(ga4)}`);
  const days = await engine.queryNative(`SELECT 1 FROM information_schema.tables WHERE table_schema = ${duckString(ga4)} AND starts_with(table_name, 'events_')`);
  if (!days.length) {
    await engine.runNative(ga4CreateTableSql(duckTable({ schema: ga4, name: "events_19700101" }), { ifNotExists: true }));
    created.push(`${ga4}.events_19700101`);
  }
  return created;
}
