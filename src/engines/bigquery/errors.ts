/** BigQuery failures as EngineErrors: job id, action and SQL, a hint, and a sanitised cause. */
import type { JobMetadata } from "@google-cloud/bigquery";
import { EngineError } from "../engine.ts";
import { describeFailure, isTransient, type ApiFailure } from "./retry.ts";

/** Where a failure happened, for messages. */
export interface Ctx {
  action?: string;
  sql?: string;
  jobId?: string;
}

/** An API call that failed for good (non-transient, or transient after the last attempt). */
export class CallFailed extends Error {
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

export function engineError(f: ApiFailure, ctx: Ctx, opts: { what: string; attempts?: number }): EngineError {
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

export function toEngineError(err: unknown, ctx: Ctx, what: string): EngineError {
  if (err instanceof EngineError) return err;
  if (err instanceof CallFailed) return engineError(err.failure, ctx, { what: err.what, attempts: err.attempts });
  return engineError(describeFailure(err), ctx, { what });
}

/** A job's status error as an ApiFailure. */
export function jobFailure(meta: JobMetadata): ApiFailure | undefined {
  const e = meta.status?.errorResult;
  if (!e) return undefined;
  return { reason: e.reason ?? undefined, message: e.message ?? "job failed", network: false };
}

