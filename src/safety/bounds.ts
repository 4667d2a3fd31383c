/**
 * Resource bounds (reliability promise 6): what a job may pull into memory, and what the SQL layers
 * cut (paths longer than max_path_length, user ids with more than max_sessions_per_user_day sessions),
 * counted so the run summary says what was truncated.
 */
import type { Engine, ExecOptions, Row, Target } from "../engines/engine.ts";
import { qualified } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import { UserError } from "../util/errors.ts";
import { ColumnTable } from "../jobs/column-table.ts";

/** Settings that make a job's input aggregate smaller, by the table it reads. */
const SHRINK: Record<string, string> = {
  channel_paths: "vars.max_path_length (shorter paths, fewer distinct ones) or vars.lookback_days",
  funnel_transitions: "vars.funnel_steps (fewer steps) or the segments of the funnel",
  ml_journey_features: "vars.ml_max_feature_rows or vars.lookback_days",
  lead_features: "vars.lead_behaviour_lookback_days, or import fewer leads",
};

/** A job read more rows than vars.max_job_rows allows. */
class JobRowBoundError extends UserError {}

const TRAILING_LIMIT = /\bLIMIT\s+(\d+)\s*(?:OFFSET\s+\d+\s*)?$/i;

/**
 * Run a job's query, pulling at most `limit` rows: a `LIMIT limit + 1` is appended (on its own line,
 * so a trailing comment cannot swallow it), and one row too many fails the job with a message naming
 * vars.max_job_rows and what makes the aggregate smaller — instead of the process being killed for
 * memory. A query that already ends in a LIMIT no larger than `limit` runs as it is.
 */
export async function boundedJobQuery(
  engine: Engine,
  sql: string,
  exec: ExecOptions,
  limit: number,
  job: { name: string; reads: readonly string[] },
): Promise<Row[]> {
  const { bounded, tooMany } = boundedSql(sql, limit);
  const rows = await engine.query(bounded, exec);
  if (tooMany(rows.length)) throw rowBoundError(limit, job);
  return rows;
}

/**
 * `boundedJobQuery` read column-wise (src/jobs/column-table.ts): from the engine's column chunks where it
 * streams them (DuckDB), else from its rows. Fails as soon as one row too many arrives.
 */
export async function boundedJobTable(
  engine: Engine,
  sql: string,
  exec: ExecOptions,
  limit: number,
  job: { name: string; reads: readonly string[] },
): Promise<ColumnTable> {
  const { bounded, tooMany } = boundedSql(sql, limit);
  if (!engine.queryColumnChunks) {
    const rows = await engine.query(bounded, exec);
    if (tooMany(rows.length)) throw rowBoundError(limit, job);
    return ColumnTable.fromRows(rows);
  }
  let table: ColumnTable | undefined;
  for await (const chunk of engine.queryColumnChunks(bounded, exec)) {
    table ??= new ColumnTable(chunk.names);
    table.append(chunk);
    if (tooMany(table.length)) throw rowBoundError(limit, job);
  }
  return (table ?? new ColumnTable([])).finish();
}

/**
 * The query with a LIMIT one past the bound (unless it has its own), and whether `n` rows break the bound: a query
 * whose own LIMIT is within it never does.
 */
function boundedSql(sql: string, limit: number): { bounded: string; tooMany: (n: number) => boolean } {
  const body = sql.replace(/;\s*$/, "").trimEnd();
  const own = TRAILING_LIMIT.exec(body);
  const ownWithin = own !== null && Number(own[1]) <= limit;
  return { bounded: own ? body : `${body}\nLIMIT ${limit + 1}`, tooMany: (n) => n > limit && !ownWithin };
}

function rowBoundError(limit: number, job: { name: string; reads: readonly string[] }): JobRowBoundError {
  const shrink = job.reads.map((r) => SHRINK[r]).filter(Boolean);
  return new JobRowBoundError(
    `job ${job.name}: a query on ${job.reads.join(", ")} returned more than ${limit.toLocaleString("en-US")} rows, the most a job reads (vars.max_job_rows); ` +
      `raise vars.max_job_rows in workflow_settings.yaml if this machine has the memory` +
      (shrink.length ? `, or make the aggregate smaller with ${shrink.join("; ")}` : ""),
  );
}

/**
 * What the SQL bounds cut in this warehouse, for the run summary: journeys whose oldest touches
 * max_path_length cut, and user ids max_sessions_per_user_day stopped trusting. Missing tables
 * (not built yet) count nothing.
 */
export async function truncationSummary(engine: Engine, database: string, settings: Settings): Promise<string[]> {
  const t = (name: string): Target => ({ database, schema: settings.datasets.intermediate, name });
  const out: string[] = [];
  if (await engine.tableExists(t("conversion_journeys"))) {
    const [r] = await engine.query(`SELECT COUNTIF(truncated_touch_count > 0) AS journeys, IFNULL(SUM(truncated_touch_count), 0) AS touches FROM ${qualified(t("conversion_journeys"))}`);
    if (Number(r?.journeys ?? 0) > 0) {
      out.push(`max_path_length (${settings.maxPathLength}): ${Number(r!.journeys).toLocaleString("en-US")} journey(s) had their ${Number(r!.touches).toLocaleString("en-US")} oldest touch(es) cut; raise vars.max_path_length to keep them`);
    }
  }
  if (await engine.tableExists(t("sessions"))) {
    const [r] = await engine.query(`SELECT COUNT(DISTINCT session_user_id) AS users, COUNT(*) AS sessions FROM ${qualified(t("sessions"))} WHERE is_user_id_distrusted`);
    if (Number(r?.users ?? 0) > 0) {
      out.push(`max_sessions_per_user_day (${settings.maxSessionsPerUserDay}): ${Number(r!.users).toLocaleString("en-US")} user id(s) with more sessions a day were not trusted (${Number(r!.sessions).toLocaleString("en-US")} session(s) keyed by client id instead)`);
    }
  }
  return out;
}
