/** After a run: summary, run record artifact, exit code (0 only if every action succeeded). */
import type { RunRecord } from "../runner/run-record.ts";
import { formatSummary } from "../runner/summary.ts";
import type { Session } from "./session.ts";

export async function finishRun(s: Session, run: RunRecord): Promise<number> {
  const file = await s.artifacts.put(`runs/${run.runId}/run.json`, JSON.stringify(run, null, 2), "application/json");
  if (s.logger.json) {
    s.logger.info("run finished", { event: "run_finished", runId: run.runId, status: run.status, record: file });
  } else {
    process.stderr.write(formatSummary(run) + `\n  run record: ${file}\n`);
  }
  return run.status === "succeeded" ? 0 : 1;
}
