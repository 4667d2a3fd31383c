/**
 * Declared inputs (schemas: README "Inputs"; on DuckDB the importers in src/import create them).
 * - GA4 export `events_*` (daily `events_YYYYMMDD` and `events_intraday_YYYYMMDD`) in settings.datasets.ga4.
 * - crm_transactions(transaction_id, user_id, client_id, transaction_created, transaction_status,
 *   transaction_revenue, transaction_region): one row per product line allowed.
 * - custom_events(name, category, time, user_id, client_id, transaction_id, revenue, cost, utm_source,
 *   utm_medium, utm_campaign, utm_term, utm_content, geo_region): all raw STRING; validated in staging.
 * - costs(date DATE, source, medium, campaign, cost FLOAT64, clicks INT64, impressions INT64).
 * - leads (lead scoring; columns per import).
 * - channel_paths_import(path, total_conversions, total_conversion_value, total_null): ChannelAttribution files.
 */
declare({
  ...(settings.ga4Project ? { database: settings.ga4Project } : {}),
  schema: settings.datasets.ga4, name: "events_*", description: "GA4 BigQuery export (daily and intraday tables)",
});
for (const name of ["crm_transactions", "custom_events", "costs", "leads", "channel_paths_import"]) {
  declare({ schema: settings.datasets.sources, name });
}
