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
 * errors.ts, script.ts (statements → one script), values.ts (wire values), results.ts (reading a query's
 * rows), load-rows.ts (writing rows by a load job), table-metadata.ts (tables.get), datasets.ts (datasets and
 * their location), this file (the Engine, wiring them).
 */
import type { JobMetadata } from "@google-cloud/bigquery";
import type { DryRunResult, Engine, ExecOptions, ExecResult } from "../engine.ts";
import { quietLogger } from "../../util/logger.ts";
import { createMissingTables } from "./empty-tables.ts";
import { optionalNumber as num } from "./values.ts";
import { createBigQueryClient, disableLibraryRetries, type BigQueryConfig, type BigQueryEngineDeps } from "./client.ts";
import { engineError, jobFailure, toEngineError, type Ctx } from "./errors.ts";
import { buildScript } from "./script.ts";
import { createJobRunner } from "./jobs.ts";
import type { BigQueryParts } from "./parts.ts";
import { readQueryResults } from "./results.ts";
import { loadRows } from "./load-rows.ts";
import { describeTable, tableExists, tableSchema, tableShapesIn } from "./table-metadata.ts";
import { checkSourceLocations, ensureDataset } from "./datasets.ts";

export { createBigQueryClient, type BigQueryConfig, type BigQueryEngineDeps } from "./client.ts";
export { buildScript } from "./script.ts";

/** Statements as one script job; the rows it changed (a script's from its child jobs). */
async function executeScript({ jobs, log }: BigQueryParts, statements: string[], opts?: ExecOptions): Promise<ExecResult> {
  const sql = buildScript(statements);
  if (!sql) return {};
  const meta = await jobs.runQueryJob(sql, opts, "statement");
  const jobId = meta.jobReference?.jobId ?? undefined;
  const stats = meta.statistics;
  let rowsAffected = num(stats?.query?.numDmlAffectedRows);
  if (rowsAffected === undefined && num(stats?.numChildJobs) && jobId) {
    try {
      rowsAffected = await jobs.scriptDmlRows(jobId, { action: opts?.action, sql, jobId });
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
}

/** The bytes a query would process, from a dry-run job (nothing runs). */
async function dryRunQuery({ bq, cfg, jobs }: BigQueryParts, sql: string, opts?: ExecOptions): Promise<DryRunResult> {
  const ctx: Ctx = { action: opts?.action, sql };
  try {
    const [, meta] = await jobs.call("jobs.insert (dry run)", ctx, () =>
      bq.createQueryJob({ query: sql, dryRun: true, location: cfg.location, useLegacySql: false, labels: jobs.labelsFor(opts) }),
    );
    const m = meta as JobMetadata;
    const f = jobFailure(m);
    if (f) throw engineError(f, ctx, { what: "dry run" });
    return { bytesProcessed: num(m.statistics?.totalBytesProcessed ?? m.statistics?.query?.totalBytesProcessed) };
  } catch (err) {
    throw toEngineError(err, ctx, "dry run");
  }
}

export function createBigQueryEngine(cfg: BigQueryConfig, deps: BigQueryEngineDeps = {}): Engine {
  const bq = deps.client ?? createBigQueryClient(cfg, deps.authClient);
  disableLibraryRetries(bq);
  const p: BigQueryParts = { bq, cfg, log: deps.logger ?? quietLogger, jobs: createJobRunner(bq, cfg, deps), datasetsInLocation: new Set() };

  const engine: Engine = {
    kind: "bigquery",
    capabilities: { dryRunBytes: true, parallelActions: true, partitions: true, tableWriteQuotas: true },
    dryRunBytesSource: "BigQuery dry runs",
    ...(cfg.maximumBytesBilled && Number(cfg.maximumBytesBilled) > 0 ? { maximumBytesBilled: Number(cfg.maximumBytesBilled) } : {}),
    execute: (statements, opts) => executeScript(p, statements, opts),
    async query(sql, opts) {
      return readQueryResults(p, await p.jobs.runQueryJob(sql, opts, "query"), sql, opts);
    },
    dryRun: (sql, opts) => dryRunQuery(p, sql, opts),
    tableExists: (target) => tableExists(p, target),
    describeTable: (target) => describeTable(p, target),
    tableShapesIn: (database, schema) => tableShapesIn(p, database, schema),
    tableSchema: (target) => tableSchema(p, target),
    writeRows: (target, schema, rows, opts) => loadRows(p, target, schema, rows, opts),
    ensureDataset: (database, schema) => ensureDataset(p, database, schema),
    /** jobs.cancel for every running job (jobs.ts). */
    cancel: () => p.jobs.cancelRunning(),
    createMissingTables: (tables) => createMissingTables(engine, tables),
    /**
     * Declared sources are read where they are: check that each source dataset lives in the jobs'
     * location before the first job. Missing inputs are created empty by the runner's caller from
     * the catalog (createMissingTables), on every engine.
     */
    prepareDeclarations: (targets) => checkSourceLocations(p, targets),

    async close(): Promise<void> {
      // The client holds no connections that need closing (keep-alive sockets time out).
    },
  };
  return engine;
}
