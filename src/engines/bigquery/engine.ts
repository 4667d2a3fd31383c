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
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { BigQuery, type BigQueryOptions, type JobMetadata } from "@google-cloud/bigquery";
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
import { Logger, quietLogger } from "../../util/logger.ts";
import { createMissingTables } from "./empty-tables.ts";
import { scriptPart } from "../../googlesql/script.ts";
import { DEFAULT_RETRY, backoffDelayMs, describeFailure, isTransient, type ApiFailure, type RetryPolicy } from "./retry.ts";
import {
  decodeRow,
  fromWireSchema,
  sanitizeJobId,
  sanitizeLabels,
  toNdjson,
  toWireSchema,
  type WireField,
  type WireRow,
} from "./values.ts";

export interface BigQueryConfig {
  /** Project that runs (and is billed for) the jobs. Tables may live in other projects. */
  projectId: string;
  /** Location of jobs and new datasets, e.g. "EU", "US", "europe-west3". */
  location: string;
  /** Added to every job (sanitised to BigQuery's label rules). */
  labels?: Record<string, string>;
  /** Per-job cap on billed bytes, as BigQuery wants it: a decimal string. */
  maximumBytesBilled?: string;
  /** Server-side job timeout; BigQuery cancels the job after it. */
  jobTimeoutMs?: number;
  /** REST root, e.g. "http://127.0.0.1:9050" for the local test endpoint. */
  apiEndpoint?: string;
  retry?: RetryPolicy;
  /** Rows per getQueryResults page (default 10 000). */
  pageSize?: number;
}

/** Anything the engine needs from outside, injectable for tests. */
export interface BigQueryEngineDeps {
  /** A ready client; it should be built with `createBigQueryClient` (auto-retry off). */
  client?: BigQuery;
  /** Credentials for a client the engine builds (default: application-default credentials). */
  authClient?: BigQueryOptions["authClient"];
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1) for backoff jitter. */
  random?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A client with the library's own retries off. Without `authClient` the client finds
 * application-default credentials itself (GOOGLE_APPLICATION_CREDENTIALS, gcloud ADC, metadata
 * server) on the first request.
 */
export function createBigQueryClient(cfg: BigQueryConfig, authClient?: BigQueryOptions["authClient"]): BigQuery {
  const options: BigQueryOptions = {
    projectId: cfg.projectId,
    location: cfg.location,
    retryOptions: { autoRetry: false, maxRetries: 0 },
  };
  if (cfg.apiEndpoint) options.apiEndpoint = cfg.apiEndpoint;
  if (authClient) options.authClient = authClient;
  return new BigQuery(options);
}

type Interceptor = BigQuery["interceptors"][number];
const noRetryClients = new WeakSet<BigQuery>();
/** Make every request of `client` single-shot, whatever retry options it was built with. */
function disableLibraryRetries(client: BigQuery): void {
  if (noRetryClients.has(client)) return;
  noRetryClients.add(client);
  client.interceptors.push({
    request: (reqOpts) => Object.assign(reqOpts, { maxRetries: 0 }) as unknown as ReturnType<Interceptor["request"]>,
  });
}

/** Where a failure happened, for messages. */
interface Ctx {
  action?: string;
  sql?: string;
  jobId?: string;
}

/** An API call that failed for good (non-transient, or transient after the last attempt). */
class CallFailed extends Error {
  constructor(
    readonly what: string,
    readonly failure: ApiFailure,
    readonly attempts: number,
  ) {
    super(failure.message);
  }
}

const HINTS: Record<string, string> = {
  invalidQuery: "the statement is not valid GoogleSQL for BigQuery; the compiled SQL is in the error's `sql` field",
  notFound: "check that the dataset/table exists and that its location matches the configured location",
  accessDenied: "the credentials lack a permission: jobs need roles/bigquery.jobUser on the job project and dataViewer/dataEditor on the datasets",
  bytesBilledLimitExceeded: "the query would bill more than maximumBytesBilled; raise the limit or add a partition filter",
  quotaExceeded: "a BigQuery quota is exhausted; wait for it to reset or raise it in the Cloud console",
  responseTooLarge: "the result is too large to return; write it to a table instead",
};

function hintFor(f: ApiFailure): string | undefined {
  if (f.reason && HINTS[f.reason]) return HINTS[f.reason];
  if (f.status === 401) return "no valid credentials: run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS";
  if (/default credentials/i.test(f.message)) return "set up application-default credentials (`gcloud auth application-default login`)";
  return undefined;
}

function engineError(f: ApiFailure, ctx: Ctx, opts: { what: string; attempts?: number }): EngineError {
  const code = [f.status, f.reason].filter((x) => x !== undefined).join(" ");
  const tries = opts.attempts && opts.attempts > 1 ? ` after ${opts.attempts} attempts` : "";
  return new EngineError({
    engine: "bigquery",
    message: `${opts.what} failed${tries}${code ? ` (${code})` : ""}: ${f.message}`,
    action: ctx.action,
    sql: ctx.sql,
    jobId: ctx.jobId,
    hint: hintFor(f),
    retryable: isTransient(f),
    // A plain Error: the client's ApiError references the HTTP request and its Authorization header.
    cause: new Error(`${code || "error"}: ${f.message}`),
  });
}

function toEngineError(err: unknown, ctx: Ctx, what: string): EngineError {
  if (err instanceof EngineError) return err;
  if (err instanceof CallFailed) return engineError(err.failure, ctx, { what: err.what, attempts: err.attempts });
  return engineError(describeFailure(err), ctx, { what });
}

/** A job's status error as an ApiFailure. */
function jobFailure(meta: JobMetadata): ApiFailure | undefined {
  const e = meta.status?.errorResult;
  if (!e) return undefined;
  return { reason: e.reason ?? undefined, message: e.message ?? "job failed", network: false };
}

const DML = /^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE\s+TABLE|SELECT|WITH)\b/i;
const DECLARE = /^\s*DECLARE\b/i;
/** A statement without the comments before its first keyword (a model's pre-operation starts with its reasons). */
const code = (s: string): string => s.replace(/^(\s*(--|#)[^\n]*\n|\s*\/\*[\s\S]*?\*\/)*/, "");

/**
 * Statements → one script. Several DML statements run in one transaction so they take effect
 * together: outside a transaction each statement of a BigQuery script commits on its own, so a
 * failed INSERT after a DELETE would leave the partitions deleted. A script may DECLARE its
 * variables first and then BEGIN TRANSACTION
 * (https://cloud.google.com/bigquery/docs/transactions, DECLARE must come first:
 * https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language#declare).
 * BigQuery does not allow DDL creating permanent tables inside a transaction, so scripts with
 * DDL run as given (the runner orders them so a failure leaves the old table).
 */
export function buildScript(statements: string[]): string {
  const parts = statements.map(scriptPart).filter((s) => s.length > 0);
  let k = 0;
  while (k < parts.length && DECLARE.test(code(parts[k]!))) k++;
  const declares = parts.slice(0, k);
  const body = parts.slice(k);
  if (body.length > 1 && body.every((s) => DML.test(code(s))) && !body.some((s) => /^\s*BEGIN\b/i.test(code(s)))) {
    return [...declares, "BEGIN TRANSACTION", ...body, "COMMIT TRANSACTION"].join(";\n") + ";";
  }
  return parts.join(";\n");
}

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

function num(x: string | number | null | undefined): number | undefined {
  if (x === null || x === undefined || x === "") return undefined;
  const n = Number(x);
  return Number.isFinite(n) ? n : undefined;
}

export function createBigQueryEngine(cfg: BigQueryConfig, deps: BigQueryEngineDeps = {}): Engine {
  const bq = deps.client ?? createBigQueryClient(cfg, deps.authClient);
  disableLibraryRetries(bq);
  const log = deps.logger ?? quietLogger;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...cfg.retry };
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  const pageSize = cfg.pageSize ?? 10_000;

  /** One API call with our retry policy; failures leave as CallFailed. */
  async function call<T>(what: string, ctx: Ctx, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof EngineError || err instanceof CallFailed) throw err;
        const f = describeFailure(err);
        if (!isTransient(f) || attempt >= maxAttempts) throw new CallFailed(what, f, attempt);
        const delay = backoffDelayMs(attempt, policy, random);
        log.warn(`bigquery ${what}: transient error, retrying`, {
          action: ctx.action,
          jobId: ctx.jobId,
          status: f.status,
          reason: f.reason,
          attempt,
          maxAttempts,
          delayMs: delay,
        });
        await sleep(delay);
      }
    }
  }

  function labelsFor(opts?: ExecOptions): Record<string, string> {
    const merged: Record<string, string> = { ...cfg.labels, ...opts?.labels };
    if (opts?.action && merged.funnelcredit_action === undefined) merged.funnelcredit_action = opts.action;
    return sanitizeLabels(merged);
  }

  function newJobId(opts?: ExecOptions, kind = "query"): string {
    if (opts?.jobId) return sanitizeJobId(opts.jobId);
    return sanitizeJobId(`funnelcredit_${kind}_${opts?.action ? opts.action + "_" : ""}${randomUUID()}`);
  }

  async function getJob(jobId: string, location: string | undefined, ctx: Ctx): Promise<JobMetadata> {
    const job = bq.job(jobId, { location: location ?? cfg.location });
    const [meta] = await call("jobs.get", ctx, () => job.getMetadata());
    return meta as JobMetadata;
  }

  /**
   * Insert a job once. A 409 means our id is taken: by an earlier attempt of this very insert
   * whose answer was lost, or by the same action in an earlier try of this run. Either way the
   * job exists; attach to it, after checking it is the job we meant.
   */
  async function insertJob(
    jobId: string,
    ctx: Ctx,
    create: () => Promise<JobMetadata>,
    sameJob: (existing: JobMetadata) => boolean,
  ): Promise<JobMetadata> {
    try {
      return await call("jobs.insert", ctx, async () => {
        try {
          return await create();
        } catch (err) {
          // The client rejects when the inserted job already carries errors; that is a job
          // result (handled by the job loop), not a failed call.
          const resp = (err as { response?: JobMetadata }).response;
          if (resp && typeof resp === "object" && resp.jobReference && resp.status) return resp;
          throw err;
        }
      });
    } catch (err) {
      if (err instanceof CallFailed && err.failure.status === 409) {
        const existing = await getJob(jobId, cfg.location, ctx);
        if (!sameJob(existing)) {
          throw new EngineError({
            engine: "bigquery",
            message: `job id ${jobId} already belongs to a different job`,
            action: ctx.action,
            sql: ctx.sql,
            jobId,
            hint: "job ids must be unique per run and action; use a new run id",
          });
        }
        log.info("bigquery job already exists, attaching to it", { action: ctx.action, jobId });
        return existing;
      }
      throw err;
    }
  }

  /** Jobs submitted and not yet seen DONE (id → location), for cancel(). */
  const running = new Map<string, string | undefined>();
  /** Resolved by cancel(): a poll waiting out its interval looks at its job again at once. */
  let cancelled: { promise: Promise<void>; resolve: () => void } | undefined;
  const cancelWait = (): Promise<void> => {
    if (!cancelled) {
      let resolve!: () => void;
      cancelled = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    }
    return cancelled.promise;
  };

  /** Poll until DONE. Long jobs just keep us polling, with a growing interval capped at 10 s. */
  async function waitDone(meta: JobMetadata, ctx: Ctx): Promise<JobMetadata> {
    let polls = 0;
    while (meta.status?.state !== "DONE") {
      const delay = Math.min(10_000, Math.round(250 * 1.5 ** Math.min(polls, 20)));
      await Promise.race([sleep(delay), cancelWait()]);
      polls++;
      if (polls % 20 === 0) log.info("bigquery job still running", { action: ctx.action, jobId: ctx.jobId, polls });
      meta = await getJob(meta.jobReference?.jobId ?? ctx.jobId ?? "", meta.jobReference?.location ?? undefined, ctx);
    }
    return meta;
  }

  /**
   * Insert + wait, as one unit. A job that *finished* with a transient error (backendError…)
   * had no effect (a script's DML runs in a transaction; a failed load writes nothing), so it
   * is re-submitted under a derived id `<id>_retry<n>`; ids stay deterministic.
   */
  async function runJob(
    baseJobId: string,
    ctx: Ctx,
    create: (jobId: string) => Promise<JobMetadata>,
    sameJob: (existing: JobMetadata) => boolean,
    what: string,
  ): Promise<JobMetadata> {
    for (let attempt = 1; ; attempt++) {
      const jobId = attempt === 1 ? baseJobId : sanitizeJobId(`${baseJobId}_retry${attempt - 1}`);
      const jctx = { ...ctx, jobId };
      try {
        let meta = await insertJob(jobId, jctx, () => create(jobId), sameJob);
        running.set(jobId, meta.jobReference?.location ?? cfg.location);
        try {
          meta = await waitDone(meta, jctx);
        } finally {
          running.delete(jobId);
        }
        const f = jobFailure(meta);
        if (!f) return meta;
        if (!isTransient(f) || attempt >= maxAttempts) throw engineError(f, jctx, { what, attempts: attempt });
        const delay = backoffDelayMs(attempt, policy, random);
        log.warn(`bigquery ${what}: job failed with a transient error, resubmitting`, {
          action: ctx.action,
          jobId,
          reason: f.reason,
          attempt,
          maxAttempts,
          delayMs: delay,
        });
        await sleep(delay);
      } catch (err) {
        throw toEngineError(err, jctx, what);
      }
    }
  }

  async function runQueryJob(sql: string, opts: ExecOptions | undefined, what: string): Promise<JobMetadata> {
    const ctx: Ctx = { action: opts?.action, sql };
    const labels = labelsFor(opts);
    return runJob(
      newJobId(opts),
      ctx,
      async (jobId) => {
        const [, meta] = await bq.createQueryJob({
          query: sql,
          jobId,
          location: cfg.location,
          useLegacySql: false,
          labels,
          ...(cfg.maximumBytesBilled ? { maximumBytesBilled: cfg.maximumBytesBilled } : {}),
          ...(cfg.jobTimeoutMs ? { jobTimeoutMs: cfg.jobTimeoutMs } : {}),
        });
        return meta as JobMetadata;
      },
      (existing) => existing.configuration?.query?.query === sql,
      what,
    );
  }

  /** Sum of numDmlAffectedRows over a script's child jobs (the parent does not report it). */
  async function scriptDmlRows(jobId: string, ctx: Ctx): Promise<number | undefined> {
    const [jobs] = await call("jobs.list", ctx, () => bq.getJobs({ parentJobId: jobId, autoPaginate: true }));
    let total: number | undefined;
    for (const j of jobs) {
      const n = num((j.metadata as JobMetadata).statistics?.query?.numDmlAffectedRows);
      if (n !== undefined) total = (total ?? 0) + n;
    }
    return total;
  }

  /** A REST call through the client (auth, user agent, our no-retry interceptor). */
  function clientRequest<T>(reqOpts: Parameters<BigQuery["request"]>[0]): Promise<T> {
    return new Promise<T>((resolve, reject) => bq.request(reqOpts, (err, body) => (err ? reject(err) : resolve(body as T))));
  }

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

    /**
     * jobs.cancel for every running job. BigQuery then ends each as DONE with reason "stopped"
     * (a script's transaction is rolled back), which the polling call reports as its failure.
     */
    async cancel(): Promise<void> {
      const jobs = [...running];
      await Promise.all(jobs.map(async ([jobId, location]) => {
        try {
          await bq.job(jobId, { location }).cancel();
          log.info("bigquery job cancelled", { jobId });
        } catch (err) {
          log.warn("bigquery: could not cancel a job", { jobId, error: (err as Error).message });
        }
      }));
      // Wake the polls now rather than after their interval (up to 10 s).
      cancelled?.resolve();
      cancelled = undefined;
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
