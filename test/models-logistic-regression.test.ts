import assert from "node:assert/strict";
import {
  fitLogisticRegression, loadLogisticFit, logisticFitToJSON, logisticGradient, logisticMargin, predictLogistic,
} from "../src/models/logistic-regression.ts";
import { ModelInputError } from "../src/models/numeric.ts";
import { createRng } from "../src/demo/prng.ts";

const logit = (p: number): number => Math.log(p / (1 - p));

// A 2-feature weighted fixture (one continuous, one binary column), not separable.
const X2 = Float64Array.from([
  0.5, 0, 1.0, 1, 1.5, 0, 2.0, 1, 2.5, 0, 3.0, 1, -0.5, 1, -1.0, 0, 0.0, 1, 1.2, 0, 2.2, 1, -1.5, 0,
]);
const Y2 = Float64Array.from([0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1]);
const W2 = Float64Array.from([3, 1, 2, 4, 1, 2, 5, 2, 1, 3, 2, 1]);
/**
 * Reference optimum of the same penalised objective, −Σw[y·η − log(1+e^η)] + ½λ‖β‖², by an independent
 * solver (SciPy 1.17 `minimize(method="BFGS", gtol=1e-12)` with the analytic gradient; max |gradient|
 * at its solution ≤ 1.5e-9). λ = 0 is also what R's `glm(y ~ x1 + x2, binomial, weights = w)` fits.
 */
const SCIPY_REFERENCE: Array<{ l2: number; intercept: number; coefficients: [number, number]; objective: number }> = [
  { l2: 0, intercept: -2.26686631, coefficients: [0.74115866, 1.58707252], objective: 13.747924464708452 },
  { l2: 0.5, intercept: -1.89173862, coefficients: [0.691095, 1.0890854], objective: 14.304317236051004 },
  { l2: 4, intercept: -1.24907615, coefficients: [0.50190942, 0.37805204], objective: 15.608802206519515 },
];

describe("models/logistic-regression", () => {
  it("matches the closed form of a single binary feature: intercept = logit(rate | x=0), slope = logit(rate | x=1) − logit(rate | x=0)", () => {
    // x=0: weights 3 (y=1) + 5 (y=0) → rate 3/8; x=1: weights 6 (y=1) + 2 (y=0) → rate 6/8.
    const X = Float64Array.from([0, 0, 1, 1]);
    const y = Float64Array.from([1, 0, 1, 0]);
    const w = Float64Array.from([3, 5, 6, 2]);
    const fit = fitLogisticRegression(X, y, w, { columns: 1, l2: 0 });
    assert.ok(Math.abs(fit.intercept - logit(3 / 8)) < 1e-9, `intercept ${fit.intercept}`);
    assert.ok(Math.abs(fit.coefficients[0]! - (logit(6 / 8) - logit(3 / 8))) < 1e-9, `slope ${fit.coefficients[0]}`);
    const p = predictLogistic(fit, Float64Array.from([0, 1]));
    assert.ok(Math.abs(p[0]! - 3 / 8) < 1e-9 && Math.abs(p[1]! - 6 / 8) < 1e-9);
  });

  it("fits rows mostly without zeros (dense, four at a time) as mostly-zero rows (the sparse loop): the same optimum", () => {
    // 403 rows × 6 standardised-like columns, no zero among them: every row takes the dense path, 100 blocks of four and
    // three rows after them. The same rows with twelve all-zero columns after them are mostly zeros and take the sparse
    // loop (the zeros skipped), one row at a time; the zero columns' coefficients stay 0 (their gradient is l2·0). The two
    // add the same terms in another order, so the fits agree to rounding, not bit for bit (a block that dropped or
    // repeated a row would be far off).
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const rows = 403, C = 6, Z = 12;
    const dense = new Float64Array(rows * C);
    const withZero = new Float64Array(rows * (C + Z));
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let eta = -0.3;
      for (let j = 0; j < C; j++) {
        const v = (rnd() - 0.5) * 4 || 0.25;
        dense[i * C + j] = v;
        withZero[i * (C + Z) + j] = v;
        eta += (j - 2) * 0.2 * v;
      }
      y[i] = rnd() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
    }
    const a = fitLogisticRegression(dense, y, null, { columns: C, l2: 0.5 });
    const b = fitLogisticRegression(withZero, y, null, { columns: C + Z, l2: 0.5 });
    assert.deepEqual(Array.from(b.coefficients.slice(C)), new Array(Z).fill(0));
    assert.equal(a.iterations, b.iterations);
    const pairs: [number, number][] = [[a.intercept, b.intercept], ...Array.from(a.coefficients, (c, j): [number, number] => [c, b.coefficients[j]!])];
    for (const [u, v] of pairs) {
      assert.ok(Math.abs(u - v) <= 1e-12 * Math.max(1, Math.abs(v)), `${u} vs ${v}`);
    }
    // Optimality of the blocked fit: the penalised gradient vanishes.
    for (const gj of logisticGradient(a, dense, y, null)) assert.ok(Math.abs(gj) < 1e-8, `gradient ${gj}`);
    // One zero column added last leaves the rows mostly non-zero: they take the same blocks, the zero's terms add
    // nothing, so that fit equals the dense one bit for bit.
    const oneZero = new Float64Array(rows * (C + 1));
    for (let i = 0; i < rows; i++) oneZero.set(dense.subarray(i * C, (i + 1) * C), i * (C + 1));
    const c = fitLogisticRegression(oneZero, y, null, { columns: C + 1, l2: 0.5 });
    assert.equal(c.coefficients[C], 0);
    assert.deepEqual([a.intercept, ...a.coefficients, a.iterations], [c.intercept, ...c.coefficients.slice(0, C), c.iterations]);
  });

  for (const ref of SCIPY_REFERENCE) {
    it(`agrees with an independent BFGS solution on a weighted 2-feature case (l2 = ${ref.l2})`, () => {
      const fit = fitLogisticRegression(X2, Y2, W2, { columns: 2, l2: ref.l2 });
      assert.ok(Math.abs(fit.intercept - ref.intercept) < 1e-6, `intercept ${fit.intercept} vs ${ref.intercept}`);
      for (let j = 0; j < 2; j++) assert.ok(Math.abs(fit.coefficients[j]! - ref.coefficients[j]!) < 1e-6, `β${j} ${fit.coefficients[j]} vs ${ref.coefficients[j]}`);
      assert.ok(Math.abs(fit.objective - ref.objective) < 1e-9, `objective ${fit.objective} vs ${ref.objective}`);
      // Optimality: the penalised gradient vanishes (Newton converges quadratically, so far below BFGS's).
      const g = logisticGradient(fit, X2, Y2, W2);
      for (const gj of g) assert.ok(Math.abs(gj) < 1e-8, `gradient ${[...g]}`);
    });
  }

  it("reaches the same optimum from a warm start down a penalty path, in fewer Newton iterations, and ignores a start worse than its own", () => {
    // A larger problem than the 2-feature case, so the start matters: 400 rows × 6 columns.
    const C = 6;
    const rows = 400;
    const X = new Float64Array(rows * C);
    const y = new Float64Array(rows);
    const next = createRng(7).next;
    for (let i = 0; i < rows; i++) {
      let eta = -0.5;
      for (let j = 0; j < C; j++) { X[i * C + j] = next() * 4 - 2; eta += (j - 2.5) * 0.6 * X[i * C + j]!; }
      y[i] = next() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
    }
    let previous: ReturnType<typeof fitLogisticRegression> | undefined;
    let coldIterations = 0;
    let warmIterations = 0;
    for (const l2 of [100, 10, 1, 0.1]) {
      const cold = fitLogisticRegression(X, y, null, { columns: C, l2 });
      const warm = fitLogisticRegression(X, y, null, { columns: C, l2, ...(previous ? { start: previous } : {}) });
      assert.ok(Math.abs(warm.intercept - cold.intercept) < 1e-9, `λ ${l2}: intercept ${warm.intercept} vs ${cold.intercept}`);
      warm.coefficients.forEach((b, j) => assert.ok(Math.abs(b - cold.coefficients[j]!) < 1e-9, `λ ${l2}: β${j} ${b} vs ${cold.coefficients[j]}`));
      coldIterations += cold.iterations;
      warmIterations += warm.iterations;
      previous = warm;
    }
    assert.ok(warmIterations < coldIterations, `warm ${warmIterations} vs cold ${coldIterations} Newton iterations`);
    // A start far off (objective above the intercept-only one) is not taken: the same iterations as no start.
    const far = { intercept: 40, coefficients: Float64Array.from({ length: C }, () => 40) };
    const fromFar = fitLogisticRegression(X, y, null, { columns: C, l2: 1, start: far });
    const plain = fitLogisticRegression(X, y, null, { columns: C, l2: 1 });
    assert.deepEqual([fromFar.intercept, ...fromFar.coefficients, fromFar.iterations], [plain.intercept, ...plain.coefficients, plain.iterations]);
    assert.throws(() => fitLogisticRegression(X, y, null, { columns: C, l2: 1, start: { intercept: 0, coefficients: new Float64Array(2) } }), /start has 2 coefficients for 6 columns/);
  });

  it("shrinks coefficients monotonically as l2 grows, and never penalises the intercept", () => {
    const norms = [0, 0.5, 4, 1e6].map((l2) => {
      const f = fitLogisticRegression(X2, Y2, W2, { columns: 2, l2 });
      return { norm: Math.hypot(...f.coefficients), intercept: f.intercept };
    });
    for (let k = 1; k < norms.length; k++) assert.ok(norms[k]!.norm < norms[k - 1]!.norm);
    // λ → ∞: β → 0 and the intercept becomes the intercept-only fit, logit of the weighted base rate.
    let sw = 0;
    let swy = 0;
    for (let i = 0; i < Y2.length; i++) { sw += W2[i]!; swy += W2[i]! * Y2[i]!; }
    assert.ok(Math.abs(norms[3]!.intercept - logit(swy / sw)) < 1e-4, `${norms[3]!.intercept} vs ${logit(swy / sw)}`);
  });

  it("treats a row of weight k like k copies of the row", () => {
    const rows: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < Y2.length; i++) {
      for (let k = 0; k < W2[i]!; k++) { rows.push(X2[2 * i]!, X2[2 * i + 1]!); ys.push(Y2[i]!); }
    }
    const expanded = fitLogisticRegression(Float64Array.from(rows), Float64Array.from(ys), null, { columns: 2, l2: 0.5 });
    const weighted = fitLogisticRegression(X2, Y2, W2, { columns: 2, l2: 0.5 });
    assert.ok(Math.abs(expanded.intercept - weighted.intercept) < 1e-9);
    for (let j = 0; j < 2; j++) assert.ok(Math.abs(expanded.coefficients[j]! - weighted.coefficients[j]!) < 1e-9);
  });

  it("accepts fractional labels: a row with rate r and weight n fits like r·n positives and (1−r)·n negatives", () => {
    const asRates = fitLogisticRegression(Float64Array.from([0, 1]), Float64Array.from([3 / 8, 6 / 8]), Float64Array.from([8, 8]), { columns: 1, l2: 0 });
    assert.ok(Math.abs(asRates.intercept - logit(3 / 8)) < 1e-9);
    assert.ok(Math.abs(asRates.coefficients[0]! - (logit(6 / 8) - logit(3 / 8))) < 1e-9);
  });

  it("refuses perfectly separated classes without a penalty and fits them finitely with one", () => {
    const X = Float64Array.from([-2, -1, 1, 2]);
    const y = Float64Array.from([0, 0, 1, 1]);
    assert.throws(() => fitLogisticRegression(X, y, null, { columns: 1, l2: 0 }), (e: unknown) => e instanceof ModelInputError && /set l2 > 0/.test(e.message));
    const fit = fitLogisticRegression(X, y, null, { columns: 1, l2: 1 });
    assert.ok(Number.isFinite(fit.coefficients[0]!) && fit.coefficients[0]! > 0);
    for (const gj of logisticGradient(fit, X, y, null)) assert.ok(Math.abs(gj) < 1e-8);
  });

  it("refuses a constant column without a penalty (singular Hessian) and names the columns", () => {
    const X = Float64Array.from([1, 0, 1, 1, 1, 0, 1, 1]);
    const y = Float64Array.from([0, 1, 1, 0]);
    assert.throws(() => fitLogisticRegression(X, y, null, { columns: 2, l2: 0, featureNames: ["always", "flag"] }),
      (e: unknown) => e instanceof ModelInputError && /linearly dependent or constant/.test(e.message) && /always, flag/.test(e.message));
    assert.doesNotThrow(() => fitLogisticRegression(X, y, null, { columns: 2, l2: 0.1 }));
  });

  it("names the row and feature of bad input", () => {
    const ok = { columns: 2, l2: 1, featureNames: ["a", "b"] };
    assert.throws(() => fitLogisticRegression(Float64Array.from([0, NaN, 1, 1]), [0, 1], null, ok), /row 1, feature b is NaN/);
    assert.throws(() => fitLogisticRegression(Float64Array.from([0, 0, 1, 1]), [0, 2], null, ok), /row 2 has label 2/);
    assert.throws(() => fitLogisticRegression(Float64Array.from([0, 0, 1, 1]), [0, 1], [1, -1], ok), /row 2 has weight -1/);
    assert.throws(() => fitLogisticRegression(Float64Array.from([0, 0, 1]), [0, 1], null, ok), /expected 2 rows × 2 columns/);
    assert.throws(() => fitLogisticRegression(Float64Array.from([0, 0, 1, 1]), [0, 1], null, { columns: 2, l2: -1 }), /l2 must be a finite number ≥ 0/);
    assert.throws(() => fitLogisticRegression(new Float64Array(0), [], null, ok), /no training rows/);
    assert.throws(() => fitLogisticRegression(Float64Array.from([0, 1]), [1, 1], null, { columns: 1, l2: 0 }), /same class/);
  });

  it("predicts the same after a JSON round trip, from Float32 inputs too", () => {
    const fit = fitLogisticRegression(Float32Array.from(X2), Y2, W2, { columns: 2, l2: 0.5, featureNames: ["x", "flag"] });
    const back = loadLogisticFit(JSON.parse(JSON.stringify(logisticFitToJSON(fit))));
    assert.deepEqual([...predictLogistic(back, X2)], [...predictLogistic(fit, X2)]);
    assert.deepEqual(back.featureNames, ["x", "flag"]);
    const eta = logisticMargin(fit, X2);
    const p = predictLogistic(fit, X2);
    for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i]! - 1 / (1 + Math.exp(-eta[i]!))) < 1e-15);
    assert.throws(() => loadLogisticFit({ type: "xgboost" }), /not a serialised logistic_regression model/);
  });
});
