/**
 * Weighted evaluation metrics for binary probability models (attribution, lead scoring). Pure functions
 * over array-likes, no I/O.
 *
 * Conventions shared by every function here:
 * - `p` / `scores`: one score per row. Probabilities in [0, 1] where the metric needs them (log loss,
 *   Brier, calibration); ROC/PR/lift only use the order.
 * - `y` / `labels`: in [0, 1]. A fractional label is an aggregated row: row i adds positive mass
 *   w_i·y_i and negative mass w_i·(1 − y_i). So the "two rows per unique path" encoding
 *   (label 1 weight = conversions, label 0 weight = non-conversions) and the "fractional label"
 *   encoding (label = conversions / total, weight = total) give the same value as the expanded events
 *   (notes/xgboost-wasm.md §3: every metric must be weighted).
 * - `w` / `weights`: optional, finite and ≥ 0; omitted means 1 per row. Zero-weight rows are ignored.
 * - Invalid input (length mismatch, NaN/∞, label outside [0, 1], negative weight) throws
 *   ModelInputError naming the argument and row. Degenerate data (empty, one class only, zero total
 *   weight) never yields NaN: each function documents the value it returns instead.
 */
import { ModelInputError } from "./numeric.ts";

interface Checked {
  n: number;
  w: (i: number) => number;
}

function check(name: string, p: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number> | undefined, probability: boolean): Checked {
  const n = p.length;
  if (y.length !== n) throw new ModelInputError(`${name}: ${n} scores but ${y.length} labels; pass one label per score`);
  if (w !== undefined && w.length !== n) throw new ModelInputError(`${name}: ${n} scores but ${w.length} weights; pass one weight per score or none`);
  for (let i = 0; i < n; i++) {
    const pi = p[i]!;
    if (!Number.isFinite(pi)) throw new ModelInputError(`${name}: score ${i} is ${pi}; scores must be finite`);
    if (probability && (pi < 0 || pi > 1)) throw new ModelInputError(`${name}: score ${i} is ${pi}; expected a probability in [0, 1]`);
    const yi = y[i]!;
    if (!(yi >= 0 && yi <= 1)) throw new ModelInputError(`${name}: label ${i} is ${yi}; labels must be in [0, 1]`);
    if (w !== undefined) {
      const wi = w[i]!;
      if (!(Number.isFinite(wi) && wi >= 0)) throw new ModelInputError(`${name}: weight ${i} is ${wi}; weights must be finite and ≥ 0`);
    }
  }
  return { n, w: w === undefined ? () => 1 : (i) => w[i]! };
}

/** Row indices sorted by score descending; ties keep index order (stable), so results are deterministic. */
function orderDescending(p: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: p.length }, (_, i) => i);
  idx.sort((a, b) => p[b]! - p[a]! || a - b);
  return idx;
}

/** Groups of tied scores in descending order: for each, score, positive mass and negative mass. */
interface TieGroup {
  score: number;
  pos: number;
  neg: number;
}
function tieGroups(p: ArrayLike<number>, y: ArrayLike<number>, c: Checked): TieGroup[] {
  const idx = orderDescending(p);
  const groups: TieGroup[] = [];
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    const wi = c.w(i);
    if (wi === 0) continue;
    const last = groups[groups.length - 1];
    const g = last !== undefined && last.score === p[i] ? last : { score: p[i]!, pos: 0, neg: 0 };
    if (g !== last) groups.push(g);
    g.pos += wi * y[i]!;
    g.neg += wi * (1 - y[i]!);
  }
  return groups;
}

/**
 * Weighted area under the ROC curve (Mann–Whitney form).
 *
 * Formula: AUC = Σ_{i pos, j neg} w⁺_i w⁻_j [s_i > s_j] + ½ [s_i = s_j]  /  (W⁺ W⁻), computed over groups
 * of tied scores in descending order: AUC = Σ_g neg_g · (pos above g + ½ pos_g) / (W⁺ W⁻). Equal to the
 * trapezoidal area under {@link rocCurve}. With fractional labels a row is both positive and negative
 * mass; its self-pair counts as a tie (½), as it would in the expanded events.
 * Reference: Hanley & McNeil (1982), Radiology 143:29–36; Fawcett (2006), "An introduction to ROC
 * analysis", Pattern Recognition Letters 27:861–874 (Algorithm 2 with weights).
 * Complexity: O(n log n) time (sort), O(n) memory.
 * Edge cases: ties count ½; zero positive or zero negative mass (one class only, empty input) → 0.5
 * (a model cannot be told from chance).
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): number {
  const c = check("rocAuc", scores, labels, weights, false);
  const groups = tieGroups(scores, labels, c);
  let posAbove = 0;
  let area = 0;
  let totalNeg = 0;
  for (const g of groups) {
    area += g.neg * (posAbove + 0.5 * g.pos);
    posAbove += g.pos;
    totalNeg += g.neg;
  }
  if (posAbove <= 0 || totalNeg <= 0) return 0.5;
  return area / (posAbove * totalNeg);
}

/**
 * Standard error of a ROC AUC from the AUC and the class sizes alone (Hanley & McNeil 1982, eq. 2, with
 * the exponential approximations Q1 = A/(2 − A), Q2 = 2A²/(1 + A)):
 *   SE² = (A(1 − A) + (n⁺ − 1)(Q1 − A²) + (n⁻ − 1)(Q2 − A²)) / (n⁺ n⁻)
 * Used for the ML attribution's refusal rule (src/ml-attribution/validation.ts) because it needs only
 * what model_metrics and the benchmark keep (AUC, test journeys, base rate), so the rule the job applies
 * is the rule the benchmark checks; DeLong's variance needs every test score.
 * Reference: Hanley & McNeil (1982), Radiology 143:29–36. Complexity: O(1).
 * Edge cases: n⁺ or n⁻ < 1 (no positive or no negative journey) → Infinity (nothing is measured);
 * A outside [0, 1] throws ModelInputError. Class sizes may be fractional (weighted journeys).
 */
export function aucStandardError(auc: number, positives: number, negatives: number): number {
  if (!(auc >= 0 && auc <= 1)) throw new ModelInputError(`aucStandardError: AUC ${auc} is not in [0, 1]`);
  if (!(positives >= 1 && negatives >= 1)) return Infinity;
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const v = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (positives * negatives);
  return Math.sqrt(Math.max(0, v));
}

/**
 * Lower end of the two-sided 95 % confidence interval of a ROC AUC, A − 1.96·SE (SE: {@link aucStandardError}),
 * clamped to [0, 1]. 0 when a class is empty.
 */
export function aucLowerBound(auc: number, positives: number, negatives: number): number {
  const se = aucStandardError(auc, positives, negatives);
  return Number.isFinite(se) ? Math.min(1, Math.max(0, auc - 1.96 * se)) : 0;
}

/**
 * Weighted area under the precision–recall curve as average precision (step interpolation, no
 * trapezoid: the trapezoid over-estimates PR area, Davis & Goadrich 2006).
 *
 * Formula: AP = Σ_g (R_g − R_{g−1}) · P_g over tie groups g in descending score order, with
 * R_g = (positive mass with score ≥ s_g) / W⁺ and P_g = (positive mass with score ≥ s_g) / (mass with
 * score ≥ s_g). Matches scikit-learn's `average_precision_score` with `sample_weight`.
 * Reference: Davis & Goadrich (2006), "The relationship between precision-recall and ROC curves", ICML.
 * Complexity: O(n log n).
 * Edge cases: ties are one threshold (never split); no positive mass → 0; no negative mass → 1;
 * empty input → 0.
 */
export function prAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): number {
  const c = check("prAuc", scores, labels, weights, false);
  const groups = tieGroups(scores, labels, c);
  let totalPos = 0;
  for (const g of groups) totalPos += g.pos;
  if (totalPos <= 0) return 0;
  let tp = 0;
  let all = 0;
  let ap = 0;
  for (const g of groups) {
    tp += g.pos;
    all += g.pos + g.neg;
    if (g.pos > 0) ap += (g.pos / totalPos) * (tp / all);
  }
  return ap;
}

/** Probabilities are clipped to [LOG_LOSS_EPS, 1 − LOG_LOSS_EPS] in {@link logLoss} (as scikit-learn did). */
const LOG_LOSS_EPS = 1e-15;

/**
 * Weighted binary cross-entropy (log loss), natural log.
 *
 * Formula: −Σ w_i [y_i ln p_i + (1 − y_i) ln(1 − p_i)] / Σ w_i, with p clipped to [1e-15, 1 − 1e-15].
 * Reference: Bishop (2006), Pattern Recognition and Machine Learning, §4.3.2.
 * Complexity: O(n).
 * Edge cases: zero total weight or empty input → 0; p = 0 with y = 1 gives ln(1e15) ≈ 34.5, not ∞.
 */
export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>): number {
  const c = check("logLoss", p, y, w, true);
  let sum = 0;
  let sw = 0;
  for (let i = 0; i < c.n; i++) {
    const wi = c.w(i);
    if (wi === 0) continue;
    const pi = Math.min(Math.max(p[i]!, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
    const yi = y[i]!;
    sum -= wi * (yi * Math.log(pi) + (1 - yi) * Math.log(1 - pi));
    sw += wi;
  }
  return sw > 0 ? sum / sw : 0;
}

/**
 * Weighted Brier score (mean squared error of the probability).
 *
 * Formula: Σ w_i (p_i − y_i)² / Σ w_i. With a fractional label it equals the expanded events' score.
 * Reference: Brier (1950), "Verification of forecasts expressed in terms of probability", Monthly
 * Weather Review 78:1–3.
 * Complexity: O(n). Edge cases: zero total weight or empty input → 0.
 */
export function brier(p: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>): number {
  const c = check("brier", p, y, w, true);
  let sum = 0;
  let sw = 0;
  for (let i = 0; i < c.n; i++) {
    const wi = c.w(i);
    if (wi === 0) continue;
    const pi = p[i]!;
    const yi = y[i]!;
    // Expanded: w·y events at label 1 and w·(1−y) at label 0 → w[y(p−1)² + (1−y)p²].
    sum += wi * (yi * (pi - 1) * (pi - 1) + (1 - yi) * pi * pi);
    sw += wi;
  }
  return sw > 0 ? sum / sw : 0;
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Score threshold of each point (a row is predicted positive when score ≥ threshold); the first is +Infinity. */
  thresholds: number[];
}

/**
 * Weighted ROC curve: one point per distinct score (descending), starting at (0, 0) with threshold
 * +Infinity and ending at (1, 1) at the lowest score.
 *
 * Formula: at threshold s, TPR = (positive mass with score ≥ s) / W⁺, FPR = (negative mass with score
 * ≥ s) / W⁻. The trapezoidal area equals {@link rocAuc}.
 * Reference: Fawcett (2006), Algorithm 1.
 * Complexity: O(n log n); at most n + 1 points.
 * Edge cases: ties are one point; a class with zero mass gets the other class's rate (the chance
 * diagonal, consistent with AUC 0.5); empty input or zero total weight → the diagonal
 * {fpr: [0, 1], tpr: [0, 1], thresholds: [+Infinity, -Infinity]}.
 */
export function rocCurve(p: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>): RocCurve {
  const c = check("rocCurve", p, y, w, false);
  const groups = tieGroups(p, y, c);
  if (groups.length === 0) return { fpr: [0, 1], tpr: [0, 1], thresholds: [Infinity, -Infinity] };
  let totalPos = 0;
  let totalNeg = 0;
  for (const g of groups) {
    totalPos += g.pos;
    totalNeg += g.neg;
  }
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  let all = 0;
  const total = totalPos + totalNeg;
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k]!;
    tp += g.pos;
    fp += g.neg;
    all += g.pos + g.neg;
    // The last point is exactly (1, 1) whatever the rounding of the running sums.
    const last = k === groups.length - 1;
    const share = last ? 1 : all / total;
    tpr.push(last ? 1 : totalPos > 0 ? tp / totalPos : share);
    fpr.push(last ? 1 : totalNeg > 0 ? fp / totalNeg : share);
    thresholds.push(g.score);
  }
  return { fpr, tpr, thresholds };
}

export interface CalibrationBin {
  /** Σ w·p / Σ w over the bin. */
  meanPredicted: number;
  /** Σ w·y / Σ w over the bin (observed conversion rate). */
  observedRate: number;
  /** Σ w over the bin (events, for aggregated rows). */
  weight: number;
}

/**
 * Reliability diagram: equal-width bins of predicted probability on [0, 1].
 *
 * Formula: row i goes to bin min(⌊p_i · bins⌋, bins − 1) (so p = 1 is in the last bin); per bin
 * meanPredicted = Σ w p / Σ w, observedRate = Σ w y / Σ w, weight = Σ w.
 * Reference: DeGroot & Fienberg (1983), "The comparison and evaluation of forecasters"; Niculescu-Mizil
 * & Caruana (2005), "Predicting good probabilities with supervised learning", ICML.
 * Complexity: O(n + bins).
 * Edge cases: bins with zero weight are omitted (so the result has ≤ bins entries, in ascending order
 * of probability, and never a 0/0); empty input → []. `bins` must be an integer ≥ 1.
 */
export function calibrationBins(p: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const c = check("calibrationBins", p, y, w, true);
  if (!Number.isInteger(bins) || bins < 1) throw new ModelInputError(`calibrationBins: bins must be an integer ≥ 1, got ${bins}`);
  const sw = new Float64Array(bins);
  const sp = new Float64Array(bins);
  const sy = new Float64Array(bins);
  for (let i = 0; i < c.n; i++) {
    const wi = c.w(i);
    if (wi === 0) continue;
    const b = Math.min(Math.floor(p[i]! * bins), bins - 1);
    sw[b] += wi;
    sp[b] += wi * p[i]!;
    sy[b] += wi * y[i]!;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (sw[b]! > 0) out.push({ meanPredicted: sp[b]! / sw[b]!, observedRate: sy[b]! / sw[b]!, weight: sw[b]! });
  }
  return out;
}

/**
 * Expected calibration error from {@link calibrationBins}: Σ_b weight_b |meanPredicted_b − observedRate_b| / Σ_b weight_b.
 * Reference: Naeini, Cooper & Hauskrecht (2015), "Obtaining well calibrated probabilities using Bayesian
 * binning", AAAI. Complexity: O(bins). Edge cases: no bins (no weight) → 0.
 */
export function expectedCalibrationError(bins: readonly CalibrationBin[]): number {
  let sw = 0;
  let s = 0;
  for (const b of bins) {
    sw += b.weight;
    s += b.weight * Math.abs(b.meanPredicted - b.observedRate);
  }
  return sw > 0 ? s / sw : 0;
}

interface LiftDecile {
  /** 1 = the 10 % of weight with the highest scores. */
  decile: number;
  /** Σ w·y / Σ w within the decile. */
  conversionRate: number;
  /** conversionRate / overall rate. */
  lift: number;
  /** Σ w within the decile (a tenth of the total, up to rounding). */
  weight: number;
}

/**
 * Lift by decile of score: rows sorted by score descending, cut into ten slices of equal weight.
 *
 * Formula: decile d holds the weight in cumulative-weight range ((d−1)/10 · W, d/10 · W]. A tie group that
 * straddles a boundary is split by weight at the group's own mean rate, so the result does not depend on
 * the order of tied rows. lift_d = rate_d / (W⁺ / W).
 * Reference: Ling & Li (1998), "Data mining for direct marketing: problems and solutions", KDD (lift
 * analysis); cumulative-gains/lift charts as in Berry & Linoff, Data Mining Techniques.
 * Complexity: O(n log n).
 * Edge cases: always 10 entries; zero total weight → every decile weight 0, rate 0, lift 1; overall
 * rate 0 (no positives) → lift 1 for every decile (no model can beat chance); a decile of zero weight
 * (impossible unless W = 0) has rate 0.
 */
export function liftByDecile(p: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>): LiftDecile[] {
  const c = check("liftByDecile", p, y, w, false);
  const groups = tieGroups(p, y, c);
  let total = 0;
  let totalPos = 0;
  for (const g of groups) {
    total += g.pos + g.neg;
    totalPos += g.pos;
  }
  const dw = new Float64Array(10);
  const dp = new Float64Array(10);
  if (total > 0) {
    // Walk the deciles with one pointer: boundary_d = (d + 1)/10 · W (the last is open), so rounding in
    // the boundaries can never drop weight.
    let d = 0;
    let cum = 0;
    for (const g of groups) {
      const gw = g.pos + g.neg;
      const rate = g.pos / gw;
      let remaining = gw;
      while (remaining > 0) {
        const room = d === 9 ? Infinity : ((d + 1) * total) / 10 - cum;
        if (room <= 0) {
          d++;
          continue;
        }
        const take = Math.min(room, remaining);
        dw[d] += take;
        dp[d] += take * rate;
        cum += take;
        remaining -= take;
        // Filled this decile: move on explicitly (a tiny room absorbed by rounding must not loop).
        if (take === room) d++;
      }
    }
  }
  const overall = total > 0 ? totalPos / total : 0;
  const out: LiftDecile[] = [];
  for (let d = 0; d < 10; d++) {
    const rate = dw[d]! > 0 ? dp[d]! / dw[d]! : 0;
    out.push({ decile: d + 1, conversionRate: rate, lift: overall > 0 ? rate / overall : 1, weight: dw[d]! });
  }
  return out;
}
