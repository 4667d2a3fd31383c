/**
 * Declarations of every table no SQLX model builds, from the warehouse catalog (includes/catalog.js):
 * the inputs (on every engine the runner creates the ones not loaded, empty, with their catalog
 * schema) and what the TypeScript jobs and the runner write. Declaring them lets models ref() them;
 * the runner replaces a job output's declaration with its job (matched by table name).
 * Tables only commands and engines use (quarantine, CRM push state, the run lease) are not declared:
 * no model reads them.
 */
const declared = new Set();
const declareOnce = (target) => {
  const key = [target.database || "", target.schema, target.name].join(".");
  if (declared.has(key)) return;
  declared.add(key);
  declare(target);
};
for (const t of catalog.tables) {
  const p = t.producer;
  if (!(p.import || p.job || p.jobs || p.runner)) continue;
  // The GA4 export may live in another project (vars.ga4_project, e.g. bigquery-public-data).
  const database = t.layer === "ga4" && settings.ga4Project ? { database: settings.ga4Project } : {};
  declareOnce({ ...database, schema: settings.datasets[t.layer], name: t.name, description: t.description });
}
// The tables of configured custom-event and cost sources (vars.custom_event_sources, vars.cost_sources): the user's own
// tables, read as they are (a source naming a SQLX model is built by that model in definitions/custom/).
for (const source of [...settings.customEventSources, ...settings.costSources]) {
  if (source.builtin) continue;
  for (const table of [source.table, source.lookup && source.lookup.table]) {
    if (table) declareOnce({ ...table, description: `table of the ${source.name} source (workflow_settings.yaml)` });
  }
}
