import { strict as assert } from "node:assert";
import {
  fitPlatt, applyPlatt, fitIsotonic, applyIsotonic, crossFittedProbabilities, interleavedFolds, logit,
} from "../src/models/calibration.ts";
import { ModelInputError, mulberry32 } from "../src/models/numeric.ts";

const close = (a: number, b: number, tol: number, what = ""): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);

describe("isotonic calibration (weighted PAVA)", () => {
  it("pools adjacent violators into the hand-computed blocks", () => {
    // s: 1 2 3 4 5, y: 0 1 0 1 1, w: 1 1 1 1 2.
    // Blocks: {1}=0; {2}=1 then {3}=0 violates → {2,3}=0.5; {4}=1; {5}=1 ties 1 ≥ 1 → {4,5}=1 (w 3).
    const cal = fitIsotonic([1, 2, 3, 4, 5], [0, 1, 0, 1, 1], [1, 1, 1, 1, 2]);
    assert.deepEqual(cal.y, [0, 0.5, 1]);
    assert.deepEqual(cal.xMin, [1, 2, 4]);
    assert.deepEqual(cal.xMax, [1, 3, 5]);
    assert.deepEqual(cal.weight, [1, 2, 3]);
    // Inside a block its value; between blocks linear: 3.5 is halfway from (3, 0.5) to (4, 1) → 0.75; clipped outside.
    assert.deepEqual(Array.from(applyIsotonic(cal, [0, 1, 2.5, 3.5, 4.5, 99])), [0, 0, 0.5, 0.75, 1, 1]);
  });

  it("pools tied scores before fitting, so the fit is a function of the score", () => {
    // s 1,1 (y 1, 0) → one block 0.5; s 2 (y 1) → 1.
    const cal = fitIsotonic([1, 2, 1], [1, 1, 0]);
    assert.deepEqual(cal.y, [0.5, 1]);
  });

  it("is monotone and keeps the weighted mean of the labels (= base rate) on random data", () => {
    const rand = mulberry32(7);
    const n = 500;
    const s = Float64Array.from({ length: n }, () => rand() * 4 - 2);
    const y = Float64Array.from(s, (v) => (rand() < 1 / (1 + Math.exp(-2 * v)) ? 1 : 0));
    const w = Float64Array.from({ length: n }, () => 1 + Math.floor(rand() * 3));
    const cal = fitIsotonic(s, y, w);
    for (let k = 1; k < cal.y.length; k++) assert.ok(cal.y[k]! > cal.y[k - 1]!, "block values strictly increase");
    const grid = Float64Array.from({ length: 401 }, (_, i) => -2.5 + i * 0.0125);
    const g = applyIsotonic(cal, grid);
    for (let i = 1; i < g.length; i++) assert.ok(g[i]! >= g[i - 1]!, `monotone at ${grid[i]}`);
    const p = applyIsotonic(cal, s);
    let sw = 0, sp = 0, sy = 0;
    for (let i = 0; i < n; i++) { sw += w[i]!; sp += w[i]! * p[i]!; sy += w[i]! * y[i]!; }
    close(sp / sw, sy / sw, 1e-12, "calibrated mean vs base rate");
  });

  it("returns ½ without data and refuses labels outside [0, 1]", () => {
    assert.deepEqual(Array.from(applyIsotonic(fitIsotonic([], []), [0.3])), [0.5]);
    assert.throws(() => fitIsotonic([1], [2]), ModelInputError);
  });
});

describe("Platt scaling (Newton / IRLS)", () => {
  it("recovers a and b of σ(2s − 1) from fractional labels with large weights", () => {
    // Label = σ(2s − 1) exactly, weight 1e6 per row: Platt's smoothed targets are y·(1 − ~1e-7), so the
    // MLE is a = 2, b = −1 up to ~1e-5.
    const s = Float64Array.from({ length: 41 }, (_, i) => -2 + i * 0.1);
    const y = Float64Array.from(s, (v) => 1 / (1 + Math.exp(-(2 * v - 1))));
    const cal = fitPlatt(s, y, new Float64Array(s.length).fill(1e6));
    close(cal.a, 2, 1e-4, "a");
    close(cal.b, -1, 1e-4, "b");
  });

  it("gives a = 0 and the smoothed base rate for one class", () => {
    // 3 positives: t⁺ = (3 + 1)/(3 + 2) = 0.8 for every row → a = 0, σ(b) = 0.8.
    const cal = fitPlatt([-1, 0, 2], [1, 1, 1]);
    close(cal.a, 0, 1e-8, "a");
    close(applyPlatt(cal, [5])[0]!, 0.8, 1e-8, "p");
  });

  it("has calibrated mean ≈ base rate on the data it was fitted on (intercept score equation)", () => {
    // Σ w (p − t) = 0 at the optimum, so mean p = mean smoothed target, within 1/(N + 2) of the base rate.
    const rand = mulberry32(3);
    const n = 400;
    const s = Float64Array.from({ length: n }, () => rand() * 6 - 3);
    const y = Float64Array.from(s, (v) => (rand() < 1 / (1 + Math.exp(-(0.5 * v + 0.3))) ? 1 : 0));
    const cal = fitPlatt(s, y);
    const p = applyPlatt(cal, s);
    const mean = p.reduce((a, b) => a + b, 0) / n;
    const rate = y.reduce((a, b) => a + b, 0) / n;
    close(mean, rate, 2 / (n + 2), "mean");
    assert.ok(cal.a > 0.2 && cal.a < 1, `slope ${cal.a} near 0.5`);
  });

  it("stays finite on separable data", () => {
    const cal = fitPlatt([-3, -2, -1, 1, 2, 3], [0, 0, 0, 1, 1, 1]);
    assert.ok(Number.isFinite(cal.a) && Number.isFinite(cal.b));
    const p = applyPlatt(cal, [-3, 3]);
    assert.ok(p[0]! > 0 && p[1]! < 1);
  });
});

describe("cross-fitted calibration", () => {
  it("deals score-sorted rows to folds in turn", () => {
    assert.deepEqual(Array.from(interleavedFolds([0.9, 0.1, 0.5, 0.3], 2)), [1, 0, 0, 1]);
  });

  it("predicts every row out of fold", () => {
    const s = Float64Array.from({ length: 50 }, (_, i) => logit((i + 0.5) / 50));
    const y = Float64Array.from(s, (_, i) => (i % 3 === 0 ? 1 : 0));
    const p = crossFittedProbabilities("isotonic", s, y, undefined, 5);
    assert.equal(p.length, 50);
    assert.ok(p.every((v) => v >= 0 && v <= 1));
  });
});
