/**
 * Datasets and their location: jobs run in one location and read only datasets there, so the engine creates
 * its datasets in it and checks, before the first job, that the declared sources live there too.
 */
import { EngineError, type Target } from "../engine.ts";
import { CallFailed, toEngineError, type Ctx } from "./errors.ts";
import type { BigQueryParts } from "./parts.ts";

/**
 * Create `database.schema` in the configured location unless it exists; fail when it exists elsewhere. Once per
 * engine: a run ensures the datasets of its actions, and the empty sources' dataset once for each table it creates
 * (a daily run on the strict local BigQuery asked datasets.get 23 times, each a serial round trip; 9 with this).
 */
export async function ensureDataset({ cfg, jobs, log, bq, datasetsInLocation }: BigQueryParts, database: string, schema: string): Promise<void> {
  const where = `${database}.${schema}`;
  if (datasetsInLocation.has(where)) return;
  const ctx: Ctx = { action: `ensureDataset ${where}` };
  try {
    const [meta] = await jobs.call("datasets.get", ctx, () => bq.dataset(schema, { projectId: database }).getMetadata());
    const loc = (meta as { location?: string }).location;
    if (loc && loc.toLowerCase() !== cfg.location.toLowerCase()) {
      throw new EngineError({
        engine: "bigquery",
        message: `dataset ${database}.${schema} is in location ${loc}, the configured location is ${cfg.location}`,
        action: ctx.action,
        hint: "jobs run in one location; set the location setting to the dataset's location or use another dataset",
      });
    }
    datasetsInLocation.add(where);
    return;
  } catch (err) {
    if (!(err instanceof CallFailed && err.failure.status === 404)) throw toEngineError(err, ctx, "datasets.get");
  }
  try {
    // A plain datasets.insert: bq.createDataset would copy its options (projectId) into the body.
    await jobs.call("datasets.insert", ctx, () =>
      jobs.clientRequest<unknown>({
        method: "POST",
        uri: "/datasets",
        projectId: database,
        json: { datasetReference: { projectId: database, datasetId: schema }, location: cfg.location },
      }),
    );
    log.info("bigquery dataset created", { dataset: where, location: cfg.location });
  } catch (err) {
    // Another action created it between our get and insert (in the location it asked for, this engine's): fine.
    if (!(err instanceof CallFailed && err.failure.status === 409)) throw toEngineError(err, ctx, "datasets.insert");
  }
  datasetsInLocation.add(where);
}

/**
 * Jobs run in one location and read only datasets there; BigQuery's own answer to a mismatch is a
 * bare "Not found: Dataset … was not found in location EU"
 * (https://cloud.google.com/bigquery/docs/locations#specify_locations). Say which source dataset
 * is where, and what to change, before the first job.
 */
export async function checkSourceLocations({ bq, cfg, jobs, datasetsInLocation }: BigQueryParts, targets: Target[]): Promise<void> {
  const byDataset = new Map<string, Target[]>();
  for (const t of targets) byDataset.set(`${t.database}.${t.schema}`, [...(byDataset.get(`${t.database}.${t.schema}`) ?? []), t]);
  for (const [where, ts] of byDataset) {
    if (datasetsInLocation.has(where)) continue;
    const t = ts[0]!;
    let loc: string | undefined;
    try {
      const [meta] = await jobs.call("datasets.get", { action: `location of ${where}` }, () => bq.dataset(t.schema, { projectId: t.database }).getMetadata());
      loc = (meta as { location?: string }).location;
    } catch (err) {
      if (err instanceof CallFailed && err.failure.status === 404) continue; // created by the run if it is ours
      throw toEngineError(err, { action: `location of ${where}` }, "datasets.get");
    }
    if (loc && loc.toLowerCase() !== cfg.location.toLowerCase()) {
      throw new EngineError({
        engine: "bigquery",
        message: `source dataset ${where} (${ts.map((x) => x.name).join(", ")}) is in location ${loc}; jobs run in ${cfg.location}`,
        hint: `set the location (defaultLocation in workflow_settings.yaml) to ${loc}, or point vars.ga4_project / vars.ga4_dataset / vars.sources_dataset to a copy in ${cfg.location}`,
      });
    }
    if (loc) datasetsInLocation.add(where);
  }
}
