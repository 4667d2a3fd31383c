/**
 * Reading a finished query job's rows: jobs.getQueryResults page by page, decoded at the boundary
 * (values.ts), and checked against the row count the job reports.
 */
import type { JobMetadata } from "@google-cloud/bigquery";
import { EngineError, type ExecOptions, type Row } from "../engine.ts";
import { decodeRow, optionalNumber as num, type WireField, type WireRow } from "./values.ts";
import { toEngineError, type Ctx } from "./errors.ts";
import type { BigQueryParts } from "./parts.ts";

/** The part of a jobs.getQueryResults answer we read. */
interface ResultsPage {
  jobComplete?: boolean;
  schema?: { fields?: WireField[] };
  rows?: WireRow[];
  pageToken?: string;
  totalRows?: string;
}

/** Every row of the query job `meta` (DONE), `cfg.pageSize` rows (10,000) per page. */
export async function readQueryResults(p: BigQueryParts, meta: JobMetadata, sql: string, opts?: ExecOptions): Promise<Row[]> {
  const { cfg, jobs } = p;
  const pageSize = cfg.pageSize ?? 10_000;
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
      const resp = await jobs.call("jobs.getQueryResults", ctx, () =>
        jobs.clientRequest<ResultsPage>({ uri: `/queries/${encodeURIComponent(jobId)}`, qs }),
      );
      if (resp.jobComplete === false) {
        // Cannot normally happen (we waited for DONE), but the API allows it: ask again.
        await jobs.sleep(250);
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
}
