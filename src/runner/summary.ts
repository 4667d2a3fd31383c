/** The run summary people read at the end of a run. */
import type { RunRecord } from "./run-record.ts";

export function formatSummary(run: RunRecord): string {
  const count = (s: string): number => run.actions.filter((a) => a.status === s).length;
  const secs = ((run.endedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1);
  const lines = [
    `run ${run.runId} on ${run.engine}: ${run.status.toUpperCase()} in ${secs}s — ` +
      `${count("succeeded")} succeeded, ${count("warning")} with warnings, ${count("failed")} failed, ${count("skipped")} skipped` +
      (count("cancelled") ? `, ${count("cancelled")} cancelled` : "") +
      (run.dryRun ? `, ${count("dry_run")} checked (dry run)` : "") +
      // The warnings listed below: those of actions and those of the run (jobs, input checks), counted as listed.
      (run.warnings.length ? `; ${run.warnings.length} warning${run.warnings.length === 1 ? "" : "s"}:` : ""),
  ];
  for (const a of run.actions.filter((x) => x.status === "failed")) lines.push(`  ✗ ${a.action}: ${a.error}`);
  for (const w of run.warnings) lines.push(`  ! ${w}`);
  if (run.dryRun) {
    const bytes = run.actions.reduce((s, a) => s + (a.bytesProcessed ?? 0), 0);
    for (const a of run.actions.filter((x) => x.bytesProcessed)) lines.push(`    ${a.action}: ${a.bytesProcessed!.toLocaleString("en-US")} bytes`);
    if (bytes) lines.push(`  estimated bytes processed: ${bytes.toLocaleString("en-US")}`);
    const unchecked = run.actions.filter((x) => x.note?.startsWith("not checked")).length;
    if (unchecked) lines.push(`  ${unchecked} action(s) not checked: they read tables this run would build first (run once, then dry-run again)`);
  }
  return lines.join("\n");
}
