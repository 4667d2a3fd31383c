/**
 * vars.ga4_optional_columns = "auto" resolved from the warehouse before compiling: Dataform compiles
 * SQL without reading the warehouse, and BigQuery rejects a column that the newest `events_` table
 * lacks (exports before mid-2023 have no collected_traffic_source nor batch_event_index). The runner
 * reads the newest GA4 table's schema and passes what it found as the var.
 */
import { qualified, type Engine, type Target } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";

const GA4_OPTIONAL_COLUMNS = ["collected_traffic_source", "batch_event_index"] as const;

/**
 * The value for vars.ga4_optional_columns found in the newest GA4 table (daily before intraday), or
 * undefined when the setting is not "auto" or no GA4 table exists yet (then the compiled default stands).
 * `ga4Database`: the project holding the export (settings.ga4Project or the default project).
 */
export async function resolveGa4OptionalColumns(engine: Engine, settings: Settings, ga4Database: string): Promise<string | undefined> {
  if (!settings.ga4OptionalColumns.auto) return undefined;
  const wildcard: Target = { database: ga4Database, schema: settings.datasets.ga4, name: "events_*" };
  // The wildcard as the run will see it (DuckDB: a view over the day tables, made here before the
  // first run has made it; BigQuery: only the source location check).
  await engine.prepareDeclarations?.([wildcard]);
  // Reads only the pseudo-column: no bytes billed on BigQuery.
  const [row] = await engine.query(
    `SELECT MAX(IF(STARTS_WITH(_TABLE_SUFFIX, 'intraday_'), NULL, _TABLE_SUFFIX)) AS daily, MAX(IF(STARTS_WITH(_TABLE_SUFFIX, 'intraday_'), _TABLE_SUFFIX, NULL)) AS intraday FROM ${qualified(wildcard)}`,
  );
  const suffix = (row?.daily ?? row?.intraday) as string | null | undefined;
  if (!suffix) return undefined;
  const columns = new Set((await engine.tableSchema({ ...wildcard, name: `events_${suffix}` })).map((c) => c.name));
  const found = GA4_OPTIONAL_COLUMNS.filter((c) => columns.has(c));
  return found.length ? found.join(",") : "none";
}
