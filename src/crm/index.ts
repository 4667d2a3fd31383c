/**
 * `funnelcredit push lead-scores`: read lead_scores, send what the destination has not acknowledged,
 * record acknowledgements and dead letters. A re-run sends only rows not yet acknowledged (changed
 * scores, and rows that failed before).
 *
 * Three steps so that the caller can let go of the warehouse while the network is slow: plan (reads
 * the warehouse), send (network only), record (writes the warehouse, merging with the state as it is
 * then, so a push that ran in between keeps its acknowledgements).
 */
import type { Engine } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import { UserError } from "../util/errors.ts";
import { destinationOf, planPush, sendScores, DEFAULT_RETRY, type RetryPolicy, type ScoreToPush, type SendResult } from "./push.ts";
import { pushTables, readScores, readState, mergeState, writeState, appendDeadLetters } from "./state.ts";

export * from "./push.ts";
export * from "./state.ts";

export interface PushLeadScoresOptions {
  url: string;
  /** Name of the environment variable holding the bearer token (its value is never logged). */
  tokenEnv: string;
  env: Record<string, string | undefined>;
  batchSize?: number;
  retry?: Partial<RetryPolicy>;
  runId: string;
  database: string;
  /** Default: vars.crm_request_timeout_seconds. */
  requestTimeoutMs?: number;
  /** Default: vars.crm_push_timeout_seconds. */
  pushTimeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => Date;
  log?: (message: string) => void;
}

export interface PushSummary extends SendResult {
  destination: string;
  scores: number;
  planned: number;
}

interface PushPlan {
  destination: string;
  token: string;
  batchSize: number;
  /** Scores in lead_scores. */
  scores: number;
  todo: ScoreToPush[];
}

/** Check the options and read what to send (the only step reading the warehouse before the network). */
export async function planLeadScorePush(engine: Engine, settings: Settings, opts: PushLeadScoresOptions): Promise<PushPlan> {
  const token = opts.env[opts.tokenEnv];
  if (!token) throw new UserError(`the environment variable ${opts.tokenEnv} is empty; set it to the CRM's API token (or name another with --token-env)`);
  const batchSize = opts.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UserError(`--batch-size must be a whole number from 1 to 10000, got ${batchSize}`);
  const destination = destinationOf(opts.url);
  const t = pushTables(settings, opts.database);
  const scores = await readScores(engine, t);
  const state = await readState(engine, t);
  return { destination, token, batchSize, scores: scores.length, todo: planPush(scores, state, destination) };
}

/** Send a plan (network only; no warehouse). */
export async function sendPlannedScores(plan: PushPlan, settings: Settings, opts: PushLeadScoresOptions): Promise<PushSummary> {
  const now = opts.now ?? (() => new Date());
  const pushTimeoutMs = opts.pushTimeoutMs ?? settings.crmPushTimeoutSeconds * 1000;
  const result = await sendScores(plan.todo, {
    url: opts.url, token: plan.token, batchSize: plan.batchSize, retry: { ...DEFAULT_RETRY, ...opts.retry },
    fetch: opts.fetch ?? fetch, sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    random: opts.random ?? Math.random, now, runId: opts.runId, log: opts.log,
    requestTimeoutMs: opts.requestTimeoutMs ?? settings.crmRequestTimeoutSeconds * 1000,
    deadlineMs: now().getTime() + pushTimeoutMs,
  });
  return { ...result, destination: plan.destination, scores: plan.scores, planned: plan.todo.length };
}

/** Record acknowledgements (merged with the state as it is now) and dead letters. */
export async function recordPushResult(engine: Engine, settings: Settings, database: string, result: SendResult): Promise<void> {
  const t = pushTables(settings, database);
  // Acknowledgements first: a crash after this never re-sends acknowledged rows.
  if (result.acknowledged.length) await writeState(engine, t, mergeState(await readState(engine, t), result.acknowledged));
  await appendDeadLetters(engine, t, result.deadLetters);
}

/** The three steps on one engine (library use; the CLI lets go of the warehouse while sending). */
export async function pushLeadScores(engine: Engine, settings: Settings, opts: PushLeadScoresOptions): Promise<PushSummary> {
  const plan = await planLeadScorePush(engine, settings, opts);
  const summary = await sendPlannedScores(plan, settings, opts);
  await recordPushResult(engine, settings, opts.database, summary);
  return summary;
}
