/** The run summary people read at the end of a run. */
import type { RunRecord } from "./run-record.ts";

/** 2^40 bytes: BigQuery's on-demand price is per TiB (https://cloud.google.com/bigquery/pricing#on_demand_pricing). */
const TIB = 1024 ** 4;

/** Bytes as BigQuery bills them, with the on-demand cost at `pricePerTib` (e.g. "1,099,511,627,776 bytes (1.000 TiB, 6.25 USD)"). */
export function bytesAndCost(bytes: number, price?: { perTib: number; currency: string }): string {
  const tib = bytes / TIB;
  const size = tib >= 0.001 ? `${tib.toFixed(3)} TiB` : `${(bytes / 1024 ** 3).toFixed(3)} GiB`;
  const cost = price ? `, ${(tib * price.perTib).toFixed(tib * price.perTib < 0.01 ? 6 : 2)} ${price.currency}` : "";
  return `${bytes.toLocaleString("en-US")} bytes (${size}${cost})`;
}

/**
 * `price`: vars.on_demand_price_per_tib and vars.currency: a dry run's per-action and total bytes also read as the
 * on-demand cost (before BigQuery's 10 MiB minimum per table referenced).
 */
export function formatSummary(run: RunRecord, price?: { perTib: number; currency: string }): string {
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
    for (const a of run.actions.filter((x) => x.bytesProcessed)) lines.push(`    ${a.action}: ${bytesAndCost(a.bytesProcessed!, price)}`);
    if (bytes) lines.push(`  estimated bytes processed: ${bytesAndCost(bytes, price)}${price ? ` at ${price.perTib} ${price.currency} per TiB on demand` : ""}`);
    const unchecked = run.actions.filter((x) => x.note?.startsWith("not checked")).length;
    if (unchecked) lines.push(`  ${unchecked} action(s) not checked: they read tables this run would build first (run once, then dry-run again)`);
  }
  return lines.join("\n");
}
