/** What a run leaves behind: one record per action, written to the run-history table. */
import type { ColumnSchema, Row } from "../engines/engine.ts";
import { tableSchema } from "../catalog/index.ts";

export type ActionStatus = "succeeded" | "failed" | "skipped" | "warning" | "dry_run";

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
  status: "succeeded" | "failed";
  fullRefresh: boolean;
  dryRun: boolean;
  actions: ActionRecord[];
  warnings: string[];
}

export const RUN_HISTORY_TABLE = "run_history";

/** Contract of `<base>_meta.run_history`: one row per action of every run. */
export const RUN_HISTORY_SCHEMA: ColumnSchema[] = tableSchema("run_history");

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
