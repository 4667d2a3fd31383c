/**
 * The cost plan (`funnelcredit plan`): the bytes BigQuery would process per action and in total, and
 * their on-demand cost, for a first run (a full refresh) and for a daily incremental run, from two dry
 * runs over the warehouse as it is now. On BigQuery the bytes are BigQuery's own dry-run estimates; on
 * DuckDB (and the strict local BigQuery) they are estimated from the data by BigQuery's per-type sizes
 * (src/engines/duckdb/scan-bytes.ts).
 *
 * What "daily" means here: an incremental run started now, so each incremental model re-reads its
 * late-data window up to the newest day already loaded (a new export day adds one day table to it).
 * Actions that read a table not built yet cannot be estimated and are listed as such.
 */
import { checkDefinitionsBeforeRun, runGraph, type RunOptions } from "./runner.ts";
import type { RunRecord } from "./run-record.ts";
import { bytesAndCost } from "./summary.ts";

interface PlanRow {
  action: string;
  kind: string;
  /** Bytes of a first run (full refresh); undefined when it could not be estimated. */
  firstRun?: number;
  /** Bytes of a daily incremental run; undefined when it could not be estimated. */
  daily?: number;
  note?: string;
}

interface CostPlan {
  engine: string;
  /** Where the bytes come from (the engine's dryRunBytesSource). */
  bytesSource: string;
  rows: PlanRow[];
  firstRun: number;
  daily: number;
  /**
   * Of `daily`, the bytes of actions other than incremental models (tables rebuilt whole, assertions, jobs): they read
   * what their inputs hold, not a window of days, so this part grows with the history the warehouse holds.
   */
  dailyWhole: number;
  /** Actions not estimated (inputs not built yet, or the dry run failed), per run kind. */
  notEstimated: { firstRun: string[]; daily: string[] };
}

type PlanOptions = Omit<RunOptions, "dryRun" | "fullRefresh" | "recordHistory" | "alreadySucceeded" | "attempt">;

export async function costPlan(opts: PlanOptions): Promise<CostPlan> {
  // The daily run is an incremental one: refused, before either plan, when an incremental table would mix definitions.
  const definitions = opts.definitions ?? (await checkDefinitionsBeforeRun({ ...opts, fullRefresh: false }));
  const first = await runGraph({ ...opts, dryRun: true, fullRefresh: true, recordHistory: false, definitions });
  const daily = await runGraph({ ...opts, dryRun: true, fullRefresh: false, recordHistory: false, runId: first.runId, definitions });
  return planOf(first, daily, opts.engine.dryRunBytesSource);
}

/** Both dry runs' records as one plan (pure). */
export function planOf(first: RunRecord, daily: RunRecord, bytesSource = "dry runs"): CostPlan {
  const estimated = (r: RunRecord, name: string): number | undefined => {
    const a = r.actions.find((x) => x.action === name);
    return a && a.status === "dry_run" && !a.note?.startsWith("not checked") ? (a.bytesProcessed ?? 0) : undefined;
  };
  const rows: PlanRow[] = first.actions.map((a) => {
    const d = daily.actions.find((x) => x.action === a.action);
    const why = [a, d].map((x) => (x?.status === "failed" ? `dry run failed: ${x.error}` : x?.note?.startsWith("not checked") ? x.note : undefined)).find(Boolean);
    return { action: a.action, kind: a.kind, firstRun: estimated(first, a.action), daily: estimated(daily, a.action), ...(why ? { note: why } : {}) };
  });
  return {
    engine: first.engine,
    bytesSource,
    rows,
    firstRun: rows.reduce((s, r) => s + (r.firstRun ?? 0), 0),
    daily: rows.reduce((s, r) => s + (r.daily ?? 0), 0),
    dailyWhole: rows.filter((r) => r.kind !== "incremental").reduce((s, r) => s + (r.daily ?? 0), 0),
    notEstimated: { firstRun: rows.filter((r) => r.firstRun === undefined).map((r) => r.action), daily: rows.filter((r) => r.daily === undefined).map((r) => r.action) },
  };
}

/** The plan as people read it: one line per action that reads anything, then the totals and their ratio. */
export function formatPlan(plan: CostPlan, price: { perTib: number; currency: string }): string {
  const width = Math.max(6, ...plan.rows.map((r) => r.action.length));
  const num = (n: number | undefined): string => (n === undefined ? "—" : n.toLocaleString("en-US"));
  const cols = [plan.rows.map((r) => num(r.firstRun)), plan.rows.map((r) => num(r.daily))];
  const w1 = Math.max("first run (bytes)".length, ...cols[0]!.map((x) => x.length));
  const w2 = Math.max("daily run (bytes)".length, ...cols[1]!.map((x) => x.length));
  const line = (a: string, f: string, d: string): string => `${a.padEnd(width)}  ${f.padStart(w1)}  ${d.padStart(w2)}`;
  const out = [
    `cost plan on ${plan.engine} (${plan.bytesSource}); on-demand price ${price.perTib} ${price.currency} per TiB`,
    line("action", "first run (bytes)", "daily run (bytes)"),
    line("-".repeat(width), "-".repeat(w1), "-".repeat(w2)),
  ];
  plan.rows.forEach((r, i) => {
    if (r.firstRun || r.daily || r.note) out.push(line(r.action, cols[0]![i]!, cols[1]![i]!));
  });
  out.push(`first run (full refresh): ${bytesAndCost(plan.firstRun, price)}`);
  out.push(`daily incremental run:    ${bytesAndCost(plan.daily, price)}`);
  if (plan.firstRun > 0) out.push(`a daily run processes ${((100 * plan.daily) / plan.firstRun).toFixed(2)} % of a first run`);
  if (plan.daily > 0) {
    out.push(`of the daily run, ${plan.dailyWhole.toLocaleString("en-US")} bytes (${((100 * plan.dailyWhole) / plan.daily).toFixed(2)} %) are actions other than incremental models (tables rebuilt whole, assertions, jobs): ` +
      "they read what their inputs hold, not a window of days, so this part grows with the history the warehouse holds");
  }
  const missing = new Set([...plan.notEstimated.firstRun, ...plan.notEstimated.daily]);
  if (missing.size) {
    out.push(`${missing.size} action(s) not estimated (they read tables not built yet, or their dry run failed): run once, then plan again`);
    for (const r of plan.rows.filter((x) => missing.has(x.action) && x.note)) out.push(`  ${r.action}: ${r.note}`);
  }
  return out.join("\n");
}
