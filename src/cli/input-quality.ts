/**
 * The input check every run ends with, `run` and `demo` alike (the demo is a run like any other: a
 * sample that fails it would make the next `run` fail).
 */
import { historyTarget } from "../runner/history.ts";
import { inputQuality } from "../import/quarantine.ts";
import { truncationSummary } from "../safety/bounds.ts";
import { RUN_HISTORY_SCHEMA, historyRow, type ActionRecord, type RunRecord } from "../runner/run-record.ts";
import type { Session } from "./session.ts";

/**
 * Bad input after the run: quarantined rows are counted in the summary and report; a bad-row share
 * past vars.bad_row_max_share fails the run (recorded in run history as the check "input_quality").
 */
export async function checkInputQuality(s: Session, run: RunRecord): Promise<void> {
  const db = s.project.graph.projectConfig.defaultDatabase;
  let q;
  try {
    q = await inputQuality(s.engine, db, s.project.settings, run.runId);
  } catch (e) {
    run.warnings.push(`could not count quarantined input rows: ${(e as Error).message}`);
    return;
  }
  run.warnings.push(...q.warnings);
  for (const note of q.notes) s.logger.info(note);
  try {
    run.warnings.push(...(await truncationSummary(s.engine, db, s.project.settings)));
  } catch (e) {
    run.warnings.push(`could not count what max_path_length / max_sessions_per_user_day cut: ${(e as Error).message}`);
  }
  if (!q.failure) return;
  const at = new Date();
  const rec: ActionRecord = { action: "input_quality", kind: "check", status: "failed", startedAt: at, endedAt: at, error: q.failure };
  run.actions.push(rec);
  run.status = "failed";
  try {
    await s.engine.writeRows(historyTarget(s.project), RUN_HISTORY_SCHEMA, [historyRow(run, rec)], { mode: "append" });
  } catch (e) {
    run.warnings.push(`could not record input_quality in run history: ${(e as Error).message}`);
  }
}
