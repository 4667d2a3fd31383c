import assert from "node:assert/strict";
import {
  rocAuc, prAuc, logLoss, brier, rocCurve, calibrationBins, expectedCalibrationError, liftByDecile, aucStandardError, aucLowerBound,
} from "../src/models/metrics.ts";
import { ModelInputError } from "../src/models/numeric.ts";

const close = (a: number, b: number, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

/** Trapezoidal area under a curve given as parallel x/y lists. */
const trapezoid = (x: number[], y: number[]): number => {
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return a;
};

describe("models/metrics", () => {
  describe("rocAuc", () => {
    /*
     * Scores .9 .8 .7 .6, labels 1 0 1 0. Pairs (pos, neg): (.9,.8) ✓ (.9,.6) ✓ (.7,.8) ✗ (.7,.6) ✓ → 3/4.
     * Weights 1 1 2 1: W⁺ = 3, W⁻ = 2; pair masses 1·1 + 1·1 + 0 + 2·1 = 4 → 4/6.
     */
    it("counts correctly ordered positive–negative pairs, weighted", () => {
      close(rocAuc([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]), 0.75);
      close(rocAuc([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0], [1, 1, 2, 1]), 4 / 6);
      // The weight-2 row is the same as the row written twice.
      close(rocAuc([0.9, 0.8, 0.7, 0.7, 0.6], [1, 0, 1, 1, 0]), 4 / 6);
    });

    it("counts a tie as half a pair", () => {
      // (.8,.5) ✓ → 1; (.5,.5) tie → ½; 1.5 / 2.
      close(rocAuc([0.8, 0.5, 0.5], [1, 1, 0]), 0.75);
      close(rocAuc([0.5, 0.5], [1, 0]), 0.5);
    });

    it("gives a fractional-label row the value of its expanded events", () => {
      // (score .7, label .25, weight 4) = 1 positive + 3 negatives at .7.
      const agg = rocAuc([0.9, 0.7, 0.2], [0, 0.25, 1], [2, 4, 1]);
      const exp = rocAuc([0.9, 0.9, 0.7, 0.7, 0.7, 0.7, 0.2], [0, 0, 1, 0, 0, 0, 1]);
      close(agg, exp);
      // Two-row encoding (label 1 weight = conversions, label 0 weight = non-conversions) too.
      close(rocAuc([0.9, 0.7, 0.7, 0.2], [0, 1, 0, 1], [2, 1, 3, 1]), exp);
    });

    it("returns 0.5 for one class only or no rows, and ignores zero-weight rows", () => {
      assert.equal(rocAuc([0.1, 0.9], [1, 1]), 0.5);
      assert.equal(rocAuc([0.1, 0.9], [0, 0]), 0.5);
      assert.equal(rocAuc([], []), 0.5);
      close(rocAuc([0.9, 0.8, 0.1], [1, 0, 1], [1, 1, 0]), 1);
    });

    it("rejects mismatched lengths, NaN scores, bad labels and negative weights", () => {
      assert.throws(() => rocAuc([0.1], [1, 0]), ModelInputError);
      assert.throws(() => rocAuc([NaN], [1]), /score 0 is NaN/);
      assert.throws(() => rocAuc([0.1], [2]), /label 0 is 2/);
      assert.throws(() => rocAuc([0.1], [1], [-1]), /weight 0 is -1/);
      assert.throws(() => rocAuc([0.1], [1], [1, 2]), /weights/);
    });
  });

  describe("aucStandardError (Hanley–McNeil)", () => {
    it("matches the closed form computed by hand", () => {
      // A = 0.8, 10 positives, 20 negatives: Q1 = 0.8/1.2 = 0.666667, Q2 = 2·0.64/1.8 = 0.711111;
      // SE² = (0.8·0.2 + 9·(0.666667 − 0.64) + 19·(0.711111 − 0.64)) / 200 = (0.16 + 0.24 + 1.351111) / 200 = 0.0087556
      assert.ok(Math.abs(aucStandardError(0.8, 10, 20) - Math.sqrt(1.751111 / 200)) < 1e-6);
      // Lower 95 % bound 0.8 − 1.96 · 0.093571 = 0.616600
      assert.ok(Math.abs(aucLowerBound(0.8, 10, 20) - 0.6166) < 1e-4);
    });
    it("shrinks as the test window grows, and measures nothing without both classes", () => {
      assert.ok(aucStandardError(0.7, 200, 2000) < aucStandardError(0.7, 20, 200) / 2.5);
      assert.equal(aucStandardError(0.7, 0, 100), Infinity);
      assert.equal(aucLowerBound(0.7, 5, 0), 0);
      assert.throws(() => aucStandardError(1.2, 5, 5), ModelInputError);
    });
  });

  describe("prAuc", () => {
    /*
     * Scores .9 .8 .7 .6, labels 1 0 1 0, W⁺ = 2. Thresholds with a positive: .9 → P 1/1, ΔR ½;
     * .7 → P 2/3, ΔR ½. AP = ½ + ⅓ = 5/6.
     */
    it("is average precision with step interpolation", () => {
      close(prAuc([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]), 5 / 6);
      // A tie between a positive and a negative is one threshold: P = ½, R = 1 → ½.
      close(prAuc([0.5, 0.5], [1, 0]), 0.5);
      // Weight 2 on the second positive: .9 → P 1, ΔR ⅓; .7 → P 3/4, ΔR ⅔ → ⅓ + ½.
      close(prAuc([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0], [1, 1, 2, 1]), 1 / 3 + 1 / 2);
    });

    it("returns 0 without positives and 1 without negatives", () => {
      assert.equal(prAuc([0.3, 0.2], [0, 0]), 0);
      assert.equal(prAuc([0.3, 0.2], [1, 1]), 1);
      assert.equal(prAuc([], []), 0);
    });
  });

  describe("logLoss and brier", () => {
    it("match hand-computed values", () => {
      // −(ln .8 + ln .6)/2
      close(logLoss([0.8, 0.4], [1, 0]), -(Math.log(0.8) + Math.log(0.6)) / 2);
      close(logLoss([0.8, 0.4], [1, 0], [3, 1]), -(3 * Math.log(0.8) + Math.log(0.6)) / 4);
      // (.2² + .4²)/2 = .1
      close(brier([0.8, 0.4], [1, 0]), 0.1);
      close(brier([0.8, 0.4], [1, 0], [3, 1]), (3 * 0.04 + 0.16) / 4);
    });

    it("give a fractional-label row the value of its expanded events", () => {
      // (p .3, y .5, w 2) = one event at y 1 (.49) and one at y 0 (.09) → .29.
      close(brier([0.3], [0.5], [2]), 0.29);
      close(logLoss([0.3], [0.5], [2]), -(Math.log(0.3) + Math.log(0.7)) / 2);
    });

    it("clip certain wrong predictions and return 0 for no weight", () => {
      close(logLoss([0], [1]), -Math.log(1e-15), 1e-9);
      assert.equal(logLoss([], []), 0);
      assert.equal(brier([0.5], [1], [0]), 0);
      assert.throws(() => logLoss([1.2], [1]), /probability/);
    });
  });

  describe("rocCurve", () => {
    it("has one point per distinct score and its trapezoid area is the AUC", () => {
      const c = rocCurve([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]);
      assert.deepEqual(c.fpr, [0, 0, 0.5, 0.5, 1]);
      assert.deepEqual(c.tpr, [0, 0.5, 0.5, 1, 1]);
      assert.deepEqual(c.thresholds, [Infinity, 0.9, 0.8, 0.7, 0.6]);
      const p = [0.9, 0.7, 0.7, 0.3, 0.2, 0.2];
      const y = [1, 0, 1, 0.5, 0, 1];
      const w = [1, 2, 1, 4, 1, 3];
      const d = rocCurve(p, y, w);
      close(trapezoid(d.fpr, d.tpr), rocAuc(p, y, w));
      assert.equal(d.fpr.length, 5);
    });

    it("falls back to the diagonal when a class is missing", () => {
      const c = rocCurve([0.9, 0.1], [1, 1], [1, 3]);
      assert.deepEqual(c.fpr, c.tpr);
      assert.deepEqual(c.tpr, [0, 0.25, 1]);
      assert.deepEqual(rocCurve([], []), { fpr: [0, 1], tpr: [0, 1], thresholds: [Infinity, -Infinity] });
    });
  });

  describe("calibrationBins", () => {
    it("bins by predicted probability and omits empty bins", () => {
      // bin 0: .05 (y 0); bin 1: .15 (y 1), .12 (y 0) → mean .135, rate ½; p = 1 lands in bin 9.
      const b = calibrationBins([0.05, 0.15, 0.12, 1], [0, 1, 0, 1]);
      assert.equal(b.length, 3);
      close(b[0]!.meanPredicted, 0.05);
      assert.equal(b[0]!.observedRate, 0);
      close(b[1]!.meanPredicted, 0.135);
      assert.equal(b[1]!.observedRate, 0.5);
      assert.equal(b[1]!.weight, 2);
      assert.deepEqual(b[2], { meanPredicted: 1, observedRate: 1, weight: 1 });
      // ECE = (1·.05 + 2·.365 + 0)/4
      close(expectedCalibrationError(b), (0.05 + 2 * 0.365) / 4);
    });

    it("weights rows and honours the bin count", () => {
      const b = calibrationBins([0.2, 0.4], [1, 0], [3, 1], 2);
      assert.deepEqual(b, [{ meanPredicted: (3 * 0.2 + 0.4) / 4, observedRate: 0.75, weight: 4 }]);
      assert.deepEqual(calibrationBins([], []), []);
      assert.equal(expectedCalibrationError([]), 0);
      assert.throws(() => calibrationBins([0.1], [1], undefined, 0), /bins/);
    });
  });

  describe("liftByDecile", () => {
    it("cuts equal-weight deciles from the top score down", () => {
      // Ten rows, the two highest scores convert: overall rate .2 → deciles 1–2 lift 5, the rest 0.
      const p = Array.from({ length: 10 }, (_, i) => (i + 1) / 10);
      const y = p.map((s) => (s >= 0.9 ? 1 : 0));
      const l = liftByDecile(p, y);
      assert.equal(l.length, 10);
      assert.deepEqual(l.map((d) => d.conversionRate), [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
      assert.deepEqual(l.map((d) => d.lift), [5, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
      l.forEach((d) => close(d.weight, 1));
    });

    it("splits a heavy row across deciles and is independent of tie order", () => {
      // One row of weight 5 (rate 1) over five of weight 1 (rate 0): deciles 1–5 rate 1, 6–10 rate 0.
      const l = liftByDecile([0.9, 0.1, 0.2, 0.3, 0.4, 0.5], [1, 0, 0, 0, 0, 0], [5, 1, 1, 1, 1, 1]);
      assert.deepEqual(l.map((d) => d.conversionRate), [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
      l.forEach((d) => close(d.weight, 1));
      // A tie group straddling a boundary uses its mean rate whichever tied row comes first.
      const a = liftByDecile([0.5, 0.5, 0.1], [1, 0, 0], [1, 1, 1]);
      const b = liftByDecile([0.5, 0.5, 0.1], [0, 1, 0], [1, 1, 1]);
      assert.deepEqual(a, b);
      close(a[0]!.conversionRate, 0.5);
    });

    it("returns lift 1 when nothing converts and zero weights when empty", () => {
      assert.ok(liftByDecile([0.3, 0.2], [0, 0]).every((d) => d.lift === 1 && d.conversionRate === 0));
      assert.ok(liftByDecile([], []).every((d) => d.weight === 0 && d.lift === 1));
    });
  });
});
