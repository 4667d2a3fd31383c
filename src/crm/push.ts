/**
 * CRM sync of lead scores: which scores to send (changed since the last acknowledged push), HTTP
 * batches with idempotency keys, retries with exponential backoff on 429/5xx/network errors, and dead
 * letters for rows that still fail. Planning is pure; sending takes an injected fetch and sleep.
 *
 * Wire format (POST, JSON): `{"scores": [{lead_id, score, probability, segment, model_version,
 * scored_at, key_factors: [{feature, contribution, direction}]}]}` with headers
 * `Authorization: Bearer <token>`, `Idempotency-Key: <key>` and `Content-Type: application/json`.
 * Any 2xx acknowledges the whole batch. The token is never logged nor put in an error or table.
 */
import { createHash } from "node:crypto";
import type { Value } from "../engines/engine.ts";
import { UserError } from "../util/errors.ts";

export interface ScoreToPush {
  lead_id: string;
  score: number;
  probability: number;
  segment: string | null;
  model_version: string;
  scored_at: string;
  key_factors: { feature: string; contribution: number; direction: string }[];
}

/** Last acknowledged payload per (destination, lead). */
export interface PushState {
  destination: string;
  lead_id: string;
  payload_hash: string;
  score: number;
  acknowledged_at: Date;
  run_id: string;
}

export interface DeadLetter {
  destination: string;
  lead_id: string;
  payload: string;
  idempotency_key: string;
  http_status: number | null;
  error: string;
  attempts: number;
  failed_at: Date;
  run_id: string;
}

/**
 * What the CRM sees of a score: lead, score, segment and model version. Probability, factors and the
 * scoring time alone do not make a score "changed" (re-scoring the same lead to the same score sends
 * nothing).
 */
export function payloadHash(s: Pick<ScoreToPush, "lead_id" | "score" | "segment" | "model_version">): string {
  return createHash("sha256").update(JSON.stringify([s.lead_id, s.score, s.segment, s.model_version])).digest("hex");
}

/** Scores whose payload differs from the last acknowledged one for this destination, in lead_id order. */
export function planPush(scores: readonly ScoreToPush[], state: readonly PushState[], destination: string): ScoreToPush[] {
  const acked = new Map(state.filter((s) => s.destination === destination).map((s) => [s.lead_id, s.payload_hash]));
  return scores
    .filter((s) => acked.get(s.lead_id) !== payloadHash(s))
    .sort((a, b) => (a.lead_id < b.lead_id ? -1 : a.lead_id > b.lead_id ? 1 : 0));
}

/**
 * Idempotency key of a batch: a hash of the destination and the batch's payload hashes, so a retried
 * or re-run batch with the same content carries the same key (the CRM can drop duplicates).
 */
function batchKey(destination: string, batch: readonly ScoreToPush[]): string {
  const h = createHash("sha256").update(destination);
  for (const s of batch) h.update("|").update(payloadHash(s));
  return h.digest("hex").slice(0, 32);
}

export interface RetryPolicy {
  /** Retries after the first attempt. Default 5. */
  maxRetries: number;
  /** First backoff in ms, doubled per retry (capped at maxDelayMs), ± 20 % jitter. Default 500. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/** HTTP statuses worth retrying: 408, 425, 429 and every 5xx. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Delay before retry `attempt` (1-based): min(maxDelay, base · 2^(attempt−1)) · (0.8 + 0.4·u), or the
 * server's Retry-After (seconds or HTTP date) when given, capped at maxDelay.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfter: string | null, random: () => number, nowMs: number): number {
  if (retryAfter) {
    const secs = Number(retryAfter);
    const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(retryAfter) - nowMs;
    if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, policy.maxDelayMs);
  }
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return d * (0.8 + 0.4 * random());
}

interface SendOptions {
  url: string;
  token: string;
  batchSize: number;
  retry: RetryPolicy;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  now: () => Date;
  runId: string;
  /** Longest wait for one request's answer (vars.crm_request_timeout_seconds); a timeout is retried like a network error. */
  requestTimeoutMs: number;
  /**
   * When the whole push must stop (epoch ms, vars.crm_push_timeout_seconds after it began): requests
   * in flight are aborted, no backoff sleeps past it, and batches not yet acknowledged stay unsent
   * (the next push sends them: they are not in the acknowledged state).
   */
  deadlineMs?: number;
  /** Progress/log lines; never receive the token. */
  log?: (message: string) => void;
}

export interface SendResult {
  acknowledged: PushState[];
  deadLetters: DeadLetter[];
  batches: number;
  requests: number;
  /** Scores not sent (or not acknowledged) because the push reached its deadline. */
  unsent: number;
}

/** Destination id stored in the state: the URL without credentials, query or fragment. */
export function destinationOf(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--to ${JSON.stringify(url)} is not a URL; give the CRM endpoint, e.g. https://crm.example.com/api/lead-scores`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UserError(`--to must be an http(s) URL, got ${u.protocol}`);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function redact(text: string, token: string): string {
  return token ? text.split(token).join("[redacted]") : text;
}

/** Send the planned scores in batches; never throws for a failed batch (it becomes dead letters). */
export async function sendScores(rows: readonly ScoreToPush[], opts: SendOptions): Promise<SendResult> {
  const destination = destinationOf(opts.url);
  const out: SendResult = { acknowledged: [], deadLetters: [], batches: 0, requests: 0, unsent: 0 };
  const left = (): number => (opts.deadlineMs === undefined ? Infinity : opts.deadlineMs - opts.now().getTime());
  for (let start = 0; start < rows.length; start += opts.batchSize) {
    const batch = rows.slice(start, start + opts.batchSize);
    if (left() <= 0) {
      out.unsent = rows.length - start;
      opts.log?.(`push time limit reached: ${out.unsent} score(s) not sent; the next push sends them`);
      break;
    }
    const key = batchKey(destination, batch);
    const body = JSON.stringify({ scores: batch });
    out.batches++;
    let attempts = 0;
    let lastStatus: number | null = null;
    let lastError = "";
    let ok = false;
    let outOfTime = false;
    for (;;) {
      attempts++;
      out.requests++;
      let retryAfter: string | null = null;
      let retryable = false;
      // The request's own timeout, shortened to what is left of the push.
      const waitMs = Math.max(1, Math.min(opts.requestTimeoutMs, left()));
      try {
        const res = await opts.fetch(opts.url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${opts.token}`, "Idempotency-Key": key },
          body,
          signal: AbortSignal.timeout(waitMs),
        });
        lastStatus = res.status;
        if (res.ok) {
          ok = true;
          await res.arrayBuffer().catch(() => undefined);
          break;
        }
        const text = await res.text().catch(() => "");
        lastError = `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ""}`;
        retryable = isRetryableStatus(res.status);
        retryAfter = res.headers.get("retry-after");
      } catch (e) {
        lastStatus = null;
        const timedOut = (e as Error).name === "TimeoutError" || (e as Error).name === "AbortError";
        lastError = timedOut
          ? `no answer within ${formatSeconds(waitMs)} (vars.crm_request_timeout_seconds = ${formatSeconds(opts.requestTimeoutMs)})`
          : `network error: ${(e as Error).message}`;
        retryable = true;
      }
      lastError = redact(lastError, opts.token);
      if (!retryable || attempts > opts.retry.maxRetries) break;
      const delay = backoffDelay(attempts, opts.retry, retryAfter, opts.random, opts.now().getTime());
      if (delay >= left()) {
        outOfTime = true;
        break;
      }
      opts.log?.(`batch ${out.batches} (${batch.length} scores): ${lastError}; retry ${attempts}/${opts.retry.maxRetries} in ${Math.round(delay)} ms`);
      await opts.sleep(delay);
    }
    const at = opts.now();
    if (!ok && outOfTime) {
      // Out of time with retries left: not a dead letter, the next push sends it again.
      out.unsent = rows.length - start;
      opts.log?.(`batch ${out.batches} (${batch.length} scores): ${lastError}; push time limit (vars.crm_push_timeout_seconds) reached: ${out.unsent} score(s) not sent, the next push sends them`);
      break;
    }
    if (ok) {
      for (const s of batch) out.acknowledged.push({ destination, lead_id: s.lead_id, payload_hash: payloadHash(s), score: s.score, acknowledged_at: at, run_id: opts.runId });
    } else {
      opts.log?.(`batch ${out.batches} (${batch.length} scores) failed after ${attempts} attempt(s): ${lastError}; rows go to the dead-letter table`);
      for (const s of batch) {
        out.deadLetters.push({
          destination, lead_id: s.lead_id, payload: JSON.stringify(s), idempotency_key: key, http_status: lastStatus,
          error: lastError, attempts, failed_at: at, run_id: opts.runId,
        });
      }
    }
  }
  return out;
}

/** A `lead_scores` row as read from the warehouse → the wire form. */
export function toScoreToPush(r: Record<string, Value>): ScoreToPush {
  const factors = Array.isArray(r.key_factors) ? r.key_factors : [];
  return {
    lead_id: String(r.lead_id),
    score: Number(r.score),
    probability: Number(r.probability),
    segment: r.segment === null || r.segment === undefined ? null : String(r.segment),
    model_version: String(r.model_version),
    scored_at: r.scored_at instanceof Date ? r.scored_at.toISOString() : String(r.scored_at),
    key_factors: factors.map((f) => {
      const o = f as Record<string, Value>;
      return { feature: String(o.feature), contribution: Number(o.contribution), direction: String(o.direction) };
    }),
  };
}
