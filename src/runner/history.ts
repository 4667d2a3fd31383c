/** Reading the run-history table back (resume, reports). */
import type { Engine } from "../engines/engine.ts";
import { qualified } from "../engines/engine.ts";
import type { Project } from "../compile/project.ts";
import { sqlString } from "../util/sql.ts";
import { RUN_HISTORY_TABLE } from "./run-record.ts";

export function historyTarget(project: Project) {
  return { database: project.workflow.defaultProject, schema: project.settings.datasets.meta, name: RUN_HISTORY_TABLE };
}

/** Actions whose latest record in run `runId` is a success: a resumed run skips them. */
export async function succeededActions(engine: Engine, project: Project, runId: string): Promise<Set<string>> {
  const t = historyTarget(project);
  if (!(await engine.tableExists(t))) return new Set();
  const rows = await engine.query(
    `SELECT action FROM ${qualified(t)} WHERE run_id = ${sqlString(runId)} AND status IN ('succeeded', 'warning')`,
  );
  return new Set(rows.map((r) => String(r.action)));
}
