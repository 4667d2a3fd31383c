/**
 * The BigQuery engine: GoogleSQL runs as is, as BigQuery jobs submitted through the official
 * client (`@google-cloud/bigquery` 8.3) over REST.
 *
 * Reliability rules (why the code looks the way it does):
 * - Every job gets an id we choose *before* submitting (deterministic from opts.jobId, else
 *   generated once per call), so a retried insert whose first attempt did reach BigQuery answers
 *   409 "Already Exists" and we attach to that job instead of running the SQL twice.
 * - Retries are ours alone: the client's auto-retry is switched off (`retryOptions.autoRetry:
 *   false` for clients we build, and a request interceptor forcing `maxRetries: 0` for injected
 *   clients), so attempts are counted, logged and bounded in one place.
 * - Errors leave as `EngineError` with job id, action and SQL, and a sanitised cause: the
 *   client's own error carries the HTTP request, Authorization header included, so it is never
 *   attached or logged.
 *
 * The parts: client.ts (the client, library retries off), jobs.ts (calls, job insert/poll/retry/cancel),
 * errors.ts, script.ts (statements → one script), values.ts (wire values), this file (the Engine).
 */
import { Readable } from "node:stream";
import type { BigQuery, JobMetadata } from "@google-cloud/bigquery";
import {
  EngineError,
  type ColumnSchema,
  type DryRunResult,
  type Engine,
  type ExecOptions,
  type ExecResult,
  type Row,
  type Target,
  type WriteOptions,
  type TableShape,
} from "../engine.ts";
import { quietLogger } from "../../util/logger.ts";
import { createMissingTables } from "./empty-tables.ts";
import { decodeRow, fromWireSchema, optionalNumber as num, toNdjson, toWireSchema, type WireField, type WireRow } from "./values.ts";
import { createBigQueryClient, disableLibraryRetries, type BigQueryConfig, type BigQueryEngineDeps } from "./client.ts";
import { CallFailed, engineError, jobFailure, toEngineError, type Ctx } from "./errors.ts";
import { buildScript } from "./script.ts";
import { createJobRunner } from "./jobs.ts";

export { createBigQueryClient, type BigQueryConfig, type BigQueryEngineDeps } from "./client.ts";
export { buildScript } from "./script.ts";

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

/** The part of a jobs.getQueryResults answer we read. */
interface ResultsPage {
  jobComplete?: boolean;
  schema?: { fields?: WireField[] };
  rows?: WireRow[];
  pageToken?: string;
  totalRows?: string;
}


export function createBigQueryEngine(cfg: BigQueryConfig, deps: BigQueryEngineDeps = {}): Engine {
  const bq = deps.client ?? createBigQueryClient(cfg, deps.authClient);
  disableLibraryRetries(bq);
  const log = deps.logger ?? quietLogger;
  const pageSize = cfg.pageSize ?? 10_000;
  const jobs = createJobRunner(bq, cfg, deps);
  const { call, labelsFor, newJobId, runJob, runQueryJob, scriptDmlRows, clientRequest, sleep } = jobs;

  /**
   * Jobs run in one location and read only datasets there; BigQuery's own answer to a mismatch is a
   * bare "Not found: Dataset … was not found in location EU"
   * (https://cloud.google.com/bigquery/docs/locations#specify_locations). Say which source dataset
   * is where, and what to change, before the first job.
   */
  async function checkSourceLocations(targets: Target[]): Promise<void> {
    const byDataset = new Map<string, Target[]>();
    for (const t of targets) byDataset.set(`${t.database}.${t.schema}`, [...(byDataset.get(`${t.database}.${t.schema}`) ?? []), t]);
    for (const [where, ts] of byDataset) {
      const t = ts[0]!;
      let loc: string | undefined;
      try {
        const [meta] = await call("datasets.get", { action: `location of ${where}` }, () => bq.dataset(t.schema, { projectId: t.database }).getMetadata());
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
    }
  }

  const engine: Engine = {
    kind: "bigquery",
    capabilities: { dryRunBytes: true, parallelActions: true, partitions: true, tableWriteQuotas: true },
    dryRunBytesSource: "BigQuery dry runs",
    ...(cfg.maximumBytesBilled && Number(cfg.maximumBytesBilled) > 0 ? { maximumBytesBilled: Number(cfg.maximumBytesBilled) } : {}),

    async execute(statements: string[], opts?: ExecOptions): Promise<ExecResult> {
      const sql = buildScript(statements);
      if (!sql) return {};
      const meta = await runQueryJob(sql, opts, "statement");
      const jobId = meta.jobReference?.jobId ?? undefined;
      const stats = meta.statistics;
      let rowsAffected = num(stats?.query?.numDmlAffectedRows);
      if (rowsAffected === undefined && num(stats?.numChildJobs) && jobId) {
        try {
          rowsAffected = await scriptDmlRows(jobId, { action: opts?.action, sql, jobId });
        } catch (err) {
          // The script succeeded; a missing row count must not turn it into a failure.
          log.warn("bigquery: could not read the script's row counts", { action: opts?.action, jobId, error: (err as Error).message });
        }
      }
      return {
        jobId,
        rowsAffected,
        bytesProcessed: num(stats?.totalBytesProcessed ?? stats?.query?.totalBytesProcessed),
      };
    },

    async query(sql: string, opts?: ExecOptions): Promise<Row[]> {
      const meta = await runQueryJob(sql, opts, "query");
      const jobId = meta.jobReference?.jobId ?? "";
      const ctx: Ctx = { action: opts?.action, sql, jobId };
      const jobLocation = meta.jobReference?.location ?? cfg.location;
      const out: Row[] = [];
      let pageToken: string | undefined;
      let totalRows: number | undefined;
      try {
        for (;;) {
          // jobs.getQueryResults straight through the client's authenticated request: the
          // raw `f/v` rows keep INT64 digits and TIMESTAMP micros that the library's parsing
          // would round (and its `skipParsing` flag would leak into the query string).
          const qs: Record<string, string | number | boolean> = {
            location: jobLocation,
            maxResults: pageSize,
            "formatOptions.useInt64Timestamp": true,
          };
          if (pageToken) qs.pageToken = pageToken;
          const resp = await call("jobs.getQueryResults", ctx, () =>
            clientRequest<ResultsPage>({ uri: `/queries/${encodeURIComponent(jobId)}`, qs }),
          );
          if (resp.jobComplete === false) {
            // Cannot normally happen (we waited for DONE), but the API allows it: ask again.
            await sleep(250);
            continue;
          }
          const fields = resp.schema?.fields ?? [];
          for (const r of resp.rows ?? []) out.push(decodeRow(fields, r));
          totalRows ??= num(resp.totalRows);
          if (!resp.pageToken) break;
          pageToken = resp.pageToken;
        }
      } catch (err) {
        throw toEngineError(err, ctx, "reading results");
      }
      if (totalRows !== undefined && totalRows !== out.length) {
        throw new EngineError({
          engine: "bigquery",
          message: `result paging returned ${out.length} rows, the job reports ${totalRows}`,
          action: opts?.action,
          sql,
          jobId,
          retryable: true,
        });
      }
      return out;
    },

    async dryRun(sql: string, opts?: ExecOptions): Promise<DryRunResult> {
      const ctx: Ctx = { action: opts?.action, sql };
      try {
        const [, meta] = await call("jobs.insert (dry run)", ctx, () =>
          bq.createQueryJob({ query: sql, dryRun: true, location: cfg.location, useLegacySql: false, labels: labelsFor(opts) }),
        );
        const m = meta as JobMetadata;
        const f = jobFailure(m);
        if (f) throw engineError(f, ctx, { what: "dry run" });
        return { bytesProcessed: num(m.statistics?.totalBytesProcessed ?? m.statistics?.query?.totalBytesProcessed) };
      } catch (err) {
        throw toEngineError(err, ctx, "dry run");
      }
    },

    async tableExists(target: Target): Promise<boolean> {
      const ctx: Ctx = { action: `tableExists ${target.schema}.${target.name}` };
      try {
        await call("tables.get", ctx, () => bq.dataset(target.schema, { projectId: target.database }).table(target.name).getMetadata());
        return true;
      } catch (err) {
        if (err instanceof CallFailed && err.failure.status === 404) return false;
        throw toEngineError(err, ctx, "tables.get");
      }
    },

    async describeTable(target: Target): Promise<TableShape | undefined> {
      const ctx: Ctx = { action: `describeTable ${target.database}.${target.schema}.${target.name}` };
      let meta: { type?: string; timePartitioning?: { type?: string; field?: string }; rangePartitioning?: { field?: string } };
      try {
        [meta] = await call("tables.get", ctx, () => bq.dataset(target.schema, { projectId: target.database }).table(target.name).getMetadata());
      } catch (err) {
        if (err instanceof CallFailed && err.failure.status === 404) return undefined;
        throw toEngineError(err, ctx, "tables.get");
      }
      // tables.get: type TABLE | VIEW | MATERIALIZED_VIEW | EXTERNAL | SNAPSHOT; only a view is replaced by CREATE OR REPLACE VIEW.
      const kind = meta.type === "VIEW" ? "view" : "table";
      const tp = meta.timePartitioning;
      const partitioning = tp ? `${(tp.type ?? "DAY").toUpperCase()}(${tp.field ?? "_PARTITIONTIME"})` : meta.rangePartitioning ? `RANGE(${meta.rangePartitioning.field})` : undefined;
      return { kind, ...(partitioning ? { partitioning } : {}) };
    },

    async tableSchema(target: Target): Promise<ColumnSchema[]> {
      const where = `${target.database}.${target.schema}.${target.name}`;
      const ctx: Ctx = { action: `tableSchema ${where}` };
      let meta: { schema?: { fields?: WireField[] } };
      try {
        [meta] = await call("tables.get", ctx, () => bq.dataset(target.schema, { projectId: target.database }).table(target.name).getMetadata());
      } catch (err) {
        throw toEngineError(err, ctx, "tables.get");
      }
      return fromWireSchema(meta.schema?.fields ?? [], (path, type) => {
        throw new EngineError({
          engine: "bigquery",
          message: `column ${path} of ${where} has type ${type}, which funnelcredit does not read`,
          hint: "cast it in a staging model to STRING, INT64, FLOAT64, NUMERIC, BOOL, DATE, TIMESTAMP or JSON",
        });
      });
    },

    async writeRows(target: Target, schema: ColumnSchema[], rows: Row[], opts: WriteOptions): Promise<{ rows: number }> {
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
      const labels = labelsFor({ labels: { funnelcredit_op: "write_rows" } });
      const uploadUri = `${bq.apiEndpoint}/upload/bigquery/v2/projects/${encodeURIComponent(cfg.projectId)}/jobs`;
      const meta = await runJob(
        newJobId({ action: `${target.schema}_${target.name}` }, "load"),
        ctx,
        (jobId) => {
          const resource = {
            jobReference: { projectId: cfg.projectId, jobId, location: cfg.location },
            configuration: { load, labels, ...(cfg.jobTimeoutMs ? { jobTimeoutMs: String(cfg.jobTimeoutMs) } : {}) },
          };
          // A fresh body stream per attempt: a retry cannot re-read a consumed one.
          return clientRequest<JobMetadata>({
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
    },

    async ensureDataset(database: string, schema: string): Promise<void> {
      const ctx: Ctx = { action: `ensureDataset ${database}.${schema}` };
      try {
        const [meta] = await call("datasets.get", ctx, () => bq.dataset(schema, { projectId: database }).getMetadata());
        const loc = (meta as { location?: string }).location;
        if (loc && loc.toLowerCase() !== cfg.location.toLowerCase()) {
          throw new EngineError({
            engine: "bigquery",
            message: `dataset ${database}.${schema} is in location ${loc}, the configured location is ${cfg.location}`,
            action: ctx.action,
            hint: "jobs run in one location; set the location setting to the dataset's location or use another dataset",
          });
        }
        return;
      } catch (err) {
        if (!(err instanceof CallFailed && err.failure.status === 404)) throw toEngineError(err, ctx, "datasets.get");
      }
      try {
        // A plain datasets.insert: bq.createDataset would copy its options (projectId) into the body.
        await call("datasets.insert", ctx, () =>
          clientRequest<unknown>({
            method: "POST",
            uri: "/datasets",
            projectId: database,
            json: { datasetReference: { projectId: database, datasetId: schema }, location: cfg.location },
          }),
        );
        log.info("bigquery dataset created", { dataset: `${database}.${schema}`, location: cfg.location });
      } catch (err) {
        // Another action created it between our get and insert: fine.
        if (err instanceof CallFailed && err.failure.status === 409) return;
        throw toEngineError(err, ctx, "datasets.insert");
      }
    },

    /** jobs.cancel for every running job (jobs.ts). */
    async cancel(): Promise<void> {
      await jobs.cancelRunning();
    },
    createMissingTables: (tables) => createMissingTables(engine, tables),
    /**
     * Declared sources are read where they are: check that each source dataset lives in the jobs'
     * location before the first job. Missing inputs are created empty by the runner's caller from
     * the catalog (createMissingTables), on every engine.
     */
    async prepareDeclarations(targets: Target[]): Promise<void> {
      await checkSourceLocations(targets);
    },

    async close(): Promise<void> {
      // The client holds no connections that need closing (keep-alive sockets time out).
    },
  };
  return engine;
}
