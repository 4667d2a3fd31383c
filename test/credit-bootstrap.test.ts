/**
 * Bootstrap intervals of credit shares (src/models/credit-bootstrap.ts), the published interval built on them
 * (src/models/credit-interval.ts) and the model recommendation's ranking (src/models/recommendation.ts): pure
 * functions on hand-made path aggregates, residuals and intervals.
 */
import assert from "node:assert/strict";
import { createRng } from "../src/demo/prng.ts";
import { bootstrapFromReplicates, bootstrapModels, intervalAround, intervalCoverage, pathModels, poisson } from "../src/models/credit-bootstrap.ts";
import { calibratedMargin, dataShape, modelEvidence, noiseCharge, recommendModels, shapeDistance, type ReferenceWorld } from "../src/models/recommendation.ts";
import { conformalQuantile, outsideScore, widenedInterval } from "../src/models/credit-interval.ts";
import { bootstrapL1FromIntervals } from "../jobs/model-recommendation.ts";
import { bestAucFloor, calibrateAucFloor, formatEvaluation, intervalSummary, publishedIntervals, refusalTable } from "../src/benchmark/evaluation.ts";

const SETTINGS = {
  positionBasedWeights: [0.4, 0.2, 0.4] as const, nonDirectExcludedChannels: ["Direct"],
  markovOrder: 1, markovUseNulls: true, shapleyValueFunction: "subsets" as const, shapleyMaxExactChannels: 15,
};

describe("credit bootstrap", () => {
  it("draws Poisson counts with the right mean on both sides of the normal approximation", () => {
    const rng = createRng(3);
    for (const mean of [0.5, 4, 80]) {
      let s = 0;
      for (let i = 0; i < 4000; i++) s += poisson(rng, mean);
      assert.ok(Math.abs(s / 4000 - mean) < 0.05 * mean + 0.05, `mean ${mean}: ${s / 4000}`);
    }
    assert.equal(poisson(rng, 0), 0);
  });

  it("re-fits the heuristics from paths with heuristic_touch_credit's rules", () => {
    // "A > Direct" 10 conversions, "A > B > C" 10, "Direct" 5:
    // last_non_direct: A 10 (Direct skipped), C 10, Direct 5 (every touch excluded → the last) → 0.4, 0.4, 0.2
    // position_based: A > Direct ½ each; A > B > C 0.4/0.2/0.4; Direct 1 → A 9, Direct 10, B 2, C 4 of 25
    const rows = [{ path: ["A", "Direct"], conversions: 10, nulls: 0 }, { path: ["A", "B", "C"], conversions: 10, nulls: 5 }, { path: ["Direct"], conversions: 5, nulls: 50 }];
    const m = pathModels(SETTINGS);
    assert.deepEqual(m.last_non_direct!(rows), { A: 0.4, B: 0, C: 0.4, Direct: 0.2 });
    const pb = m.position_based!(rows);
    for (const [c, v] of Object.entries({ A: 9 / 25, Direct: 10 / 25, B: 2 / 25, C: 4 / 25 })) assert.ok(Math.abs(pb[c]! - v) < 1e-12, `${c} ${pb[c]}`);
    assert.deepEqual(Object.keys(m).sort(), ["first_touch", "last_non_direct", "last_touch", "linear", "markov_order_1", "position_based", "shapley"]);
  });

  it("gives one model instance's fits on successive row sets (shared paths, a channel drawn out, new channels) as a fresh instance does", () => {
    // The fits keep each path's channels, weights and coalition mask by the path array between calls (the bootstrap's
    // replicates share them): a kept mask must follow the channels of the rows given, not those of an earlier call.
    const ab = ["A", "B"], b = ["B"], ca = ["C", "A"], dd = ["D", "D", "B"];
    const sets = [
      [{ path: ab, conversions: 3, nulls: 1 }, { path: b, conversions: 2, nulls: 4 }, { path: ca, conversions: 1, nulls: 0 }],
      // A and C drawn out: Shapley over B and D, B now the first bit (it was the second).
      [{ path: b, conversions: 5, nulls: 1 }, { path: dd, conversions: 1, nulls: 2 }],
      [{ path: dd, conversions: 2, nulls: 0 }, { path: ca, conversions: 4, nulls: 3 }, { path: ab, conversions: 1, nulls: 0 }], // D new
      [{ path: ab, conversions: 3, nulls: 1 }, { path: b, conversions: 2, nulls: 4 }, { path: ca, conversions: 1, nulls: 0 }],
    ];
    const kept = pathModels(SETTINGS);
    for (const [k, rows] of sets.entries()) {
      // Fresh instance, fresh arrays: nothing kept from before.
      const fresh = pathModels(SETTINGS);
      const copy = rows.map((r) => ({ ...r, path: [...r.path] }));
      for (const m of Object.keys(kept)) assert.deepEqual(kept[m]!(rows), fresh[m]!(copy), `set ${k}, ${m}`);
    }
    // By hand, set 3: linear credits D > D > B's two conversions ⅔ to D and ⅓ to B, C > A's four ½ each, A > B's one ½ each.
    const linear = kept.linear!(sets[2]!);
    for (const [c, v] of Object.entries({ D: 4 / 3 / 7, B: (2 / 3 + 0.5) / 7, C: 2 / 7, A: 2.5 / 7 })) assert.ok(Math.abs(linear[c]! - v) < 1e-12, `linear ${c}: ${linear[c]}`);
    assert.deepEqual(Object.keys(kept.shapley!(sets[1]!)).sort(), ["B", "D"], "Shapley over the channels of the rows given");
  });

  it("gives an interval around a share that varies between resamples and a point where it cannot", () => {
    // "A > B" and "B" with 50 conversions each: last touch is B in every resample ([1, 1]); first touch
    // gives A 50/(50+50) = 0.5 on average, with Poisson noise (sd ≈ 0.035), so 0.5 is inside a non-empty interval.
    const rows = [{ path: ["A", "B"], conversions: 50, nulls: 100 }, { path: ["B"], conversions: 50, nulls: 200 }];
    const b = bootstrapModels(rows, 200, 1, pathModels(SETTINGS));
    assert.deepEqual(b.last_touch!.intervals.B, { lo: 1, hi: 1 });
    assert.equal(b.last_touch!.meanL1, 0);
    const a = b.first_touch!.intervals.A!;
    assert.ok(a.lo < 0.5 && a.hi > 0.5 && a.hi - a.lo < 0.25, JSON.stringify(a));
    assert.ok(b.first_touch!.meanL1 > 0.01);
    assert.ok(b.markov_order_1!.intervals.A!.hi > b.markov_order_1!.intervals.A!.lo);
    assert.equal(b.first_touch!.replicates, 200);
    // Coverage: A's truth 0.5 inside, B's truth 0.2 outside [0.4…, 0.6…] → 1 of 2 channels.
    assert.equal(intervalCoverage(b.first_touch!.intervals, { A: 0.5, B: 0.2 }, ["A", "B"]), 0.5);
  });

  it("narrows the intervals as the data grows (sampling noise, ~1/√n)", () => {
    const rows = (k: number) => [{ path: ["A", "B"], conversions: 5 * k, nulls: 10 * k }, { path: ["B"], conversions: 5 * k, nulls: 20 * k }];
    const width = (k: number) => { const iv = bootstrapModels(rows(k), 200, 2, pathModels(SETTINGS)).first_touch!.intervals.A!; return iv.hi - iv.lo; };
    const small = width(10);
    const large = width(160);
    // 16 × the journeys: about ¼ the width.
    assert.ok(large < small / 2.5 && large > small / 6, `${small} → ${large}`);
  });

  it("summarises replicate shares computed in SQL: replicate 0 the point, a missing channel 0, a missing replicate not counted", () => {
    // Model m: replicate 0 A 0.6, B 0.4; replicates 1–3 A 0.5, 0.7, 1 (B absent: 0), replicate 4 absent (published nothing).
    // A's draws {0.5, 0.7, 1}: q05 = 0.5 + 0.1 · 0.2 = 0.52, q95 = 0.7 + 0.9 · 0.3 = 0.97. B's {0.5, 0.3, 0}: 0.03, 0.48.
    // L1 to the point: 0.2, 0.2, 0.8 → mean 0.4. Model n has no replicate 0 (it published nothing): left out.
    const rows = [
      { model: "m", replicate: 0, channel: "A", share: 0.6 }, { model: "m", replicate: 0, channel: "B", share: 0.4 },
      { model: "m", replicate: 1, channel: "A", share: 0.5 }, { model: "m", replicate: 1, channel: "B", share: 0.5 },
      { model: "m", replicate: 2, channel: "A", share: 0.7 }, { model: "m", replicate: 2, channel: "B", share: 0.3 },
      { model: "m", replicate: 3, channel: "A", share: 1 },
      { model: "n", replicate: 1, channel: "A", share: 1 },
    ];
    const b = bootstrapFromReplicates(rows);
    assert.deepEqual(Object.keys(b), ["m"]);
    const r9 = (x: number): number => Number(x.toFixed(9));
    assert.deepEqual(b.m!.point, { A: 0.6, B: 0.4 });
    assert.deepEqual(Object.fromEntries(Object.entries(b.m!.intervals).map(([c, iv]) => [c, [r9(iv.lo), r9(iv.hi)]])), { A: [0.52, 0.97], B: [0.03, 0.48] });
    assert.deepEqual([r9(b.m!.meanL1), b.m!.replicates], [0.4, 3]);
  });

  it("moves a re-fit interval onto the published share and keeps it inside [0, 1]", () => {
    assert.deepEqual(intervalAround(0.32, 0.3, { lo: 0.25, hi: 0.36 }), { lo: 0.27, hi: 0.38 });
    assert.deepEqual(intervalAround(0.02, 0.05, { lo: 0, hi: 0.1 }), { lo: 0, hi: 0.07 });
    // A share the re-fit cannot reproduce still lies in its interval.
    const iv = intervalAround(0.5, 0.5, { lo: 0.55, hi: 0.6 });
    assert.ok(iv.lo <= 0.5 && iv.hi >= 0.5);
  });
});

describe("model recommendation", () => {
  const world = (name: string, channels: number, len: number, cr: number, l1: Record<string, number>): ReferenceWorld => ({ world: name, shape: { channels, meanPathLength: len, conversionRate: cr }, l1 });

  it("measures the data's shape on channel_paths: journeys, touches per journey, conversion rate", () => {
    // 10 + 30 journeys of 2 touches, 60 of 1: 140 touches / 100 journeys; 20 conversions.
    const s = dataShape([{ path: ["A", "B"], conversions: 10, nulls: 30 }, { path: ["C"], conversions: 10, nulls: 50 }, { path: [], conversions: 3, nulls: 0 }]);
    assert.deepEqual(s, { channels: 3, journeys: 100, conversions: 20, meanPathLength: 1.4, conversionRate: 0.2 });
  });

  it("matches worlds by ratios: twice the channels is as far as twice the journey length", () => {
    const base = { channels: 5, meanPathLength: 2, conversionRate: 0.1 };
    const d1 = shapeDistance(base, { ...base, channels: 10 });
    const d2 = shapeDistance(base, { ...base, meanPathLength: 4 });
    assert.ok(Math.abs(d1 - Math.log(2)) < 1e-12 && Math.abs(d2 - Math.log(2)) < 1e-12);
    assert.equal(shapeDistance(base, base), 0);
  });

  it("recommends the model closest to the truth on the worlds shaped like the data, not on all worlds", () => {
    // Small worlds favour last_touch, large ones linear; the data is small.
    const ref = [
      world("small/s1", 5, 1.5, 0.05, { last_touch: 0.3, linear: 0.6 }),
      world("small/s2", 6, 1.6, 0.05, { last_touch: 0.4, linear: 0.5 }),
      world("large/s1", 14, 4, 0.1, { last_touch: 1.2, linear: 0.2 }),
      world("large/s2", 15, 4.5, 0.1, { last_touch: 1.1, linear: 0.3 }),
      world("large/s3", 13, 4.2, 0.1, { last_touch: 1.3, linear: 0.2 }),
    ];
    const data = { channels: 5, journeys: 1000, conversions: 50, meanPathLength: 1.5, conversionRate: 0.05 };
    const r = recommendModels(data, [{ model: "last_touch", bootstrapL1: 0.05 }, { model: "linear", bootstrapL1: 0.05 }], ref, 2);
    assert.deepEqual(r.map((x) => [x.model, x.rank, x.isRecommended]), [["last_touch", 1, true], ["linear", 2, false]]);
    // (0.3 + 0.4) / 2 + 0.05
    assert.ok(Math.abs(r[0]!.expectedL1! - 0.4) < 1e-12);
    assert.deepEqual(r[0]!.benchmarkWorlds, ["small/s1", "small/s2"]);
    assert.match(r[0]!.reason, /closest to the true incremental shares on the 2 benchmark worlds most like this data \(5 channels, 1\.5 touches/);
    // The large data: linear.
    const big = recommendModels({ ...data, channels: 14, meanPathLength: 4.2, conversionRate: 0.1 }, [{ model: "last_touch", bootstrapL1: 0.05 }, { model: "linear", bootstrapL1: 0.05 }], ref, 2);
    assert.equal(big[0]!.model, "linear");
  });

  it("weighs in instability on this data, and ranks a model without a benchmark reference last, never recommended", () => {
    const ref = [world("w/s1", 5, 2, 0.1, { a: 0.50, b: 0.55 })];
    const data = { channels: 5, journeys: 100, conversions: 10, meanPathLength: 2, conversionRate: 0.1 };
    const r = recommendModels(data, [{ model: "new_model", bootstrapL1: 0 }, { model: "a", bootstrapL1: 0.2 }, { model: "b", bootstrapL1: 0.05 }], ref);
    assert.deepEqual(r.map((x) => x.model), ["b", "a", "new_model"]);
    assert.equal(r[2]!.expectedL1, null);
    assert.equal(r[2]!.isRecommended, false);
    assert.match(r[2]!.reason, /no benchmark reference/);
    // Not bootstrapped (time_decay, owox_funnel): charged the median spread of the others, not assumed stable.
    const c = recommendModels(data, [{ model: "a", bootstrapL1: null }, { model: "b", bootstrapL1: 0.01 }], ref);
    // a: 0.50 + 0.01 (b's spread) = 0.51; b: 0.55 + 0.01 = 0.56.
    assert.deepEqual(c.map((x) => x.model), ["a", "b"]);
    assert.ok(Math.abs(c[0]!.expectedL1! - 0.51) < 1e-12);
    assert.match(c[0]!.reason, /not bootstrapped \(charged the other models' median spread, 0\.01\)/);
    const none = recommendModels(data, [{ model: "new_model", bootstrapL1: 0 }], ref);
    assert.equal(none[0]!.isRecommended, false);
  });

  it("charges only the noise this data adds beyond the benchmark worlds' own: none at their size, 1 − √(n / n̄) below it", () => {
    // a is closer on the worlds (0.30 vs 0.40) but moves more across bootstrap samples (0.30 vs 0.05). The worlds'
    // L1 already holds the noise of 400 conversions.
    const sized = (name: string, l1: Record<string, number>): ReferenceWorld => ({ world: name, shape: { channels: 5, meanPathLength: 2, conversionRate: 0.1, conversions: 400 }, l1 });
    const ref = [sized("w/s1", { a: 0.3, b: 0.4 }), sized("w/s2", { a: 0.3, b: 0.4 })];
    const evidence = [{ model: "a", bootstrapL1: 0.3 }, { model: "b", bootstrapL1: 0.05 }];
    const at = (conversions: number) => recommendModels({ channels: 5, journeys: 10 * conversions, conversions, meanPathLength: 2, conversionRate: 0.1 }, evidence, ref, 2);
    // As much data as the worlds: nothing added, the benchmark decides: a 0.30, b 0.40.
    const same = at(400);
    assert.deepEqual(same.map((x) => [x.model, x.expectedL1]), [["a", 0.3], ["b", 0.4]]);
    assert.match(same[0]!.reason, /\(0 % of that spread charged/);
    // A quarter of it: 1 − √¼ = ½ of the spread: a 0.30 + 0.15 = 0.45, b 0.40 + 0.025 = 0.425 — the steadier model.
    const quarter = at(100);
    assert.deepEqual(quarter.map((x) => x.model), ["b", "a"]);
    assert.ok(Math.abs(quarter[0]!.expectedL1! - 0.425) < 1e-12 && Math.abs(quarter[1]!.expectedL1! - 0.45) < 1e-12);
    assert.match(quarter[0]!.reason, /\(50 % of that spread charged: the benchmark's L1 already holds the noise of data its worlds' size\)/);
    // More data than the worlds: still nothing (clipped at 0); a reference without conversions: all of it.
    assert.equal(noiseCharge(1600, [400, 400]), 0);
    assert.equal(noiseCharge(100, [400, undefined]), 1);
  });

  it("ranks a published ML model by its benchmark reference and never a registered one that published nothing", () => {
    // Hand-made reference: on worlds like the data ml_treeshap is closest, then ml_shapley, then linear.
    const ref = [
      world("w/s1", 5, 2, 0.1, { last_touch: 0.9, linear: 0.6, ml_shapley: 0.4, ml_treeshap: 0.2 }),
      world("w/s2", 5, 2.2, 0.1, { last_touch: 0.8, linear: 0.5, ml_shapley: 0.3, ml_treeshap: 0.1 }),
    ];
    const data = { channels: 5, journeys: 1000, conversions: 100, meanPathLength: 2.1, conversionRate: 0.1 };
    const registered = ["last_touch", "linear", "ml_removal_effect", "ml_shapley", "ml_treeshap"];
    // This run: ml_shapley published (no interval: not re-fittable from paths); ml_treeshap and
    // ml_removal_effect did not (no credit, so no rows); intervals come in table order (model, channel).
    const intervals = [
      { model: "linear", width: 0.1 }, { model: "linear", width: 0.1 },
      { model: "last_touch", width: 0.2 }, { model: "last_touch", width: 0.2 },
      { model: "ml_shapley", width: null }, { model: "ml_shapley", width: null },
    ];
    const evidence = modelEvidence(registered, intervals, (w) => w.reduce((a, b) => a + b, 0));
    assert.deepEqual(evidence, [{ model: "last_touch", bootstrapL1: 0.4 }, { model: "linear", bootstrapL1: 0.2 }, { model: "ml_shapley", bootstrapL1: null }]);
    const r = recommendModels(data, evidence, ref);
    // ml_shapley: (0.4 + 0.3) / 2 + the median spread of the others (0.2, 0.4 → 0.2) = 0.55;
    // linear: 0.55 + 0.2 = 0.75; last_touch: 0.85 + 0.4 = 1.25.
    assert.deepEqual(r.map((x) => x.model), ["ml_shapley", "linear", "last_touch"]);
    assert.ok(r[0]!.isRecommended && Math.abs(r[0]!.expectedL1! - 0.55) < 1e-12 && Math.abs(r[0]!.benchmarkL1! - 0.35) < 1e-12);
    assert.ok(!r.some((x) => x.model === "ml_treeshap" || x.model === "ml_removal_effect"), "a model that published nothing is no candidate");
  });

  it("turns 90 % interval widths into the expected L1 of a replicate (normal shares)", () => {
    // σ = 0.1: width 2·1.6449·0.1, E|X − μ| = 0.1·√(2/π) ≈ 0.0798 per channel.
    const w = 2 * 1.6449 * 0.1;
    assert.ok(Math.abs(bootstrapL1FromIntervals([w, w]) - 2 * 0.1 * Math.sqrt(2 / Math.PI)) < 1e-12);
  });
});

describe("benchmark evaluation: AUC floor and published intervals", () => {
  const point = (auc: number, l1: number, heur: number, fallback = heur) => ({ world: "w/s1", model: "ml", auc, lowerBound: auc - 0.08, l1, bestHeuristic: heur, worse: l1 > heur, fallback, worseThanFallback: l1 > fallback });

  it("prints the refusal rule's confusion table, old floor and lower bound, from the job's test window", () => {
    // Three worlds (figures of decay/s1, cross_device/s3, selection_bias/s1 of the benchmark), one ML model each:
    //  A: AUC 0.573 on 50 of 923 journeys → lower bound 0.4883; ML L1 0.9 vs best heuristic 0.7: worse.
    //  B: AUC 0.632 on 57 of 880 → bound 0.5522; ML 0.5 vs 0.7: better.  C: AUC 0.81 on 59 of 396 → bound 0.7409; 0.95 vs 0.85: worse.
    // AUC < 0.70 refuses A (worse) and B (better), publishes C (worse); bound < 0.5 refuses A only, publishes B (better) and C (worse).
    const world = (seed: number, auc: number, n: number, pos: number, ml: number, heur: number) => ({
      world: { family: "f", seed }, shape: null, recommended: null, bootstrapL1: {},
      truth: { channels: ["a", "b"], incremental: { a: 0.5, b: 0.5 }, shapley: { a: 0.5, b: 0.5 } },
      mlMetrics: { auc, n_test: n, base_rate: pos / n },
      mlFamilies: [{ family: "xgboost", method: "shapley", model: "ml_shapley", metrics: { auc } }],
      models: [["ml_shapley", ml], ["linear", heur], ["last_touch", heur + 0.1]].map(([model, l1]) => ({ model, shares: {}, l1Shapley: l1, l1Incremental: l1, spearman: null, spearmanIncremental: null, coverageShapley: null, coverageIncremental: null })),
    });
    const text = formatEvaluation([world(1, 0.573, 923, 50, 0.9, 0.7), world(2, 0.632, 880, 57, 0.5, 0.7), world(3, 0.81, 396, 59, 0.95, 0.85)] as never, 0.7, 0.5);
    assert.match(text, /AUC < 0\.70 \(the old floor\)\s+1\s+1\s+1\s+0/);
    assert.match(text, /AUC's lower 95 % bound < 0\.50 \(vars\.ml_min_auc\)\s+1\s+0\s+1\s+1/);
    assert.match(text, /0\.57 \(0\.49\) ✗ {2}0\.63 \(0\.55\) ✓ {2}0\.81 \(0\.74\) ✗/);
  });

  it("counts a rule's refused and published models by whether their credit is worse", () => {
    const pts = [point(0.6, 0.9, 0.7), point(0.65, 0.5, 0.7), point(0.72, 0.8, 0.7, 0.85), point(0.8, 0.4, 0.7)];
    assert.deepEqual(refusalTable(pts, (p) => p.auc < 0.7), { refusedWorse: 1, refusedBetter: 1, publishedWorse: 1, publishedBetter: 1 });
    assert.deepEqual(refusalTable(pts, (p) => p.auc < 0.7, (p) => p.worseThanFallback), { refusedWorse: 1, refusedBetter: 1, publishedWorse: 0, publishedBetter: 2 });
  });

  it("finds the highest floor that refuses only models whose credit is worse than the best heuristic's", () => {
    // AUC 0.6 worse, 0.65 better, 0.72 worse, 0.8 better: any floor above 0.65 refuses a better model.
    const pts = [point(0.6, 0.9, 0.7), point(0.65, 0.5, 0.7), point(0.72, 0.8, 0.7), point(0.8, 0.4, 0.7)];
    const c = calibrateAucFloor(pts);
    assert.equal(c.floor, 0.65);
    assert.deepEqual(c.refusedAt(0.7), { refused: 2, refusedButBetter: 1, published: 2, publishedButWorse: 1 });
    assert.equal(calibrateAucFloor([point(0.7, 0.9, 0.5)]).floor, null);
  });

  it("picks the floor that leaves the reader closest to the truth (ML when published, the fallback when refused)", () => {
    // Mean of (auc ≥ floor ? l1 : fallback 0.7): floor 0 or 0.6: (0.9 + 0.5 + 0.8 + 0.4) / 4 = 0.65;
    // 0.65: (0.7 + 0.5 + 0.8 + 0.4) / 4 = 0.6; 0.7 or 0.72: (0.7 + 0.7 + 0.8 + 0.4) / 4 = 0.65; 0.8: (0.7 · 3 + 0.4) / 4 = 0.625.
    const pts = [point(0.6, 0.9, 0.7), point(0.65, 0.5, 0.7), point(0.72, 0.8, 0.7), point(0.8, 0.4, 0.7)];
    const best = bestAucFloor(pts, [0.7])[0]!;
    assert.equal(best.floor, 0.65);
    assert.ok(Math.abs(best.meanL1 - 0.6) < 1e-12);
  });

  it("calibrates each world's published interval on the other worlds only and counts the channels it covers", () => {
    // Three worlds, channels a and b, truth 0.5 each; shares 0.5 ± r (r = 0.1, 0.2, 0.3). Model "m" has bootstrap
    // intervals of half-width h (0.1, 0.05, 0.25; clipped to [0, 1]), model "n" none. CQR scores of m, r − h:
    // w1 0, w2 0.15, w3 0.05 (w3 a: max(0.55 − 0.5, 0.5 − 1) = 0.05); n's scores are r: 0.1, 0.2, 0.3.
    const world = (seed: number, r: number, h: number) => ({
      world: { family: "f", seed }, shape: { channels: 2, journeys: 100, conversions: 10, meanPathLength: 2, conversionRate: 0.1 }, recommended: null, bootstrapL1: {}, mlFamilies: [],
      truth: { channels: ["a", "b"], incremental: { a: 0.5, b: 0.5 }, shapley: { a: 0.5, b: 0.5 } },
      models: [
        { model: "m", shares: { a: 0.5 + r, b: 0.5 - r }, bootstrapIntervals: { a: { lo: 0.5 + r - h, hi: Math.min(1, 0.5 + r + h) }, b: { lo: Math.max(0, 0.5 - r - h), hi: 0.5 - r + h } } },
        { model: "n", shares: { a: 0.5 + r, b: 0.5 - r }, bootstrapIntervals: null },
      ].map((m) => ({ ...m, l1Shapley: 2 * r, l1Incremental: 2 * r, spearman: null, spearmanIncremental: null, coverageShapley: null, coverageIncremental: null })),
    });
    const checks = publishedIntervals([world(1, 0.1, 0.1), world(2, 0.2, 0.05), world(3, 0.3, 0.25)] as never, 5);
    const show = checks.map((c) => [c.world, c.model, c.bootstrapped, c.inside, Number(c.width.toFixed(9))]);
    // m, left-out w1: scores {0.15, 0.15, 0.05, 0.05}, ⌈5 · 0.9⌉ = 5 > 4 → the largest, 0.15: a [0.5 − 0.15, 0.7 + 0.15], b [0.3 − 0.15, 0.5 + 0.15]: both in, width 0.5.
    //    w2: q = 0.05 (of 0, 0, 0.05, 0.05): a [0.6, 0.8], b [0.2, 0.4]: both out, width 0.2.
    //    w3: q = 0.15: a [0.4, 1] (clipped), b [0, 0.6]: both in, width 0.6.
    // n (share ± q of |share − truth|): w1 q = 0.3: [0.3, 0.9], [0.1, 0.7] in; w2 q = 0.3: [0.4, 1], [0, 0.6] in; w3 q = 0.2: [0.6, 1], [0, 0.4] out.
    assert.deepEqual(show, [
      ["f/s1", "m", true, 2, 0.5], ["f/s1", "n", false, 2, 0.6],
      ["f/s2", "m", true, 0, 0.2], ["f/s2", "n", false, 2, 0.6],
      ["f/s3", "m", true, 2, 0.6], ["f/s3", "n", false, 0, 0.4],
    ]);
    // m: 4 of 6 channels, lowest world 0, mean width (0.5 + 0.2 + 0.6) / 3.
    const s = intervalSummary(checks.filter((c) => c.model === "m"));
    assert.deepEqual([s.channels, s.coverage, s.minWorld, Number(s.width.toFixed(9))], [6, 4 / 6, 0, Number((1.3 / 3).toFixed(9))]);
  });
});

describe("published credit interval (conformalised bootstrap)", () => {
  it("scores how far the truth lies outside an interval: positive outside, negative inside, |share − truth| for a point", () => {
    assert.ok(Math.abs(outsideScore(0.5, { lo: 0.55, hi: 1 }) - 0.05) < 1e-12);
    assert.ok(Math.abs(outsideScore(0.3, { lo: 0.2, hi: 0.5 }) - -0.1) < 1e-12);
    assert.ok(Math.abs(outsideScore(0.5, { lo: 0.6, hi: 0.6 }) - 0.1) < 1e-12);
    assert.ok(Math.abs(outsideScore(0.7, { lo: 0.6, hi: 0.6 }) - 0.1) < 1e-12);
  });

  it("takes the ⌈(n + 1) · 0.9⌉-th smallest score, the largest when n is too small", () => {
    const s = (n: number): number[] => Array.from({ length: n }, (_, i) => (n - i) / 100); // n/100 … 1/100, unsorted
    assert.equal(conformalQuantile(s(19), 0.9), 0.18); // ⌈20 · 0.9⌉ = 18
    assert.equal(conformalQuantile(s(9), 0.9), 0.09); // ⌈10 · 0.9⌉ = 9 = n
    assert.equal(conformalQuantile(s(3), 0.9), 0.03); // ⌈4 · 0.9⌉ = 4 > 3 → the largest
    assert.equal(conformalQuantile(s(10), 0.5), 0.06); // ⌈11 · 0.5⌉ = 6
    assert.equal(conformalQuantile([], 0.9), null);
  });

  it("widens the bootstrap interval by q on both sides, inside [0, 1], never past the share when q is negative", () => {
    const close = (iv: { lo: number; hi: number }, lo: number, hi: number): boolean => Math.abs(iv.lo - lo) < 1e-12 && Math.abs(iv.hi - hi) < 1e-12;
    assert.ok(close(widenedInterval(0.3, { lo: 0.25, hi: 0.36 }, 0.1), 0.15, 0.46));
    assert.ok(close(widenedInterval(0.05, { lo: 0.02, hi: 0.9 }, 0.2), 0, 1));
    assert.ok(close(widenedInterval(0.3, { lo: 0.2, hi: 0.4 }, -0.05), 0.25, 0.35));
    assert.ok(close(widenedInterval(0.3, { lo: 0.2, hi: 0.45 }, -0.12), 0.3, 0.33));
    assert.ok(close(widenedInterval(0.3, { lo: 0.3, hi: 0.3 }, 0.07), 0.23, 0.37)); // no bootstrap: share ± q
  });

  it("calibrates the margin on the k most similar worlds, per channel count: bootstrap scores when bootstrapped, else the errors", () => {
    // Shapes at distance |Δ log channels| from 5 channels: w5 0, w6 log 1.2, w10 log 2, w20 log 4. Scores are taken
    // × the world's channels and the quantile ÷ the data's 5.
    const ref = (channels: number, residuals: number[], outside?: number[]): ReferenceWorld => ({
      world: `w${channels}`, shape: { channels, meanPathLength: 2, conversionRate: 0.1 }, l1: { m: 0.5 },
      residuals: { m: residuals }, ...(outside ? { outside: { m: outside } } : {}),
    });
    const reference = [ref(20, [0.9, 0.9], [0.8, 0.8]), ref(5, [0.1, 0.3], [0.0, 0.2]), ref(10, [0.05, 0.06], [0.04, 0.05]), ref(6, [0.2, 0.4], [-0.1, 0.1])];
    const data = { channels: 5, journeys: 1000, conversions: 100, meanPathLength: 2, conversionRate: 0.1 };
    const close = (a: number | null, b: number): boolean => a !== null && Math.abs(a - b) < 1e-12;
    // k = 2 (w5, w6): errors × channels {0.5, 1.5, 1.2, 2.4}, ⌈5 · 0.9⌉ = 5 > 4 → the largest, 2.4 ÷ 5 = 0.48;
    // bootstrap scores × channels {0, 1, −0.6, 0.6} → 1 ÷ 5 = 0.2.
    assert.ok(close(calibratedMargin(data, "m", reference, false, 2), 0.48));
    assert.ok(close(calibratedMargin(data, "m", reference, true, 2), 0.2));
    // Level 0.5: k = 3 adds w10's {0.5, 0.6}: sorted {0.5, 0.5, 0.6, 1.2, 1.5, 2.4}, rank ⌈7 · 0.5⌉ = 4 → 1.2 ÷ 5 = 0.24;
    // k = 4 adds w20's {18, 18}: rank ⌈9 · 0.5⌉ = 5 → 1.5 ÷ 5 = 0.3.
    assert.ok(close(calibratedMargin(data, "m", reference, false, 3, 0.5), 0.24));
    assert.ok(close(calibratedMargin(data, "m", reference, false, 4, 0.5), 0.3));
    // The same 8 scores (k = 4 takes every world) for data of 10 channels: 1.5 ÷ 10.
    assert.ok(close(calibratedMargin({ ...data, channels: 10 }, "m", reference, false, 4, 0.5), 0.15));
    // A bootstrapped model the reference did not bootstrap falls back to its errors; an unknown model has none.
    const noOutside = reference.map((w) => ({ ...w, outside: undefined }));
    assert.ok(close(calibratedMargin(data, "m", noOutside, true, 2), 0.48));
    assert.equal(calibratedMargin(data, "x", reference, true, 2), null);
  });
});
