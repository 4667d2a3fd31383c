/**
 * Writing rows from a job: one load job with a multipart media upload of NDJSON (values.ts), inserted once
 * under an id chosen before submitting (jobs.ts), replacing or appending to the table atomically.
 */
import { Readable } from "node:stream";
import type { BigQuery, JobMetadata } from "@google-cloud/bigquery";
import { EngineError, type ColumnSchema, type Row, type Target, type WriteOptions } from "../engine.ts";
import { optionalNumber as num, toNdjson, toWireSchema } from "./values.ts";
import type { Ctx } from "./errors.ts";
import type { BigQueryParts } from "./parts.ts";

type RequestParts = NonNullable<Parameters<BigQuery["request"]>[0]["multipart"]>;
/**
 * The two parts of a media upload. teeny-request reads `part["Content-Type"]` (its typings say
 * otherwise), and only terminates the multipart body after a *streamed* part: a string media
 * part would leave the request hanging.
 */
function multipartParts(metadataJson: string, media: string): RequestParts {
  return [
    { "Content-Type": "application/json", body: metadataJson },
    { "Content-Type": "application/octet-stream", body: Readable.from([media]) },
  ] as unknown as RequestParts;
}

/** Replace or append to `target` with `rows` (schema `schema`); the rows BigQuery reports loaded. */
export async function loadRows(p: BigQueryParts, target: Target, schema: ColumnSchema[], rows: Row[], opts: WriteOptions): Promise<{ rows: number }> {
  const { bq, cfg, jobs } = p;
  const where = `${target.database}.${target.schema}.${target.name}`;
  const ctx: Ctx = { action: `writeRows ${where}` };
  if (rows.length === 0 && opts.mode === "append") return { rows: 0 };
  let ndjson: string;
  try {
    ndjson = toNdjson(schema, rows);
  } catch (err) {
    throw new EngineError({ engine: "bigquery", message: `cannot write ${where}: ${(err as Error).message}`, action: ctx.action });
  }
  const load: Record<string, unknown> = {
    destinationTable: { projectId: target.database, datasetId: target.schema, tableId: target.name },
    sourceFormat: "NEWLINE_DELIMITED_JSON",
    schema: { fields: toWireSchema(schema) },
    // WRITE_TRUNCATE swaps the table's data and schema atomically when the job commits;
    // a failed load leaves the previous table as it was.
    writeDisposition: opts.mode === "replace" ? "WRITE_TRUNCATE" : "WRITE_APPEND",
    createDisposition: "CREATE_IF_NEEDED",
    // An append whose schema gained a column (a job writing a new metric) would fail "Cannot add
    // fields" without these (https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobConfigurationLoad).
    ...(opts.mode === "append" ? { schemaUpdateOptions: ["ALLOW_FIELD_ADDITION", "ALLOW_FIELD_RELAXATION"] } : {}),
  };
  if (opts.description) load.destinationTableProperties = { description: opts.description };
  const labels = jobs.labelsFor({ labels: { funnelcredit_op: "write_rows" } });
  const uploadUri = `${bq.apiEndpoint}/upload/bigquery/v2/projects/${encodeURIComponent(cfg.projectId)}/jobs`;
  const meta = await jobs.runJob(
    jobs.newJobId({ action: `${target.schema}_${target.name}` }, "load"),
    ctx,
    (jobId) => {
      const resource = {
        jobReference: { projectId: cfg.projectId, jobId, location: cfg.location },
        configuration: { load, labels, ...(cfg.jobTimeoutMs ? { jobTimeoutMs: String(cfg.jobTimeoutMs) } : {}) },
      };
      // A fresh body stream per attempt: a retry cannot re-read a consumed one.
      return jobs.clientRequest<JobMetadata>({
        method: "POST",
        uri: uploadUri,
        qs: { uploadType: "multipart" },
        multipart: multipartParts(JSON.stringify(resource), ndjson),
      });
    },
    (existing) => {
      const d = existing.configuration?.load?.destinationTable;
      return d?.datasetId === target.schema && d?.tableId === target.name;
    },
    "load job",
  );
  const out = num(meta.statistics?.load?.outputRows);
  return { rows: out ?? rows.length };
}
