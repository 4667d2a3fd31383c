/** What a run leaves behind: one record per action, written to the run-history table. */
import type { ColumnSchema, Row } from "../engines/engine.ts";

/** `cancelled`: stopped by a signal while running, or not started because the run was cancelled. */
export type ActionStatus = "succeeded" | "failed" | "skipped" | "warning" | "dry_run" | "cancelled";

export interface ActionRecord {
  action: string;
  kind: string;
  status: ActionStatus;
  startedAt: Date;
  endedAt: Date;
  rows?: number;
  bytesProcessed?: number;
  jobId?: string;
  error?: string;
  /** Why skipped / what the warning says / assertion details. */
  note?: string;
  metrics?: Record<string, number | string | boolean>;
}

export interface RunRecord {
  runId: string;
  engine: string;
  startedAt: Date;
  endedAt: Date;
  /** cancelled: a signal (SIGTERM/SIGINT) stopped the run before every action had run. */
  status: "succeeded" | "failed" | "cancelled";
  fullRefresh: boolean;
  dryRun: boolean;
  actions: ActionRecord[];
  warnings: string[];
}

export const RUN_HISTORY_TABLE = "run_history";

/** Contract of `<base>_meta.run_history`: one row per action of every run. */
export const RUN_HISTORY_SCHEMA: ColumnSchema[] = [
  { name: "run_id", type: "STRING", description: "id of the run (same for every action of one run)" },
  { name: "action", type: "STRING", description: "action name, schema.table or the job name" },
  { name: "action_kind", type: "STRING", description: "table, view, incremental, assertion, operation or job" },
  { name: "engine", type: "STRING", description: "duckdb or bigquery" },
  { name: "status", type: "STRING", description: "succeeded, failed, skipped, warning, dry_run or cancelled" },
  { name: "started_at", type: "TIMESTAMP" },
  { name: "ended_at", type: "TIMESTAMP" },
  { name: "duration_ms", type: "INT64" },
  { name: "rows", type: "INT64", description: "rows written or affected; failing rows for assertions" },
  { name: "bytes_processed", type: "INT64", description: "BigQuery bytes processed (null on DuckDB)" },
  { name: "job_id", type: "STRING" },
  { name: "error", type: "STRING" },
  { name: "note", type: "STRING" },
  { name: "metrics_json", type: "STRING", description: "job figures (AUC, iterations…) as JSON" },
  { name: "full_refresh", type: "BOOL" },
];

export function historyRow(run: Pick<RunRecord, "runId" | "engine" | "fullRefresh">, a: ActionRecord): Row {
  return {
    run_id: run.runId,
    action: a.action,
    action_kind: a.kind,
    engine: run.engine,
    status: a.status,
    started_at: a.startedAt,
    ended_at: a.endedAt,
    duration_ms: a.endedAt.getTime() - a.startedAt.getTime(),
    rows: a.rows ?? null,
    bytes_processed: a.bytesProcessed ?? null,
    job_id: a.jobId ?? null,
    error: a.error ?? null,
    note: a.note ?? null,
    metrics_json: a.metrics ? JSON.stringify(a.metrics) : null,
    full_refresh: run.fullRefresh,
  };
}
