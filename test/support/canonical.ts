/**
 * A table's rows as sorted canonical text, for comparing two warehouses table by table (DuckDB vs the
 * strict local BigQuery, an incremental sequence vs one full refresh): numbers rounded to 1e-9 (credit
 * columns are rounded so in the models), dates as ISO text, object keys sorted; columns that name the
 * run or the moment (run ids, model versions, timestamps of bookkeeping) and metrics that measure the
 * machine (`*_seconds`, `*_ms`) left out.
 */
import type { Row } from "../../src/engines/engine.ts";

const RUN_DEPENDENT = /^(run_id|model_run_id|model_version|measured_at|quarantined_at)$/;
const MACHINE_METRIC = /_(seconds|ms)$/;

/** `skipMetric`: further metrics (by name) to leave out, e.g. drift figures only a sequence of runs has. */
export function canonicalRows(rows: Row[], opts: { skipMetric?: RegExp } = {}): string[] {
  const norm = (v: unknown): unknown => {
    if (typeof v === "number") return Number.isInteger(v) ? v : Math.round(v * 1e9) / 1e9;
    if (typeof v === "bigint") return Number(v);
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, norm(x)]));
    return v;
  };
  const skipped = (metric: string): boolean => MACHINE_METRIC.test(metric) || (opts.skipMetric?.test(metric) ?? false);
  return rows
    .filter((r) => !skipped(String(r.metric ?? "")))
    .map((r) => JSON.stringify(norm(Object.fromEntries(Object.entries(r).filter(([k]) => !RUN_DEPENDENT.test(k))))))
    .sort();
}
