/** After a run: the run record and report, the summary, and the exit code (0 only if every action succeeded). */
import type { RunRecord } from "../runner/run-record.ts";
import { formatSummary } from "../runner/summary.ts";
import { writeRunReport } from "../report/write.ts";
import type { Session } from "./session.ts";

export async function finishRun(s: Session, run: RunRecord): Promise<number> {
  const record = await s.artifacts.put(`runs/${run.runId}/run.json`, JSON.stringify(run, null, 2), "application/json");
  let report: string | undefined;
  if (!run.dryRun) {
    try {
      report = await writeRunReport(s.engine, s.project.settings, run, s.artifacts, { database: s.project.graph.projectConfig.defaultDatabase });
    } catch (e) {
      // A report problem never changes the run's outcome; say so and go on.
      s.logger.warn(`could not write the run report: ${(e as Error).message}`);
    }
  }
  if (s.logger.json) {
    s.logger.info("run finished", { event: "run_finished", runId: run.runId, status: run.status, record, report });
  } else {
    process.stderr.write(formatSummary(run) + `
  run record: ${record}
` + (report ? `  report: ${report}
` : ""));
  }
  return run.status === "succeeded" ? 0 : 1;
}
