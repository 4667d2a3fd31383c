/**
 * Probability calibration for binary classifiers: Platt scaling and isotonic regression, both
 * weighted, both serialisable as plain JSON. Pure functions, no I/O.
 *
 * Conventions (as in metrics.ts): labels in [0, 1] (a fractional label is an aggregated row), weights
 * finite and ≥ 0 (omitted = 1), zero-weight rows are ignored. Invalid input throws ModelInputError.
 */
import { ModelInputError } from "./numeric.ts";

function checkInputs(name: string, s: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number> | undefined): void {
  if (y.length !== s.length) throw new ModelInputError(`${name}: ${s.length} scores but ${y.length} labels; pass one label per score`);
  if (w !== undefined && w.length !== s.length) throw new ModelInputError(`${name}: ${s.length} scores but ${w.length} weights`);
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i]!)) throw new ModelInputError(`${name}: score ${i} is ${s[i]}; scores must be finite`);
    const yi = y[i]!;
    if (!(yi >= 0 && yi <= 1)) throw new ModelInputError(`${name}: label ${i} is ${yi}; labels must be in [0, 1]`);
    if (w !== undefined && !(Number.isFinite(w[i]!) && w[i]! >= 0)) throw new ModelInputError(`${name}: weight ${i} is ${w[i]}; weights must be finite and ≥ 0`);
  }
}

/** log(p / (1 − p)) with p clipped to [1e-12, 1 − 1e-12], so 0 and 1 map to finite margins. */
export function logit(p: number): number {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  return Math.log(q / (1 - q));
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

// ---------------------------------------------------------------------------------------------
// Platt scaling

interface PlattCalibrator {
  kind: "platt";
  /** Slope on the input score (a margin / log-odds). */
  a: number;
  /** Intercept. */
  b: number;
}

/**
 * Platt scaling: p = σ(a·s + b) fitted to the labels by weighted maximum likelihood, with Platt's
 * smoothed targets t⁺ = (N⁺ + 1)/(N⁺ + 2) for positives and t⁻ = 1/(N⁻ + 2) for negatives (N = weighted
 * class mass), which keeps a and b finite on separable data.
 *
 * Formula: minimise L(a, b) = −Σ w_i [t_i ln p_i + (1 − t_i) ln(1 − p_i)], p_i = σ(a s_i + b), by Newton's
 * method (IRLS): gradient g = Σ w (p − t)(s, 1), Hessian H = Σ w p(1 − p)(s, 1)(s, 1)ᵀ + σI (σ = 1e-12),
 * step d = −H⁻¹g with backtracking line search (halve until L decreases enough).
 * A fractional label y contributes mass w·y to the positive and w·(1 − y) to the negative target.
 * Reference: J. Platt (1999), "Probabilistic outputs for support vector machines…"; H.-T. Lin, C.-J. Lin
 * & R. Weng (2007), "A note on Platt's probabilistic outputs for support vector machines", Machine
 * Learning 68:267–276 (the Newton algorithm used here).
 * Complexity: O(n) per iteration, ≤ 100 iterations (typically < 10).
 * Edge cases: s should be on the log-odds scale (pass margins, or {@link logit} of probabilities); all
 * scores equal → a = 0 and σ(b) = the smoothed base rate; one class only or zero weight → a = 0, b from
 * the smoothed targets (e.g. no rows: b = 0, p = ½).
 */
export function fitPlatt(scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): PlattCalibrator {
  checkInputs("fitPlatt", scores, labels, weights);
  const n = scores.length;
  const wOf = (i: number): number => (weights ? weights[i]! : 1);
  let nPos = 0;
  let nNeg = 0;
  for (let i = 0; i < n; i++) {
    nPos += wOf(i) * labels[i]!;
    nNeg += wOf(i) * (1 - labels[i]!);
  }
  const tPos = (nPos + 1) / (nPos + 2);
  const tNeg = 1 / (nNeg + 2);
  // Row i is positive mass w·y with target t⁺ and negative mass w·(1−y) with target t⁻: one combined target.
  const target = (i: number): number => labels[i]! * tPos + (1 - labels[i]!) * tNeg;
  const loss = (a: number, b: number): number => {
    let l = 0;
    for (let i = 0; i < n; i++) {
      const wi = wOf(i);
      if (wi === 0) continue;
      const z = a * scores[i]! + b;
      const t = target(i);
      // −[t ln σ(z) + (1−t) ln(1−σ(z))] = softplus(z) − t·z, stable for any z.
      l += wi * (Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - t * z);
    }
    return l;
  };
  let a = 0;
  let b = Math.log((nPos + 1) / (nNeg + 1)); // logit of the prior (N⁺+1)/(N⁺+N⁻+2)
  let f = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let g1 = 0, g2 = 0, h11 = 1e-12, h22 = 1e-12, h21 = 0;
    for (let i = 0; i < n; i++) {
      const wi = wOf(i);
      if (wi === 0) continue;
      const s = scores[i]!;
      const p = sigmoid(a * s + b);
      const d = wi * (p - target(i));
      const h = wi * p * (1 - p);
      g1 += d * s;
      g2 += d;
      h11 += h * s * s;
      h22 += h;
      h21 += h * s;
    }
    if (Math.abs(g1) < 1e-10 && Math.abs(g2) < 1e-10) break;
    const det = h11 * h22 - h21 * h21;
    if (!(det > 0)) break;
    const da = -(h22 * g1 - h21 * g2) / det;
    const db = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * da + g2 * db;
    let step = 1;
    let improved = false;
    while (step >= 1e-10) {
      const na = a + step * da;
      const nb = b + step * db;
      const nf = loss(na, nb);
      if (nf < f + 1e-4 * step * gd) {
        a = na;
        b = nb;
        improved = Math.abs(f - nf) > 1e-14 * Math.max(1, Math.abs(f));
        f = nf;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return { kind: "platt", a, b };
}

/** σ(a·s + b) per score. O(n). */
export function applyPlatt(cal: PlattCalibrator, scores: ArrayLike<number>): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = sigmoid(cal.a * scores[i]! + cal.b);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Isotonic regression

export interface IsotonicCalibrator {
  kind: "isotonic";
  /** Blocks of the fitted step function in ascending score order: [xMin, xMax] share value `y`. */
  xMin: number[];
  xMax: number[];
  /** Non-decreasing fitted probabilities, one per block. */
  y: number[];
  /** Σ w per block (for inspection). */
  weight: number[];
}

/**
 * Weighted isotonic regression of labels on scores by the pool-adjacent-violators algorithm (PAVA):
 * the non-decreasing step function g minimising Σ w_i (y_i − g(s_i))².
 *
 * Algorithm: sort by score; rows with equal scores are pooled first (one block, their weighted mean),
 * so the fit is a function of the score; then scan blocks left to right, merging a block into its
 * predecessor while the predecessor's mean is ≥ its own (each merge replaces two blocks by their
 * weighted mean). The result is non-decreasing; strictly increasing between blocks.
 * Prediction ({@link applyIsotonic}): inside a block its value; between two blocks linear
 * interpolation from (xMax_k, y_k) to (xMin_{k+1}, y_{k+1}) (as scikit-learn's IsotonicRegression);
 * below the first / above the last block the end values (clipped). Monotone non-decreasing everywhere.
 * Reference: Ayer, Brunk, Ewing, Reid & Silverman (1955), Ann. Math. Statist. 26:641–647; Zadrozny &
 * Elkan (2002), "Transforming classifier scores into accurate multiclass probability estimates", KDD.
 * Complexity: O(n log n) for the sort, O(n) amortised for PAVA; prediction O(log blocks) per row.
 * Edge cases: zero-weight rows are dropped; no rows with weight → no blocks, and {@link applyIsotonic}
 * then returns ½ for every score; one distinct score → one block holding the base rate.
 * Weighted mean of the fit equals the weighted mean of the labels (PAVA preserves block sums), so the
 * calibrated mean on the fitting data is exactly the base rate.
 */
export function fitIsotonic(scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): IsotonicCalibrator {
  checkInputs("fitIsotonic", scores, labels, weights);
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!weights || weights[i]! > 0) idx.push(i);
  idx.sort((i, j) => scores[i]! - scores[j]! || i - j);
  const xMin: number[] = [];
  const xMax: number[] = [];
  const sumWy: number[] = [];
  const sumW: number[] = [];
  for (const i of idx) {
    const wi = weights ? weights[i]! : 1;
    const s = scores[i]!;
    const k = xMin.length - 1;
    if (k >= 0 && xMax[k] === s) {
      sumWy[k]! += wi * labels[i]!;
      sumW[k]! += wi;
    } else {
      xMin.push(s);
      xMax.push(s);
      sumWy.push(wi * labels[i]!);
      sumW.push(wi);
    }
    // Pool adjacent violators: merge while the previous block's mean is ≥ the last block's mean.
    let top = xMin.length - 1;
    while (top > 0 && sumWy[top - 1]! / sumW[top - 1]! >= sumWy[top]! / sumW[top]!) {
      sumWy[top - 1]! += sumWy[top]!;
      sumW[top - 1]! += sumW[top]!;
      xMax[top - 1] = xMax[top]!;
      xMin.pop();
      xMax.pop();
      sumWy.pop();
      sumW.pop();
      top--;
    }
  }
  return { kind: "isotonic", xMin, xMax, y: sumWy.map((v, k) => v / sumW[k]!), weight: sumW };
}

/** The fitted step function with linear interpolation between blocks (see {@link fitIsotonic}). */
export function applyIsotonic(cal: IsotonicCalibrator, scores: ArrayLike<number>): Float64Array {
  const out = new Float64Array(scores.length);
  const K = cal.y.length;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (K === 0) {
      out[i] = 0.5;
      continue;
    }
    if (s <= cal.xMax[0]!) {
      out[i] = cal.y[0]!;
      continue;
    }
    if (s >= cal.xMin[K - 1]!) {
      out[i] = cal.y[K - 1]!;
      continue;
    }
    // Last block k with xMin_k ≤ s (binary search); 0 ≤ k < K − 1 here.
    let lo = 0;
    let hi = K - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cal.xMin[mid]! <= s) lo = mid;
      else hi = mid - 1;
    }
    const k = lo;
    if (s <= cal.xMax[k]!) out[i] = cal.y[k]!;
    else {
      const x0 = cal.xMax[k]!;
      const x1 = cal.xMin[k + 1]!;
      const t = (s - x0) / (x1 - x0);
      out[i] = cal.y[k]! + t * (cal.y[k + 1]! - cal.y[k]!);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Either

export type Calibrator = PlattCalibrator | IsotonicCalibrator;

/**
 * Apply a calibrator to margins (log-odds). Platt works on the margin; isotonic is fitted on the
 * same margins (monotone in the probability, so equivalent to fitting on probabilities).
 */
export function applyCalibrator(cal: Calibrator, margins: ArrayLike<number>): Float64Array {
  return cal.kind === "platt" ? applyPlatt(cal, margins) : applyIsotonic(cal, margins);
}

export function fitCalibrator(kind: Calibrator["kind"], margins: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): Calibrator {
  return kind === "platt" ? fitPlatt(margins, labels, weights) : fitIsotonic(margins, labels, weights);
}

/**
 * Fold of row i for K-fold cross-fitting: rows sorted by score are dealt to folds in turn
 * (i-th smallest → fold i mod K), so every fold spans the whole score range. Deterministic. O(n log n).
 */
export function interleavedFolds(scores: ArrayLike<number>, k: number): Int32Array {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  const fold = new Int32Array(scores.length);
  idx.forEach((row, rank) => (fold[row] = rank % k));
  return fold;
}

/**
 * Out-of-fold calibrated probabilities: for each fold, fit on the other folds and predict this one.
 * Used to compare Platt and isotonic fairly on one validation window (the in-sample isotonic fit
 * always wins, since it is the best monotone fit of those very labels).
 * Complexity: K fits. Edge cases: k < 2 or fewer rows than folds → in-sample fit.
 */
export function crossFittedProbabilities(
  kind: Calibrator["kind"],
  margins: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  k = 5,
): Float64Array {
  const n = margins.length;
  if (k < 2 || n < k) return applyCalibrator(fitCalibrator(kind, margins, labels, weights), margins);
  const folds = interleavedFolds(margins, k);
  const out = new Float64Array(n);
  for (let f = 0; f < k; f++) {
    const trainIdx: number[] = [];
    const testIdx: number[] = [];
    for (let i = 0; i < n; i++) (folds[i] === f ? testIdx : trainIdx).push(i);
    const pick = (a: ArrayLike<number>, ix: number[]): Float64Array => Float64Array.from(ix, (i) => a[i]!);
    const cal = fitCalibrator(kind, pick(margins, trainIdx), pick(labels, trainIdx), weights ? pick(weights, trainIdx) : undefined);
    const p = applyCalibrator(cal, pick(margins, testIdx));
    testIdx.forEach((i, j) => (out[i] = p[j]!));
  }
  return out;
}
