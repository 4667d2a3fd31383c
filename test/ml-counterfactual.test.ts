import assert from "node:assert/strict";
import { featureKey, parseChannelStats, buildEncoding, encodeJourney, type FeatureEncoding, type FeatureRow } from "../src/ml-attribution/features.ts";
import { counterfactualCredit, counterfactualRemoval, creditByIncrement, removalUnits } from "../src/ml-attribution/families.ts";
import { removalDifferencesBy, removalEffectSharesBy, type Predict } from "../src/ml-attribution/credit.ts";
import { weightedSet } from "../src/ml-attribution/split.ts";
import { fitLogisticRegression, predictLogistic } from "../src/models/logistic-regression.ts";

function row(stats: string, conversions: number, nonConversions: number, userType: string): FeatureRow {
  const base = { channels: parseChannelStats(stats, "test"), userType, device: "desktop", region: "North", engagement: "(not set)" };
  return { ...base, date: "2024-03-01", conversions, nonConversions, value: conversions * 10, key: featureKey(base) };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
/** logit P(convert) = −2 + 1.5·[returning] + 1.0·[Display]: Retarget has no effect. */
const rate = (returning: number, display: number): number => sigmoid(-2 + 1.5 * returning + 1.0 * display);

/**
 * A confounded toy computed by hand (expected counts, no sampling): 4,000 new and 4,000 returning users,
 * every journey has an Organic touch; Retarget reaches 90 % of returning users and 10 % of new ones and does
 * nothing; Display reaches half of everyone and adds 1.0 to the log-odds.
 * True incremental conversions: Retarget 0; Display Σ over Display journeys of rate(u, 1) − rate(u, 0)
 *   = 2,000·(σ(−1) − σ(−2)) + 2,000·(σ(0.5) − σ(−0.5)) = 2,000·0.14974 + 2,000·0.24492 = 789.3.
 * Naively, Retarget journeys convert at (0.9·r_ret + 0.1·r_new) vs (0.1·r_ret + 0.9·r_new): a large gap.
 */
function confoundedToy(): FeatureRow[] {
  const rows: FeatureRow[] = [];
  const stat = (c: string, first: number, last: number): string => `${c}=1,${first},${last},1,1`;
  for (const userType of ["new", "returning"]) {
    const pR = userType === "returning" ? 0.9 : 0.1;
    for (const r of [0, 1]) {
      for (const d of [0, 1]) {
        const n = 4000 * (r ? pR : 1 - pR) * 0.5;
        const p = rate(userType === "returning" ? 1 : 0, d);
        const chans = [stat("Organic", 1, 1 + r + d)];
        if (r) chans.push(stat("Retarget", 2, 1 + d));
        if (d) chans.push(stat("Display", 2 + r, 1));
        rows.push(row(chans.join(" > "), n * p, n * (1 - p), userType));
      }
    }
  }
  return rows;
}

/** An L2 (λ = 0.01) logistic conversion model on the encoded rows (missing → 0), as a Predict. */
function fitModel(enc: FeatureEncoding, rows: readonly FeatureRow[]): Predict {
  const set = weightedSet(enc, rows);
  const F = enc.featureNames.length;
  const clean = (X: Float32Array): Float64Array => Float64Array.from(X, (v) => (v === v ? v : 0));
  const fit = fitLogisticRegression(clean(set.X), set.y, set.weights, { columns: F, l2: 0.01 });
  return (X) => predictLogistic(fit, clean(X));
}

const TRUE_DISPLAY = 2000 * (rate(0, 1) - rate(0, 0)) + 2000 * (rate(1, 1) - rate(1, 0));

describe("counterfactual removal with covariates held fixed", () => {
  it("recovers a known effect and gives a targeted channel with no effect none, when the model sees the user covariate", () => {
    const rows = confoundedToy();
    const enc = buildEncoding(rows);
    assert.deepEqual(enc.userTypes, ["new", "returning"]);
    const units = removalUnits(rows);
    const credit = counterfactualCredit(rows, enc, "logistic_regression", fitModel(enc, rows));
    const inc = new Map(counterfactualIncrements(rows, enc, fitModel(enc, rows)).map((e) => [e.channel, e.incremental]));
    assert.equal(units.length, 8);
    // 789.3 by hand (see confoundedToy).
    assert.ok(Math.abs(TRUE_DISPLAY - 789.3) < 0.1, `hand computation ${TRUE_DISPLAY}`);
    assert.ok(Math.abs(inc.get("Display")! - TRUE_DISPLAY) < 0.03 * TRUE_DISPLAY, `Display ${inc.get("Display")} vs true ${TRUE_DISPLAY}`);
    assert.ok(Math.abs(inc.get("Retarget")!) < 0.02 * TRUE_DISPLAY, `Retarget ${inc.get("Retarget")} should be ≈ 0`);
    const share = new Map(credit.totals.map((t) => [t.channel, t.share]));
    assert.ok((share.get("Retarget") ?? 0) < 0.02, `Retarget share ${share.get("Retarget")}`);
    const total = rows.reduce((s, r) => s + r.conversions, 0);
    assert.ok(Math.abs(credit.totals.reduce((s, t) => s + t.conversions, 0) - total) < 1e-6 * total, "credit adds up to the conversions");
  });

  it("credits the targeted channel with a large effect when the model cannot see the covariate (the bias the adjustment removes)", () => {
    const rows = confoundedToy().map((r) => ({ ...r, userType: "(not set)", key: featureKey({ ...r, userType: "(not set)" }) }));
    const enc = buildEncoding(rows);
    assert.deepEqual(enc.userTypes, []);
    const inc = new Map(counterfactualIncrements(rows, enc, fitModel(enc, rows)).map((e) => [e.channel, e.incremental]));
    assert.ok(inc.get("Retarget")! > 0.5 * TRUE_DISPLAY, `Retarget ${inc.get("Retarget")} is biased upwards without the covariate`);
  });

  it("counts every journey, not only converting ones, and holds covariates fixed in the counterfactual", () => {
    // A hand model: P = 0.1 + 0.2·[has A] + 0.3·[returning]. Two units: (A, returning) × 10 journeys, 1 converting;
    // (A, B, new) × 5 journeys, none converting. Δ_A = 10·0.2 + 5·0.2 = 3 (the covariate term cancels only if held fixed);
    // Δ_B = 0 (B does nothing); a single-channel journey without A is empty: v(∅) = 0, so Δ_A for unit 1 = P(all) = 0.6.
    const rows = [row("A=1,1,1,1,1", 1, 9, "returning"), row("A=1,1,2,1,1 > B=1,2,1,0,0", 0, 5, "new")];
    const enc = buildEncoding(rows);
    const F = enc.featureNames.length;
    const hasA = enc.channelOffset[enc.channels.indexOf("A")]!;
    const ret = enc.userTypeOffset + enc.userTypes.indexOf("returning");
    const predict: Predict = (X) => Float64Array.from({ length: X.length / F }, (_, i) => 0.1 + 0.2 * X[i * F + hasA]! + 0.3 * X[i * F + ret]!);
    const inc = new Map(counterfactualIncrements(rows, enc, predict).map((e) => [e.channel, e.incremental]));
    // Unit 1: P(A, returning) = 0.6, removing A empties the journey → 0.6 each × 10 = 6. Unit 2: 0.3 − 0.1 = 0.2 each × 5 = 1.
    assert.ok(Math.abs(inc.get("A")! - 7) < 1e-9, `A ${inc.get("A")}`);
    assert.ok(Math.abs(inc.get("B")!) < 1e-9, `B ${inc.get("B")}`);
    const X = new Float32Array(F);
    encodeJourney(enc, rows[0]!, X, 0, [0]);
    assert.equal(X[ret], 1, "the user covariate stays in a journey with its channels removed");
  });

  it("removal differences are the unnormalised removal effects", () => {
    const values = (batch: ReadonlyArray<{ index: number; mask: Uint8Array }>): Float64Array =>
      Float64Array.from(batch, (b) => 0.1 * b.mask[0]! + 0.3 * (b.mask[1] ?? 0));
    const d = removalDifferencesBy([2], values);
    assert.deepEqual([...d[0]!].map((x) => Math.round(x * 1e9) / 1e9), [0.1, 0.3]);
    assert.deepEqual([...removalEffectSharesBy([2], values)[0]!].map((x) => Math.round(x * 1e9) / 1e9), [0.25, 0.75]);
  });

  it("splits conversions by positive increments only, equally when none is positive", () => {
    const rows = [row("A=1,1,1,1,1", 4, 0, "new")];
    const c = creditByIncrement("xgboost", "counterfactual_removal", [{ channel: "A", incremental: 3 }, { channel: "B", incremental: 1 }, { channel: "C", incremental: -2 }], rows);
    assert.deepEqual(c.totals.map((t) => [t.channel, t.conversions]), [["A", 3], ["B", 1]]);
    const eq = creditByIncrement("xgboost", "counterfactual_removal", [{ channel: "A", incremental: -1 }, { channel: "B", incremental: 0 }], rows);
    assert.deepEqual(eq.totals.map((t) => [t.channel, t.conversions]), [["A", 2], ["B", 2]]);
  });
});

function counterfactualIncrements(rows: readonly FeatureRow[], enc: FeatureEncoding, predict: Predict): Array<{ channel: string; incremental: number }> {
  const units = removalUnits(rows);
  const F = enc.featureNames.length;
  return counterfactualRemoval(units, (batch) => {
    const X = new Float32Array(batch.length * F);
    batch.forEach((b, r) => encodeJourney(enc, units[b.index]!, X, r * F, b.mask));
    return predict(X);
  });
}
