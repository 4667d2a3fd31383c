/**
 * Distribution drift between a training baseline and current data: population stability index with
 * bins fixed at training (plus a missing bin), and the two-sample Kolmogorov–Smirnov test.
 * Pure functions, no I/O; bins serialise as plain JSON. NaN means missing everywhere.
 */
import { ModelInputError } from "./numeric.ts";

/**
 * Bins fixed at training. Value x (not NaN) goes to the first bin i with x ≤ upper[i]; the last bin is
 * open (upper = +∞ is not stored: `upper` has one entry less than the number of value bins). NaN goes to
 * the missing bin, which is always last. `expected` holds the training share of every bin, missing last.
 */
export interface PsiBins {
  /** Inclusive upper edges of the value bins except the last (ascending, distinct). */
  upper: number[];
  /** Training share per bin: value bins in order, then the missing bin; sums to 1 (or all 0 if empty). */
  expected: number[];
}

/**
 * Fix PSI bins on the training values.
 *
 * Rule: with at most `maxBins` distinct non-missing values, each distinct value gets its own bin (the
 * edges are the distinct values themselves, so categorical codes and booleans bin exactly); otherwise the
 * edges are the weighted quantiles at k/maxBins (k = 1..maxBins−1), taken as actual values
 * (x ≤ edge), with duplicates dropped, so heavy ties yield fewer bins rather than empty ones.
 * Reference: Siddiqi (2006), Credit Risk Scorecards, ch. 8 (deciles of the development sample).
 * Complexity: O(n log n). Edge cases: all values missing → no value bins ([] upper, one open bin of
 * share 0) and missing share 1; empty input → all shares 0.
 */
export function fitPsiBins(values: ArrayLike<number>, maxBins = 10): PsiBins {
  if (!Number.isInteger(maxBins) || maxBins < 1) throw new ModelInputError(`fitPsiBins: maxBins must be an integer ≥ 1, got ${maxBins}`);
  const present: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === v) {
      if (!Number.isFinite(v)) throw new ModelInputError(`fitPsiBins: value ${i} is ${v}; use NaN for missing`);
      present.push(v);
    }
  }
  present.sort((a, b) => a - b);
  const distinct: number[] = [];
  for (const v of present) if (distinct[distinct.length - 1] !== v) distinct.push(v);
  let upper: number[];
  if (distinct.length <= maxBins) upper = distinct.slice(0, -1);
  else {
    upper = [];
    for (let k = 1; k < maxBins; k++) {
      const q = present[Math.min(present.length - 1, Math.ceil((k * present.length) / maxBins) - 1)]!;
      if (upper[upper.length - 1] !== q && q < distinct[distinct.length - 1]!) upper.push(q);
    }
  }
  const bins: PsiBins = { upper, expected: [] };
  bins.expected = binShares(bins, values);
  return bins;
}

/** Index of the bin of x: value bins 0..upper.length, missing bin upper.length + 1. O(log bins). */
export function binIndex(bins: Pick<PsiBins, "upper">, x: number): number {
  if (x !== x) return bins.upper.length + 1;
  let lo = 0;
  let hi = bins.upper.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= bins.upper[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Share of values per bin (missing last). Empty input → all zeros. O(n log bins). */
export function binShares(bins: Pick<PsiBins, "upper">, values: ArrayLike<number>): number[] {
  const counts = new Array<number>(bins.upper.length + 2).fill(0);
  for (let i = 0; i < values.length; i++) counts[binIndex(bins, values[i]!)]! += 1;
  const n = values.length;
  return counts.map((c) => (n > 0 ? c / n : 0));
}

/** Floor for empty bins in {@link psi}: a share of 0 would make ln(a/e) infinite. */
const PSI_EPSILON = 1e-4;

/**
 * Population stability index between the training shares `expected` and current shares `actual`.
 *
 * Formula: PSI = Σ_b (a_b − e_b) · ln(a_b / e_b), with shares floored at ε = 1e-4 (a bin that is empty
 * on one side contributes a large but finite amount). Rules of thumb: < 0.1 stable, 0.1–0.25 some
 * shift, > 0.25 major shift.
 * Reference: Yurdakul (2018), "Statistical properties of the population stability index", Western
 * Michigan University dissertation; Siddiqi (2006), Credit Risk Scorecards.
 * Complexity: O(bins). Edge cases: bins empty on both sides contribute 0; either side all zeros (no
 * data) → 0 (nothing to compare). Lengths must match.
 */
export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>, eps = PSI_EPSILON): number {
  if (expected.length !== actual.length) throw new ModelInputError(`psi: ${expected.length} expected shares but ${actual.length} actual shares`);
  let se = 0;
  let sa = 0;
  for (let i = 0; i < expected.length; i++) {
    se += expected[i]!;
    sa += actual[i]!;
  }
  if (!(se > 0) || !(sa > 0)) return 0;
  let out = 0;
  for (let i = 0; i < expected.length; i++) {
    const e0 = expected[i]!;
    const a0 = actual[i]!;
    if (e0 === 0 && a0 === 0) continue;
    const e = Math.max(e0, eps);
    const a = Math.max(a0, eps);
    out += (a - e) * Math.log(a / e);
  }
  return out;
}

/** PSI of `current` values against bins fixed at training. O(n log bins). */
export function psiOf(bins: PsiBins, current: ArrayLike<number>): number {
  return psi(bins.expected, binShares(bins, current));
}

interface KsResult {
  /** D = sup_x |F_a(x) − F_b(x)| over the non-missing values. */
  statistic: number;
  /** Asymptotic two-sided p-value. */
  pValue: number;
  /** Non-missing sizes used. */
  nA: number;
  nB: number;
}

/**
 * Kolmogorov distribution tail Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2 j² λ²}.
 * Reference: Press et al., Numerical Recipes (3rd ed.), §6.14 / §14.3.3. Q(0) = 1. O(terms ≤ 100).
 */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  let sign = 1;
  for (let j = 1; j <= 100; j++) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    sum += sign * term;
    if (term < 1e-16 * Math.abs(sum) || term < 1e-300) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Two-sample Kolmogorov–Smirnov test.
 *
 * Formula: D = max_x |F_a(x) − F_b(x)| over the pooled sorted values (ties advance both empirical CDFs
 * together before comparing); p ≈ Q((√nₑ + 0.12 + 0.11/√nₑ) · D) with nₑ = n_a n_b / (n_a + n_b)
 * (Stephens' approximation to the asymptotic distribution).
 * Reference: Press et al., Numerical Recipes (3rd ed.), §14.3.3 (kstwo); Stephens (1970), JRSS B 32:115–122.
 * Complexity: O((n_a + n_b) log(n_a + n_b)).
 * Edge cases: NaN (missing) and other non-finite values (also null) are ignored; either sample empty → D = 0, p = 1. The p-value is
 * asymptotic (conservative for n < ~30 per side, too small for huge samples of ties).
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  // Only finite numbers take part (a JSON round trip turns NaN into null, which must not count as 0).
  const usable = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  const sa = Array.from(a).filter(usable).sort((x, y) => x - y);
  const sb = Array.from(b).filter(usable).sort((x, y) => x - y);
  const nA = sa.length;
  const nB = sb.length;
  if (nA === 0 || nB === 0) return { statistic: 0, pValue: 1, nA, nB };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < nA && j < nB) {
    const x = Math.min(sa[i]!, sb[j]!);
    while (i < nA && sa[i] === x) i++;
    while (j < nB && sb[j] === x) j++;
    d = Math.max(d, Math.abs(i / nA - j / nB));
  }
  const ne = (nA * nB) / (nA + nB);
  const sq = Math.sqrt(ne);
  return { statistic: d, pValue: kolmogorovQ((sq + 0.12 + 0.11 / sq) * d), nA, nB };
}
