/** Run ids given on the command line, and the run records stored for them. */
import type { RunRecord } from "../runner/run-record.ts";
import { reviveRunRecord, runRecordFromHistory } from "../report/data.ts";
import { SettingsError } from "../util/errors.ts";
import type { Session } from "./session.ts";

/**
 * A run id names a folder (`runs/<id>/` in the artifacts) and BigQuery job ids: letters, digits, `_`,
 * `-`, `.`, not starting with a dot. An empty one is most often an unset scheduler variable
 * (`--resume "$RUN_ID"`): refused, never run as the run id "".
 */
export function checkRunId(flag: string, value: unknown): string {
  const id = String(value ?? "");
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/.test(id)) {
    throw new SettingsError(
      id.trim() === ""
        ? `${flag} needs a run id, got an empty value (an unset variable in the scheduler?); run ids look like 20240101T000000-1a2b3c4d (see runs/ in the artifacts or run_history)`
        : `${flag} ${JSON.stringify(id)} is not a run id: letters, digits, "_", "-" and "." only (e.g. 20240101T000000-1a2b3c4d)`,
    );
  }
  return id;
}

/** The run record of `runId`: runs/<id>/run.json in the artifact store, else rebuilt from run_history. */
export async function storedRunRecord(s: Session, runId: string): Promise<RunRecord | undefined> {
  const stored = await s.artifacts.get(`runs/${runId}/run.json`);
  if (stored) return reviveRunRecord(JSON.parse(stored.toString("utf8")));
  const graph = { projectConfig: { defaultDatabase: s.project.workflow.defaultProject, defaultSchema: "", assertionSchema: "", vars: {} } };
  return runRecordFromHistory(s.engine, s.project.settings, graph, runId);
}
