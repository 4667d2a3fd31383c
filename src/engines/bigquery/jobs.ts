/**
 * BigQuery jobs with our reliability rules (engine.ts's header): one API call with our retry policy,
 * jobs inserted once under ids chosen before submitting (a 409 attaches to the job already there),
 * polled until DONE, re-submitted under derived ids after a transient failure, and cancelled on request.
 */
import { randomUUID } from "node:crypto";
import type { BigQuery, JobMetadata } from "@google-cloud/bigquery";
import { EngineError, type ExecOptions } from "../engine.ts";
import { quietLogger, type Logger } from "../../util/logger.ts";
import { DEFAULT_RETRY, backoffDelayMs, describeFailure, isTransient, type RetryPolicy } from "./retry.ts";
import { optionalNumber as num, sanitizeJobId, sanitizeLabels } from "./values.ts";
import { defaultSleep, type BigQueryConfig, type BigQueryEngineDeps } from "./client.ts";
import { CallFailed, engineError, jobFailure, toEngineError, type Ctx } from "./errors.ts";

/** The settings a job runner's API calls retry with, and how they wait. */
interface CallPolicy {
  policy: RetryPolicy;
  maxAttempts: number;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

/** One API call with our retry policy; failures leave as CallFailed. */
type ApiCall = <T>(what: string, ctx: Ctx, fn: () => Promise<T>) => Promise<T>;

function retryingCall({ policy, maxAttempts, log, sleep, random }: CallPolicy): ApiCall {
  return async function call<T>(what: string, ctx: Ctx, fn: () => Promise<T>): Promise<T> {
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
  };
}

/** The labels of a job: the configured ones, the statement's, and the action's name. */
function jobLabels(cfg: BigQueryConfig, opts?: ExecOptions): Record<string, string> {
  const merged: Record<string, string> = { ...cfg.labels, ...opts?.labels };
  if (opts?.action && merged.funnelcredit_action === undefined) merged.funnelcredit_action = opts.action;
  return sanitizeLabels(merged);
}

/** The id of a new job: the caller's (deterministic), else one made of the kind, the action and a UUID. */
function newJobId(opts?: ExecOptions, kind = "query"): string {
  if (opts?.jobId) return sanitizeJobId(opts.jobId);
  return sanitizeJobId(`funnelcredit_${kind}_${opts?.action ? opts.action + "_" : ""}${randomUUID()}`);
}

/** A REST call through the client (auth, user agent, our no-retry interceptor). */
function clientRequest<T>(bq: BigQuery, reqOpts: Parameters<BigQuery["request"]>[0]): Promise<T> {
  return new Promise<T>((resolve, reject) => bq.request(reqOpts, (err, body) => (err ? reject(err) : resolve(body as T))));
}

/** Sum of numDmlAffectedRows over a script's child jobs (the parent does not report it). */
async function childJobDmlRows(bq: BigQuery, call: ApiCall, jobId: string, ctx: Ctx): Promise<number | undefined> {
  const [jobs] = await call("jobs.list", ctx, () => bq.getJobs({ parentJobId: jobId, autoPaginate: true }));
  let total: number | undefined;
  for (const j of jobs) {
    const n = num((j.metadata as JobMetadata).statistics?.query?.numDmlAffectedRows);
    if (n !== undefined) total = (total ?? 0) + n;
  }
  return total;
}

export type JobRunner = ReturnType<typeof createJobRunner>;

export function createJobRunner(bq: BigQuery, cfg: BigQueryConfig, deps: BigQueryEngineDeps) {
  const log = deps.logger ?? quietLogger;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...cfg.retry };
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  const call = retryingCall({ policy, maxAttempts, log, sleep, random });
  const labelsFor = (opts?: ExecOptions): Record<string, string> => jobLabels(cfg, opts);
  const request = <T>(reqOpts: Parameters<BigQuery["request"]>[0]): Promise<T> => clientRequest<T>(bq, reqOpts);

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

  /**
   * jobs.cancel for every running job. BigQuery then ends each as DONE with reason "stopped"
   * (a script's transaction is rolled back), which the polling call reports as its failure.
   */
  async function cancelRunning(): Promise<void> {
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
  }

  const scriptDmlRows = (jobId: string, ctx: Ctx): Promise<number | undefined> => childJobDmlRows(bq, call, jobId, ctx);
  return { call, labelsFor, newJobId, runJob, runQueryJob, scriptDmlRows, clientRequest: request, cancelRunning, sleep };
}
