/**
 * The BigQuery client as the engine uses it: the official client (`@google-cloud/bigquery`) with
 * the library's own retries off, so attempts are counted, logged and bounded in one place (jobs.ts).
 */
import { BigQuery, type BigQueryOptions } from "@google-cloud/bigquery";
import type { Logger } from "../../util/logger.ts";
import type { RetryPolicy } from "./retry.ts";

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

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
export function disableLibraryRetries(client: BigQuery): void {
  if (noRetryClients.has(client)) return;
  noRetryClients.add(client);
  client.interceptors.push({
    request: (reqOpts) => Object.assign(reqOpts, { maxRetries: 0 }) as unknown as ReturnType<Interceptor["request"]>,
  });
}

