/**
 * After a run: the run record and report, the summary, and the exit code (README "Exit codes"):
 * 0 every action succeeded, 1 an action failed, 128 + the signal's number when a signal cancelled it.
 */
import type { RunRecord } from "../runner/run-record.ts";
import { formatSummary } from "../runner/summary.ts";
import type { Session } from "./session.ts";
import { exitCodeForSignal, receivedSignal } from "./signals.ts";

function exitCodeFor(run: RunRecord): number {
  if (run.status === "succeeded") return 0;
  if (run.status === "cancelled") return exitCodeForSignal(receivedSignal() ?? "SIGTERM");
  return 1;
}

export async function finishRun(s: Session, run: RunRecord): Promise<number> {
  const record = await s.artifacts.put(`runs/${run.runId}/run.json`, JSON.stringify(run, null, 2), "application/json");
  let report: string | undefined;
  // A cancelled run stops promptly (a scheduler allows a few seconds after SIGTERM): no report.
  if (!run.dryRun && run.status !== "cancelled") {
    try {
      // Loaded here, after the run: the report's chart libraries (Vega) would otherwise delay the first action.
      const { writeRunReport } = await import("../report/write.ts");
      report = await writeRunReport(s.engine, s.project.settings, run, s.artifacts, { database: s.project.graph.projectConfig.defaultDatabase });
    } catch (e) {
      // A report problem never changes the run's outcome; say so and go on.
      run.warnings.push(`could not write the run report: ${(e as Error).message}`);
    }
  }
  const code = exitCodeFor(run);
  if (s.logger.json) {
    // Every warning as its own line, then one summary line an alert can match on (severity, exitCode).
    const log = s.logger.with({ runId: run.runId });
    for (const w of run.warnings) log.warn(w, { event: "run_warning" });
    const count = (st: string): number => run.actions.filter((a) => a.status === st).length;
    // Bytes whenever the engine reported them (BigQuery's jobs and dry runs, DuckDB's dry-run estimates), whichever it is.
    const reported = run.actions.filter((a) => a.bytesProcessed !== undefined);
    const bytes = reported.length ? reported.reduce((n, a) => n + a.bytesProcessed!, 0) : undefined;
    log.log(run.status === "succeeded" ? "info" : run.status === "failed" ? "error" : "warn", formatSummary(run).split("\n")[0]!, {
      event: "run_finished", status: run.status, exitCode: code, engine: run.engine,
      durationMs: run.endedAt.getTime() - run.startedAt.getTime(), bytesProcessed: bytes,
      succeeded: count("succeeded"), failed: count("failed"), skipped: count("skipped"), warnings: run.warnings.length, cancelled: count("cancelled"),
      failedActions: run.actions.filter((a) => a.status === "failed").map((a) => ({ action: a.action, jobId: a.jobId, error: a.error })),
      record, report,
    });
  } else {
    const price = { perTib: s.project.settings.onDemandPricePerTib, currency: s.project.settings.currency };
    process.stderr.write(formatSummary(run, price) + `
  run record: ${record}
` + (report ? `  report: ${report}
` : ""));
  }
  return code;
}
