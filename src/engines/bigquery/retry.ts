/**
 * Which BigQuery failures are worth another attempt, and how long to wait before it.
 *
 * Transient per Google's guidance (https://cloud.google.com/bigquery/docs/error-messages):
 * HTTP 500/502/503/504 and the reasons backendError, internalError, rateLimitExceeded,
 * jobRateLimitExceeded; plus connection failures that never got an HTTP answer.
 * Everything else (invalidQuery, notFound, accessDenied, bytesBilledLimitExceeded, quotaExceeded…)
 * fails fast: retrying cannot change the answer.
 */

const TRANSIENT_STATUS: ReadonlySet<number> = new Set([500, 502, 503, 504]);
const TRANSIENT_REASONS: ReadonlySet<string> = new Set([
  "backendError",
  "internalError",
  "rateLimitExceeded",
  "jobRateLimitExceeded",
]);
/** Node/fetch error codes for a request that never got an answer. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_SOCKET",
]);

export interface RetryPolicy {
  /** Total attempts including the first (≥ 1). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 32_000 };

/** What we know about a failed API call, with nothing secret in it (no headers, no request). */
export interface ApiFailure {
  status?: number;
  reason?: string;
  message: string;
  /** The call never got an HTTP response (reset, refused, timeout). */
  network: boolean;
}

interface GoogleErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: Array<{ reason?: unknown; message?: unknown }>;
  type?: unknown;
  name?: unknown;
}

/** Read status/reason from an ApiError of @google-cloud/common, a fetch error or anything else. */
export function describeFailure(err: unknown): ApiFailure {
  if (!err || typeof err !== "object") return { message: String(err), network: false };
  const e = err as GoogleErrorLike;
  const status = typeof e.code === "number" ? e.code : undefined;
  const first = Array.isArray(e.errors) ? e.errors.find((x) => typeof x?.reason === "string") : undefined;
  const reason = first && typeof first.reason === "string" ? first.reason : undefined;
  const message =
    (first && typeof first.message === "string" && first.message) ||
    (typeof e.message === "string" ? e.message : String(err));
  const code = typeof e.code === "string" ? e.code : undefined;
  const network =
    status === undefined &&
    ((code !== undefined && NETWORK_CODES.has(code)) ||
      e.type === "system" ||
      /socket hang up|ECONNRESET|ECONNREFUSED|other side closed/i.test(message));
  return { status, reason, message, network };
}

export function isTransient(f: ApiFailure): boolean {
  if (f.network) return true;
  if (f.reason !== undefined && TRANSIENT_REASONS.has(f.reason)) return true;
  return f.status !== undefined && TRANSIENT_STATUS.has(f.status);
}

/**
 * Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter", 2015): delay = random() · min(maxDelay, base · 2^(attempt−1)), attempt counted from 1.
 * Full jitter spreads the retries of parallel actions that failed together.
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}
