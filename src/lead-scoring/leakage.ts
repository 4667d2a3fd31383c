/**
 * Columns that would let the lead model cheat. Pure functions.
 *
 * - **Outcome leaks**: a column that alone predicts the label almost perfectly is most often
 *   recorded after the outcome (X Education's `Tags`: "Closed by Horizzon", "Will revert after
 *   reading the email"; test AUC 0.98 with it). Measured as the single-feature AUC of the column's
 *   cross-fitted conversion rate per value (2 folds by row parity: the rate of a row's value is
 *   learnt on the other fold, so a many-valued column cannot score by memorising), numeric columns
 *   in 20 quantile bins, missing values as their own value. AUC = max(AUC, 1 − AUC).
 * - **Ids in time order**: a numeric column unique per row and monotone in lead creation time
 *   (|Spearman ρ| ≥ 0.99) is a sequence number (`Lead Number`): a time split then is a split on the
 *   column itself, and the model learns the period, not the lead.
 * Complexity per column: O(rows + values log values) for the outcome AUC, O(rows log rows) for the time order.
 */
import type { Row, Value } from "../engines/engine.ts";
import type { FeatureSpec } from "../models/encoding.ts";
import { rocAuc } from "../models/metrics.ts";

interface LeakageFinding {
  column: string;
  kind: "outcome" | "time_order_id";
  /** Single-feature AUC (outcome) or |Spearman ρ| with created_at (time_order_id). */
  value: number;
  message: string;
}

interface LeakageOptions {
  /** Flag a column whose single-feature AUC exceeds this (vars.lead_leakage_max_auc). */
  maxSingleFeatureAuc: number;
}

const MISSING = "\u0000missing";

function present(v: Value | undefined): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === "string") return v.trim() !== "";
  if (typeof v === "number") return Number.isFinite(v);
  return true;
}

/**
 * Each row's value as a group code (0 … groups − 1; `missing` for a missing value): categorical/boolean values by
 * their text, numbers by quantile bin.
 */
function groupCodes(rows: readonly Row[], spec: FeatureSpec, bins = 20): { codes: Int32Array; groups: number; missing: number } {
  const codes = new Int32Array(rows.length);
  if (spec.kind !== "numeric") {
    const byText = new Map<string, number>();
    rows.forEach((r, i) => {
      const v = r[spec.name];
      const text = present(v) ? String(v).trim().toLowerCase() : MISSING;
      let code = byText.get(text);
      if (code === undefined) byText.set(text, (code = byText.size));
      codes[i] = code;
    });
    return { codes, groups: byText.size, missing: byText.get(MISSING) ?? -1 };
  }
  const nums = Float64Array.from(rows, (r) => {
    const v = r[spec.name];
    return present(v) ? Number(v) : NaN;
  });
  const sorted = nums.filter((x) => !Number.isNaN(x)).sort();
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) edges.push(sorted[Math.floor((k * sorted.length) / bins)] ?? Infinity);
  nums.forEach((x, i) => {
    if (Number.isNaN(x)) {
      codes[i] = bins;
      return;
    }
    let b = 0;
    while (b < edges.length && x >= edges[b]!) b++;
    codes[i] = b;
  });
  return { codes, groups: bins + 1, missing: bins };
}

/**
 * AUC of a column's cross-fitted per-value conversion rate (see the module comment), over every row
 * and over the rows where the column is filled in (a field sales fill in only for the leads they
 * worked leaks on those rows; missing elsewhere hides it), whichever is higher. The filled-in rows
 * count only when they are at least a fifth of the rows and hold both outcomes.
 */
export function singleFeatureAuc(rows: readonly Row[], labels: readonly number[], spec: FeatureSpec): number {
  const { codes, groups, missing } = groupCodes(rows, spec);
  const all = crossFittedAuc(codes, groups, labels);
  const filled: number[] = [];
  codes.forEach((c, i) => {
    if (c !== missing) filled.push(i);
  });
  if (filled.length === codes.length || filled.length < 0.2 * codes.length) return all;
  const y = filled.map((i) => labels[i]!);
  const pos = y.reduce((s, v) => s + v, 0);
  if (pos === 0 || pos === y.length) return all;
  return Math.max(all, crossFittedAuc(Int32Array.from(filled, (i) => codes[i]!), groups, y));
}

/**
 * A row's score is the conversion rate of its group in the other fold (folds by row parity; that fold's base rate
 * when the group is not in it), so the rows of one group and parity share a score: the AUC is taken over those
 * (at most 2 × groups) scores with their positive and negative counts as weights — the AUC of the rows' scores.
 */
function crossFittedAuc(codes: Int32Array, groups: number, labels: readonly number[]): number {
  // [fold][group]: label sum and rows.
  const sums = [new Float64Array(groups), new Float64Array(groups)];
  const counts = [new Float64Array(groups), new Float64Array(groups)];
  const pos = [0, 0];
  const n = [0, 0];
  codes.forEach((g, i) => {
    const f = i % 2;
    sums[f]![g] += labels[i]!;
    counts[f]![g] += 1;
    pos[f] += labels[i]!;
    n[f] += 1;
  });
  const scores: number[] = [];
  const outcome: number[] = [];
  const weight: number[] = [];
  for (let f = 0; f < 2; f++) {
    const other = 1 - f;
    const prior = n[other]! ? pos[other]! / n[other]! : 0;
    for (let g = 0; g < groups; g++) {
      if (!counts[f]![g]) continue;
      const score = counts[other]![g] ? sums[other]![g]! / counts[other]![g]! : prior;
      scores.push(score, score);
      outcome.push(1, 0);
      weight.push(sums[f]![g]!, counts[f]![g]! - sums[f]![g]!);
    }
  }
  const auc = rocAuc(scores, outcome, weight);
  return Math.max(auc, 1 - auc);
}

/** Average ranks (ties share their mean rank). */
function ranks(values: readonly number[]): number[] {
  const idx = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Array<number>(values.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && values[idx[j + 1]!] === values[idx[i]!]) j++;
    for (let k = i; k <= j; k++) out[idx[k]!] = (i + j) / 2;
    i = j + 1;
  }
  return out;
}

/** Spearman's ρ: Pearson correlation of the ranks. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * Leaking columns among `specs` on labelled leads (`labels[i]` for `rows[i]`, `createdAt[i]` in ms or
 * null). Needs at least 50 rows; fewer give no finding.
 */
export function findLeakage(rows: readonly Row[], labels: readonly number[], createdAt: readonly (number | null)[], specs: readonly FeatureSpec[], opts: LeakageOptions): LeakageFinding[] {
  if (rows.length < 50) return [];
  const out: LeakageFinding[] = [];
  for (const spec of specs) {
    const auc = singleFeatureAuc(rows, labels, spec);
    if (auc > opts.maxSingleFeatureAuc) {
      out.push({
        column: spec.name, kind: "outcome", value: auc,
        message: `${spec.name} alone predicts the outcome (single-feature AUC ${auc.toFixed(3)} > vars.lead_leakage_max_auc ${opts.maxSingleFeatureAuc}): it is probably recorded after the lead converts`,
      });
      continue;
    }
    if (spec.kind !== "numeric") continue;
    const pairs: [number, number][] = [];
    const seen = new Set<number>();
    let unique = true;
    rows.forEach((r, i) => {
      const v = r[spec.name];
      const t = createdAt[i];
      if (!present(v) || t === null || t === undefined) return;
      const x = Number(v);
      if (seen.has(x)) unique = false;
      seen.add(x);
      pairs.push([x, t]);
    });
    if (!unique || pairs.length < 0.9 * rows.length) continue;
    const rho = spearman(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
    if (Math.abs(rho) >= 0.99) {
      out.push({
        column: spec.name, kind: "time_order_id", value: Math.abs(rho),
        message: `${spec.name} is unique per lead and follows creation time (|Spearman ρ| ${Math.abs(rho).toFixed(3)}): a sequence number, so the model would learn the period, not the lead`,
      });
    }
  }
  return out;
}
