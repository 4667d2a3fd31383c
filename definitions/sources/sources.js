/**
 * Declarations of every table no SQLX model builds, from the warehouse catalog (includes/catalog.js):
 * the inputs (on every engine the runner creates the ones not loaded, empty, with their catalog
 * schema) and what the TypeScript jobs and the runner write. Declaring them lets models ref() them;
 * the runner replaces a job output's declaration with its job (matched by table name).
 * Tables only commands and engines use (quarantine, CRM push state, the run lease) are not declared:
 * no model reads them.
 */
for (const t of catalog.tables) {
  const p = t.producer;
  if (!(p.import || p.job || p.runner)) continue;
  // The GA4 export may live in another project (vars.ga4_project, e.g. bigquery-public-data).
  const database = t.layer === "ga4" && settings.ga4Project ? { database: settings.ga4Project } : {};
  declare({ ...database, schema: settings.datasets[t.layer], name: t.name, description: t.description });
}
