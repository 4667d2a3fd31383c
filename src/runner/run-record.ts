/** What a run leaves behind: one record per action, written to the run-history table. */
import type { ColumnSchema, Row } from "../engines/engine.ts";
import { tableSchema } from "../catalog/index.ts";

/** `cancelled`: stopped by a signal while running, or not started because the run was cancelled. */
type ActionStatus = "succeeded" | "failed" | "skipped" | "warning" | "dry_run" | "cancelled";

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

/** Note the runner gives an action a resumed run skips because it succeeded before. */
export const RESUMED_SKIP_NOTE = "succeeded in the resumed run";

/**
 * The record of a resumed run: what it ran, plus what the earlier attempt(s) under the same run id
 * did for the actions it skipped (their status, rows, notes and warnings, not "skipped"). Earlier
 * run-level warnings (input counts and the like) are dropped: the resume recomputes them. Checks of
 * the earlier attempt (input_quality) are dropped too: the resume runs them again.
 */
export function mergeResumedRecord(earlier: RunRecord, resumed: RunRecord): RunRecord {
  // Per action, the earlier attempts' last record; a "skipped, succeeded before" row (from run_history
  // after several resumes) never hides the record of the attempt that did the work.
  const before = new Map<string, ActionRecord>();
  for (const a of earlier.actions) {
    if (a.kind === "check" || (a.status === "skipped" && a.note === RESUMED_SKIP_NOTE && before.has(a.action))) continue;
    before.set(a.action, a);
  }
  const fromEarlier = new Set<string>();
  const actions = resumed.actions.map((a) => {
    const prev = before.get(a.action);
    if (a.status === "skipped" && a.note === RESUMED_SKIP_NOTE && prev && (prev.status === "succeeded" || prev.status === "warning")) {
      fromEarlier.add(a.action);
      return prev;
    }
    return a;
  });
  const seen = new Set(resumed.actions.map((a) => a.action));
  for (const a of before.values()) {
    if (seen.has(a.action)) continue;
    // Not selected in the resume: what the earlier attempt recorded still stands.
    actions.push(a);
    fromEarlier.add(a.action);
  }
  const earlierWarnings = earlier.warnings.filter((w) => [...fromEarlier].some((name) => w.startsWith(`${name}: `)));
  const warnings = [...new Set([...earlierWarnings, ...resumed.warnings])];
  return {
    ...resumed,
    startedAt: earlier.startedAt < resumed.startedAt ? earlier.startedAt : resumed.startedAt,
    actions,
    warnings,
    status: actions.some((a) => a.status === "failed") ? "failed" : "succeeded",
  };
}
