/**
 * Lead rows as the job reads them from `lead_features`: key columns apart, every other column a
 * candidate feature. Pure functions.
 */
import type { Row, Value } from "../engines/engine.ts";
import { UserError } from "../util/errors.ts";

/** Columns that are never features: ids, the label, its timestamp, identity links, the cut-off. */
const KEY_COLUMNS = ["lead_id", "created_at", "converted_at", "converted", "user_id", "client_id", "cutoff_at"] as const;

export interface LeadRecord {
  leadId: string;
  /** ms since epoch, or null (no date: only the random split works). */
  createdAt: number | null;
  cutoffAt: number | null;
  convertedAt: number | null;
  converted: boolean | null;
  /** The full row (features are read from it by name). */
  row: Row;
}

function ms(v: Value | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  const t = Date.parse(String(v));
  return Number.isNaN(t) ? null : t;
}

function bool(v: Value | undefined): boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v;
  if (typeof v === "number" || typeof v === "bigint") return Number(v) !== 0;
  const s = String(v).trim().toLowerCase();
  if (["1", "true", "yes", "y"].includes(s)) return true;
  if (["0", "false", "no", "n"].includes(s)) return false;
  return null;
}

export function toLeadRecords(rows: readonly Row[], table = "lead_features"): LeadRecord[] {
  return rows.map((r, i) => {
    const id = r.lead_id;
    if (id === null || id === undefined || String(id) === "") throw new UserError(`${table} row ${i + 1}: lead_id is empty`);
    return {
      leadId: String(id),
      createdAt: ms(r.created_at),
      cutoffAt: ms(r.cutoff_at),
      convertedAt: ms(r.converted_at),
      converted: bool(r.converted),
      row: r,
    };
  });
}

/**
 * Candidate feature columns: every column except KEY_COLUMNS and `exclude` (leaky columns named in
 * vars.lead_exclude_columns). Excluded names that are not columns are returned so the job can warn.
 */
export function candidateColumns(rows: readonly Row[], exclude: readonly string[]): { columns: string[]; unknownExcluded: string[] } {
  const all = new Set<string>();
  for (const r of rows.slice(0, 1000)) for (const k of Object.keys(r)) all.add(k);
  return candidateColumnsOf([...all], exclude);
}

/** `candidateColumns` of a table whose column names are known (a column-wise read: src/jobs/column-table.ts). */
export function candidateColumnsOf(names: readonly string[], exclude: readonly string[]): { columns: string[]; unknownExcluded: string[] } {
  const all = new Set(names);
  const skip = new Set<string>([...KEY_COLUMNS, ...exclude]);
  return {
    columns: [...all].filter((c) => !skip.has(c)).sort(),
    unknownExcluded: exclude.filter((c) => !all.has(c)),
  };
}

/** The fewest labelled leads the model trains on, and the fewest of each class (converted, not) among them. */
const MIN_LABELLED_LEADS = 50;
const MIN_LEADS_PER_CLASS = 5;

/**
 * Why `labels` (labelOf's, unknown ones left out) are too few to train on; undefined when they are enough. `young`:
 * how many leads have no label only for being younger than the maturity window (heldBack), when it is known.
 */
export function tooFewLabels(labels: readonly number[], young?: number): string | undefined {
  const n = labels.length;
  const pos = labels.reduce((a, b) => a + b, 0);
  const hint = young === undefined
    ? " (lower vars.lead_label_maturity_days if recent leads are held back)"
    : young > 0 ? `; ${young} more ${young === 1 ? "is" : "are"} younger than vars.lead_label_maturity_days and not labelled yet (lower it to use them)` : "";
  if (n < MIN_LABELLED_LEADS) return `only ${n} labelled leads; the lead-scoring model needs at least ${MIN_LABELLED_LEADS}${hint}`;
  if (pos < MIN_LEADS_PER_CLASS || n - pos < MIN_LEADS_PER_CLASS) return `${pos} converted and ${n - pos} unconverted labelled leads; the model needs at least ${MIN_LEADS_PER_CLASS} of each`;
  return undefined;
}

/**
 * A lead without a label only because it is younger than the maturity window: not converted yet, and labelOf leaves
 * an unconverted lead unlabelled only for its age.
 */
export function heldBack(rec: LeadRecord, nowMs: number, maturityDays: number): boolean {
  return rec.converted === false && labelOf(rec, nowMs, maturityDays) === null;
}

/** Why the leads labelled among `records` at `nowMs` (labelOf) are too few to train on, held-back ones counted; undefined when enough. */
export function labelShortfall(records: readonly LeadRecord[], nowMs: number, maturityDays: number): string | undefined {
  const labels: number[] = [];
  let young = 0;
  for (const r of records) {
    const y = labelOf(r, nowMs, maturityDays);
    if (y !== null) labels.push(y);
    else if (heldBack(r, nowMs, maturityDays)) young++;
  }
  return tooFewLabels(labels, young);
}

/**
 * Whether a lead's outcome is known and usable as a label at time `nowMs`:
 * - converted at or before its cut-off → not usable (it had converted before it could be scored);
 * - converted → positive;
 * - not converted and older than the maturity window → negative;
 * - otherwise (young, or converted unknown) → unknown.
 */
export function labelOf(rec: LeadRecord, nowMs: number, maturityDays: number): 0 | 1 | null {
  if (rec.converted === true) {
    if (rec.convertedAt !== null && rec.cutoffAt !== null && rec.convertedAt <= rec.cutoffAt) return null;
    return 1;
  }
  if (rec.converted === false) {
    if (rec.createdAt === null || rec.createdAt <= nowMs - maturityDays * 86_400_000) return 0;
    return null;
  }
  return null;
}
