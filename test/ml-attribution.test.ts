import assert from "node:assert/strict";
import { buildEncoding, encodeJourney, featureKey, parseChannelStats, type FeatureRow, type JourneyFeatures } from "../src/ml-attribution/features.ts";
import { censorCutoff, timeSplit, weightedSet } from "../src/ml-attribution/split.ts";
import { capChannelCredit, capShares, normaliseCredit, removalEffectShares, rollUpCredit, shapleyShares } from "../src/ml-attribution/credit.ts";
import { AucBelowFloorError, aucEvidenceFromMetrics, aucFloorVerdict, calibrateCredit, checkAucFloor, checkDrift } from "../src/ml-attribution/validation.ts";
import { attributeCredit, fitConversionModel, lastTouchTotals } from "../src/ml-attribution/pipeline.ts";
import { generateJourneys, lastTouchCredit, toFeatureRows, DEFAULT_SCENARIO } from "./fixtures/ml/journeys.ts";

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

function row(stats: string, date: string, conversions: number, nonConversions: number, value = 0, props: Partial<JourneyFeatures> = {}): FeatureRow {
  const base = { channels: parseChannelStats(stats, "test"), userType: "new", device: "mobile", region: "North", engagement: "(not set)", ...props };
  return { ...base, date, conversions, nonConversions, value, key: featureKey(base) };
}

/**
 * A tiny hand-computable "model": P = 0.1 + 0.3·has:A + 0.2·has:B − 0.05·has:C, read from the encoded
 * row, so the counterfactual rows the credit functions build are what it sees.
 */
function additiveModel(enc: ReturnType<typeof buildEncoding>): (X: Float32Array) => Float64Array {
  const F = enc.featureNames.length;
  const col = (c: string): number => enc.featureNames.indexOf(`has:${c}`);
  const [a, b, c] = [col("A"), col("B"), col("C")];
  return (X) => {
    const out = new Float64Array(X.length / F);
    for (let r = 0; r < out.length; r++) out[r] = 0.1 + 0.3 * X[r * F + a]! + 0.2 * X[r * F + b]! - 0.05 * X[r * F + c]!;
    return out;
  };
}

describe("ml-attribution", () => {
  describe("features", () => {
    it("parses channel_stats and re-derives every dependent feature when a channel is removed", () => {
      // A: 2 touches, first touch first, last touch 2nd from end; B: 1 touch, the last touch.
      const j = row("A=2,1,2,3,4 > B=1,2,1,0,2", "2024-01-01", 1, 0);
      const enc = buildEncoding([j, row("C=1,1,1,0,0", "2024-01-01", 0, 1, 0, { device: "desktop" })]);
      const F = enc.featureNames.length;
      const x = new Float32Array(F);
      const at = (name: string): number => x[enc.featureNames.indexOf(name)]!;
      encodeJourney(enc, j, x, 0);
      assert.deepEqual([at("has:A"), at("touches:A"), at("recency:A"), at("position:A"), at("first:A"), at("last:A")], [1, 2, 3, 2, 1, 0]);
      assert.deepEqual([at("has:B"), at("position:B"), at("first:B"), at("last:B")], [1, 1, 0, 1]);
      assert.ok(Number.isNaN(at("recency:C")) && at("has:C") === 0);
      assert.deepEqual([at("path_length"), at("distinct_channels"), at("journey_age"), at("device=mobile"), at("device=desktop")], [3, 2, 4, 1, 0]);
      // Without B: A becomes the last channel at position 1; the path has 2 touches.
      encodeJourney(enc, j, x, 0, [1, 0]);
      assert.deepEqual([at("has:B"), at("position:A"), at("last:A"), at("first:A"), at("path_length"), at("distinct_channels"), at("journey_age")], [0, 1, 1, 1, 2, 1, 4]);
      assert.ok(Number.isNaN(at("position:B")));
      // Without A: B is first and last, and the journey's age is B's first touch.
      encodeJourney(enc, j, x, 0, [0, 1]);
      assert.deepEqual([at("first:B"), at("last:B"), at("path_length"), at("journey_age")], [1, 1, 1, 2]);
      assert.throws(() => parseChannelStats("A=1,2", "t"), /channel_stats entry "A=1,2"/);
    });
  });

  describe("time split and weighted rows", () => {
    const dayOf = (i: number): string => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10);
    const daysOf = (counts: Array<[number, number]>) => new Map(counts.map(([journeys, conversions], i) => [dayOf(i), { journeys, conversions }]));

    it("puts the oldest 70 % of calendar days in train and keeps days whole", () => {
      // 10 days: i < 7 train, 7 ≤ i < 8.5 validation (days 8, 9), day 10 test; no conversion floor (0).
      const s = timeSplit(daysOf(Array.from({ length: 10 }, () => [10, 1])), [0.7, 0.15, 0.15], 0);
      assert.deepEqual([s.train.days, s.validation.days, s.test.days], [7, 2, 1]);
      assert.equal(s.partOf("2024-01-08"), "validation");
      assert.equal(s.test.from, "2024-01-10");
      assert.deepEqual([s.train.conversions, s.validation.conversions, s.test.conversions], [7, 2, 1]);
      // Three days: 0, 1 < 2.1 train, 2 < 2.55 validation, test empty → takes a day from train; time order kept.
      const uneven = timeSplit(daysOf([[1000, 1], [1, 1], [1, 1]]), [0.7, 0.15, 0.15], 0);
      assert.deepEqual([uneven.train.to, uneven.validation.from, uneven.test.from], ["2024-01-01", "2024-01-02", "2024-01-03"]);
      assert.throws(() => timeSplit(daysOf([[5, 1]]), [0.7, 0.15, 0.15]), /at least 3 different days/);
    });

    it("does not shrink the test window to a day when non-converting journeys pile up at the end of the data", () => {
      // 40 days, 5 conversions a day; journeys grow like i² (non-converting journeys end at users' last
      // sessions). A journey-weighted 70/15/15 split gave the test window only the last 2 days (36/2/2); by the
      // calendar it has 40 − ceil(0.85·40) = 6 days, 30 conversions, before the conversion floor.
      const counts = Array.from({ length: 40 }, (_, i): [number, number] => [5 + (i + 1) ** 2, 5]);
      const s = timeSplit(daysOf(counts), [0.7, 0.15, 0.15], 0);
      assert.deepEqual([s.train.days, s.validation.days, s.test.days], [28, 6, 6]);
      assert.equal(s.test.conversions, 30);
    });

    it("widens the validation and test windows backwards until each has the conversions it needs", () => {
      // 40 days × 5 conversions, floor 50: test takes 10 days (50), validation 10 more, train keeps 20 days (100 ≥ 200 / 2).
      const counts = Array.from({ length: 40 }, (): [number, number] => [100, 5]);
      const s = timeSplit(daysOf(counts), [0.7, 0.15, 0.15], 50);
      assert.deepEqual([s.train.days, s.validation.days, s.test.days], [20, 10, 10]);
      assert.deepEqual([s.validation.conversions, s.test.conversions], [50, 50]);
      // Too few conversions for both floors: train keeps at least half of them; test is widened first.
      const few = timeSplit(daysOf(Array.from({ length: 10 }, (): [number, number] => [100, 2])), [0.7, 0.15, 0.15], 50);
      assert.ok(few.train.conversions >= 10, `train ${few.train.conversions}`);
      assert.ok(few.test.conversions >= few.validation.conversions);
      assert.equal(few.train.days + few.validation.days + few.test.days, 10);
    });

    it("leaves the last vars.ml_censor_days days out of fitting (open journeys may still convert)", () => {
      // Last day 02-29 (leap year) − 7 days = 02-22: journeys ending 02-23 … 02-29 are censored.
      assert.equal(censorCutoff(["2024-02-01", "2024-02-29", "2024-02-10"], 7), "2024-02-22");
      assert.equal(censorCutoff(["2024-03-02"], 0), "2024-03-02");
      assert.equal(censorCutoff([], 7), null);
    });

    it("merges a feature vector across days into one positive and one negative weighted row", () => {
      const rows = [row("A=1,1,1,0,0", "2024-01-01", 2, 3), row("A=1,1,1,0,0", "2024-01-02", 1, 0), row("B=1,1,1,0,0", "2024-01-01", 0, 4)];
      const enc = buildEncoding(rows);
      const set = weightedSet(enc, rows);
      assert.equal(set.uniqueVectors, 2);
      assert.equal(set.rows, 3);
      assert.deepEqual([...set.y], [1, 0, 0]);
      assert.deepEqual([...set.weights], [3, 3, 4]);
    });
  });

  describe("credit", () => {
    const j = row("A=1,1,3,2,2 > B=1,2,2,1,1 > C=1,3,1,0,0", "2024-01-01", 1, 0);
    const enc = buildEncoding([j]);
    const predict = additiveModel(enc);

    it("gives removal-effect credit ∝ P(all) − P(all but i), with negative parts set to 0", () => {
      // P(all) = .55; without A .25 → .30; without B .35 → .20; without C .60 → −.05 → 0. Shares .6, .4, 0.
      const [s] = removalEffectShares(enc, [j], predict);
      close(s![0]!, 0.6);
      close(s![1]!, 0.4);
      assert.equal(s![2], 0);
      // One channel: P(all) − v(∅) = P(all) − 0 → all the credit.
      assert.deepEqual([...removalEffectShares(enc, [row("B=1,1,1,0,0", "2024-01-01", 1, 0)], predict)[0]!], [1]);
    });

    it("splits equally when no channel has positive credit", () => {
      assert.deepEqual([...normaliseCredit([-1, 0, -2])], [1 / 3, 1 / 3, 1 / 3]);
      assert.deepEqual([...normaliseCredit([NaN, 2])], [0, 1]);
    });

    it("computes exact Shapley values with the model as value function", () => {
      // v(S) = .1 + Σ_{i∈S} a_i for S ≠ ∅, v(∅) = 0: the .1 is symmetric → each gets .1/3.
      // φ = .3 + .0333, .2 + .0333, −.05 + .0333 = −.0167 → 0. Shares .3333/.5667, .2333/.5667, 0.
      const { shares, sampledJourneys } = shapleyShares(enc, [j], predict, { maxExactChannels: 8, permutations: 10, seed: 1 });
      assert.equal(sampledJourneys, 0);
      close(shares[0]![0]!, (0.3 + 0.1 / 3) / (0.5 + 0.2 / 3));
      close(shares[0]![1]!, (0.2 + 0.1 / 3) / (0.5 + 0.2 / 3));
      assert.equal(shares[0]![2], 0);
    });

    it("samples permutations above the exact limit, deterministically and close to exact", () => {
      const opts = { maxExactChannels: 2, permutations: 3000, seed: 7 };
      const a = shapleyShares(enc, [j], predict, opts);
      const b = shapleyShares(enc, [j], predict, { ...opts, batchRows: 5 });
      assert.equal(a.sampledJourneys, 1);
      assert.deepEqual(a.shares, b.shares);
      close(a.shares[0]![0]!, (0.3 + 0.1 / 3) / (0.5 + 0.2 / 3), 0.02);
    });

    it("rolls shares up to channels and days with value", () => {
      const rows = [row("A=1,1,2,0,0 > B=1,2,1,0,0", "2024-01-02", 2, 5, 100), row("A=1,1,2,0,0 > B=1,2,1,0,0", "2024-01-01", 1, 0, 30), row("B=1,1,1,0,0", "2024-01-01", 0, 9)];
      const shares = new Map([[rows[0]!.key, Float64Array.from([0.25, 0.75])]]);
      const { totals, daily } = rollUpCredit(rows, shares);
      assert.deepEqual(totals, [{ channel: "A", conversions: 0.75, value: 32.5, share: 0.25 }, { channel: "B", conversions: 2.25, value: 97.5, share: 0.75 }]);
      assert.deepEqual(daily.map((d) => [d.date, d.channel, d.conversions]), [["2024-01-01", "A", 0.25], ["2024-01-01", "B", 0.75], ["2024-01-02", "A", 0.5], ["2024-01-02", "B", 1.5]]);
    });
  });

  describe("share cap", () => {
    it("caps shares and redistributes the excess in proportion, repeating until none exceeds the cap", () => {
      // a .6 → .4; b .3 and c .1 share .6 → b .45 > .4 → b .4; c gets the remaining .2.
      const c = capShares(new Map([["a", 0.6], ["b", 0.3], ["c", 0.1]]), 0.4);
      close(c.shares.get("a")!, 0.4);
      close(c.shares.get("b")!, 0.4);
      close(c.shares.get("c")!, 0.2);
      assert.deepEqual(c.capped, ["a", "b"]);
      // a .5 → .4; b .3, c .2 share .6 in proportion 3:2 → .36, .24.
      const d = capShares(new Map([["a", 5], ["b", 3], ["c", 2]]), 0.4);
      close(d.shares.get("b")!, 0.36);
      close(d.shares.get("c")!, 0.24);
    });

    it("is off at 1 and gives equal shares when the cap cannot hold", () => {
      assert.deepEqual([...capShares(new Map([["a", 0.9], ["b", 0.1]]), 1).shares.values()], [0.9, 0.1]);
      const c = capShares(new Map([["a", 0.9], ["b", 0.1]]), 0.4);
      assert.equal(c.feasible, false);
      assert.deepEqual([...c.shares.values()], [0.5, 0.5]);
    });

    it("scales daily credit with its channel's total", () => {
      const totals = [{ channel: "a", conversions: 6, value: 60, share: 0.6 }, { channel: "b", conversions: 4, value: 40, share: 0.4 }, { channel: "c", conversions: 0, value: 0, share: 0 }];
      const daily = [{ date: "2024-01-01", channel: "a", conversions: 6, value: 60 }, { date: "2024-01-01", channel: "b", conversions: 4, value: 40 }];
      // Only two channels with credit and cap .5: a 5, b 5.
      const r = capChannelCredit(totals, daily, 0.5);
      assert.deepEqual(r.totals.map((t) => [t.channel, t.conversions, t.share]), [["a", 5, 0.5], ["b", 5, 0.5], ["c", 0, 0]]);
      assert.deepEqual(r.daily.map((d) => d.conversions), [5, 5]);
    });
  });

  describe("calibration, drift and the AUC floor", () => {
    const totals = [{ channel: "A", conversions: 100, value: 0, share: 2 / 3 }, { channel: "B", conversions: 50, value: 0, share: 1 / 3 }, { channel: "C", conversions: 0, value: 0, share: 0 }];
    const daily = [
      { date: "2024-01-01", channel: "A", conversions: 30, value: 0 }, { date: "2024-01-02", channel: "A", conversions: 10, value: 0 },
      { date: "2024-01-03", channel: "A", conversions: 60, value: 0 }, { date: "2024-01-01", channel: "B", conversions: 50, value: 0 },
    ];

    it("derives factors = measured / attributed from experiments, then MMM shares, else 1", () => {
      // A: experiment 01-01 … 01-02 attributed 30 + 10 = 40, measured 20 → .5. B: MMM share .2 of 150 = 30 / 50 → .6.
      const r = calibrateCredit(totals, daily,
        [{ channel: "A", periodStart: "2024-01-01", periodEnd: "2024-01-02", incrementalConversions: 20 }],
        [{ channel: "A", share: 0.5 }, { channel: "B", share: 0.2 }]);
      assert.deepEqual(r.rows.map((x) => [x.channel, x.source, x.factor, x.calibratedConversions]), [["A", "experiment", 0.5, 50], ["B", "mmm", 0.6, 30], ["C", "none", 1, 0]]);
      // The MMM factor of A is recorded although the experiment's is applied.
      close(r.mmmFactors.get("A")!, 0.75);
      assert.deepEqual(r.warnings, []);
    });

    it("runs with no calibration input and warns about an experiment it cannot use", () => {
      assert.ok(calibrateCredit(totals, daily, [], []).rows.every((x) => x.source === "none" && x.factor === 1));
      const r = calibrateCredit(totals, daily, [{ channel: "B", periodStart: "2024-02-01", periodEnd: "2024-02-09", incrementalConversions: 3 }], []);
      assert.match(r.warnings[0]!, /"B" has no ML credit in its experiment period/);
      assert.throws(() => calibrateCredit(totals, daily, [], [{ channel: "A", share: 40 }]), /fraction/);
    });

    it("flags a relative AUC drop above the limit and says to retrain", () => {
      // .80 → .70 is a 12.5 % drop (> 10 %); .80 → .75 is 6.25 %.
      const d = checkDrift(0.8, 0.7, 0.1);
      assert.equal(d.flagged, true);
      close(d.relativeDrop!, 0.125);
      assert.match(d.message!, /retrain/);
      assert.equal(checkDrift(0.8, 0.75, 0.1).flagged, false);
      assert.equal(checkDrift(null, 0.5, 0.1).flagged, false);
    });

    it("refuses a model its test window cannot tell from chance, naming the setting and the figures", () => {
      // decay/s1 of the benchmark (README "Accuracy"): AUC 0.573 on 50 converting and 873 other test journeys;
      // SE = 0.043224 (Hanley–McNeil), lower 95 % bound 0.573 − 1.96 · 0.043224 = 0.4883 < 0.5. Its ML credit was
      // further from the true incremental shares than the best heuristic's.
      assert.throws(() => checkAucFloor({ auc: 0.573, positives: 50, negatives: 873 }, 0.5, "test days x"), (e: unknown) =>
        e instanceof AucBelowFloorError && Math.abs(e.lowerBound - 0.4883) < 1e-4
        && /test AUC 0\.5730 ± 0\.0847 \(95 % interval, Hanley–McNeil on 50 converting and 873 non-converting test journeys; test days x\): its lower end 0\.4883 is below vars\.ml_min_auc = 0\.5/.test(e.message)
        && /better than chance/.test(e.message));
    });
    it("publishes a weak model whose AUC is clear of chance, where the old 0.70 floor refused it", () => {
      // cross_device/s3: AUC 0.632 on 57 / 823 journeys, SE 0.040716, lower bound 0.5522 ≥ 0.5 (its credit was
      // closer to the truth than the best heuristic's). The same AUC on 10 conversions: SE 0.095354, bound 0.4451.
      assert.ok(Math.abs(checkAucFloor({ auc: 0.632, positives: 57, negatives: 823 }, 0.5, "ok") - 0.5522) < 1e-4);
      assert.throws(() => checkAucFloor({ auc: 0.632, positives: 10, negatives: 823 }, 0.5, "few"), AucBelowFloorError);
    });
    it("publishes every model at vars.ml_min_auc = 0 and applies a stricter floor to the bound, not the AUC", () => {
      assert.equal(checkAucFloor({ auc: 0.3, positives: 50, negatives: 500 }, 0, "off") >= 0, true);
      assert.equal(checkAucFloor({ auc: 0.7, positives: 0, negatives: 500 }, 0, "no conversions"), 0);
      assert.throws(() => checkAucFloor({ auc: 0.72, positives: 57, negatives: 823 }, 0.7, "x"), (e: unknown) => e instanceof AucBelowFloorError && /with an AUC of 0\.7/.test(e.message));
    });
    it("reads the evidence from a metrics record (lead scoring's, the benchmark's) and gives the same verdict without throwing", () => {
      // cross_device/s3 again, as a metrics record: 880 test journeys at a conversion rate of 57 / 880.
      const evidence = aucEvidenceFromMetrics({ auc: 0.632, n_test: 880, base_rate: 57 / 880 })!;
      assert.ok(Math.abs(evidence.positives - 57) < 1e-9 && Math.abs(evidence.negatives - 823) < 1e-9, `57 / 823 journeys: ${JSON.stringify(evidence)}`);
      const verdict = aucFloorVerdict(evidence, 0.5);
      assert.ok(verdict.clears && Math.abs(verdict.lowerBound - 0.5522) < 1e-4, `clears with a lower bound of 0.5522: ${JSON.stringify(verdict)}`);
      assert.equal(aucFloorVerdict({ auc: 0.632, positives: 10, negatives: 823 }, 0.5).clears, false);
      assert.equal(aucFloorVerdict({ auc: 0.3, positives: 50, negatives: 500 }, 0).clears, true);
      assert.equal(aucEvidenceFromMetrics({ auc: 0.7, n_test: 100 }), undefined);
    });
  });

  describe("on journeys with known incremental effects", () => {
    it("ranks the causal channels above the harvesting ones, where last touch does not", async function () {
      this.timeout(120_000);
      const journeys = generateJourneys({ journeys: 10_000 });
      const rows = toFeatureRows(journeys);
      const fit = await fitConversionModel(rows, { split: [0.7, 0.15, 0.15], maxRounds: 300, maxDepth: 4, learningRate: 0.1, earlyStoppingRounds: 20, seed: 1 });
      assert.ok(fit.test.auc > 0.7, `test AUC ${fit.test.auc}`);
      const credit = attributeCredit(rows, fit, { shapleyMaxExactChannels: 8, shapleyPermutations: 200, seed: 1 });
      const causal = Object.keys(DEFAULT_SCENARIO.causal);
      const harvesting = DEFAULT_SCENARIO.harvesting;
      for (const [method, c] of Object.entries(credit.byMethod)) {
        const share = new Map(c.totals.map((t) => [t.channel, t.share]));
        const minCausal = Math.min(...causal.map((ch) => share.get(ch) ?? 0));
        const maxHarvest = Math.max(...harvesting.map((ch) => share.get(ch) ?? 0));
        assert.ok(minCausal > maxHarvest, `${method}: causal min ${minCausal} vs harvesting max ${maxHarvest}`);
        const total = c.totals.reduce((s, t) => s + t.conversions, 0);
        close(total, rows.reduce((s, r) => s + r.conversions, 0), 1e-6);
      }
      // Last touch: the harvesting channels take the top places.
      const last = lastTouchCredit(journeys);
      assert.deepEqual(lastTouchTotals(rows), last);
      const lastMinHarvest = Math.min(...harvesting.map((ch) => last.get(ch) ?? 0));
      const lastMaxCausal = Math.max(...causal.map((ch) => last.get(ch) ?? 0));
      assert.ok(lastMinHarvest > lastMaxCausal, `last touch: harvesting min ${lastMinHarvest} vs causal max ${lastMaxCausal}`);
    });
  });
});
