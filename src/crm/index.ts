/**
 * `funnelcredit push lead-scores`: read lead_scores, send what the destination has not acknowledged,
 * record acknowledgements and dead letters. A re-run sends only rows not yet acknowledged (changed
 * scores, and rows that failed before).
 */
import type { Engine } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import { UserError } from "../util/errors.ts";
import { destinationOf, planPush, sendScores, DEFAULT_RETRY, type RetryPolicy, type SendResult } from "./push.ts";
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

export async function pushLeadScores(engine: Engine, settings: Settings, opts: PushLeadScoresOptions): Promise<PushSummary> {
  const token = opts.env[opts.tokenEnv];
  if (!token) throw new UserError(`the environment variable ${opts.tokenEnv} is empty; set it to the CRM's API token (or name another with --token-env)`);
  const batchSize = opts.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UserError(`--batch-size must be a whole number from 1 to 10000, got ${batchSize}`);
  const destination = destinationOf(opts.url);
  const t = pushTables(settings, opts.database);
  const scores = await readScores(engine, t);
  const state = await readState(engine, t);
  const todo = planPush(scores, state, destination);
  const result = await sendScores(todo, {
    url: opts.url, token, batchSize, retry: { ...DEFAULT_RETRY, ...opts.retry },
    fetch: opts.fetch ?? fetch, sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    random: opts.random ?? Math.random, now: opts.now ?? (() => new Date()), runId: opts.runId, log: opts.log,
  });
  // Acknowledgements first: a crash after this never re-sends acknowledged rows.
  if (result.acknowledged.length) await writeState(engine, t, mergeState(state, result.acknowledged));
  await appendDeadLetters(engine, t, result.deadLetters);
  return { ...result, destination, scores: scores.length, planned: todo.length };
}
