import assert from "node:assert/strict";
import { mulberry32 } from "../src/models/numeric.ts";
import { fitXgboostOn, prepareData, type ConversionModel, type PreparedData } from "../src/ml-attribution/pipeline.ts";
import { fitLogisticFamily, fitStackedEnsemble, type PredictiveFamilyFit } from "../src/ml-attribution/families.ts";
import { featureBase, fitSequenceStack, sequenceBase, sequenceStackCredit, trainConversionRate, type StackBase } from "../src/ml-attribution/ensemble.ts";
import { fitSequenceFamily, sequencePredictions, type SequenceFamilyFit } from "../src/ml-attribution/sequences.ts";
import { sequenceRowsOf, toFeatureRows, type GeneratedJourney } from "./fixtures/ml/journeys.ts";

const DAY_MS = 86_400_000;

/**
 * An order-dependent world: every journey has two A and two B touches (one of the 6 orders, uniformly), half of
 * them after a C touch, all within the last hour before the journey end (one gap bucket: time tells nothing).
 * P(convert) = 0.9 when A and B alternate (ABAB, BABA: 3 switches), else 0.1. The feature vector cannot tell
 * AABB from ABAB, nor BBAA from BABA (same counts, first/last channel, first/last ranks, buckets), so a feature
 * model predicts ≈ 0.5 for those four orders: held-out log loss ≈ (4·ln 2 + 2·H(0.1)) / 6 ≈ 0.57 nats, against
 * H(0.1) ≈ 0.33 for a model that sees the order.
 */
function orderWorld(journeys: number, seed: number): GeneratedJourney[] {
  const rand = mulberry32(seed);
  const orders = ["AABB", "ABAB", "ABBA", "BAAB", "BABA", "BBAA"];
  const start = Date.UTC(2024, 2, 1);
  const out: GeneratedJourney[] = [];
  for (let i = 0; i < journeys; i++) {
    const order = orders[Math.floor(rand() * orders.length)]!;
    const channels = [...(rand() < 0.5 ? ["C"] : []), ...order];
    const end = start + Math.floor(rand() * 28) * DAY_MS + 12 * 3_600_000;
    const converted = rand() < (order === "ABAB" || order === "BABA" ? 0.9 : 0.1);
    const key = `j${i}`;
    out.push({
      journeyKey: key, converted, value: converted ? 100 : 0, journeyEndAt: new Date(end),
      touches: channels.map((channel, k) => ({ sessionKey: `${key}-${k}`, channel, touchAt: new Date(end - (channels.length - k) * 600_000), position: k + 1 })),
      userType: "new", device: rand() < 0.5 ? "mobile" : "desktop", region: "North",
    });
  }
  return out;
}

describe("stacked ensemble with sequence families (shared journey key)", function () {
  this.timeout(300_000);
  const journeys = orderWorld(8_000, 7);
  const features = toFeatureRows(journeys);
  const sequences = sequenceRowsOf(journeys, 12);
  let data: PreparedData;
  let xgb: ConversionModel;
  let lr: PredictiveFamilyFit;
  let lstm: SequenceFamilyFit;
  let bases: { xgb: StackBase; lr: StackBase; lstm: StackBase };

  before(async () => {
    data = prepareData(features, [0.6, 0.2, 0.2], 0);
    xgb = await fitXgboostOn(data, { split: [0.6, 0.2, 0.2], maxRounds: 60, maxDepth: 4, learningRate: 0.3, earlyStoppingRounds: 10, seed: 1 });
    lr = fitLogisticFamily(data);
    // The validation loss is flat for many epochs before the order rule is found: no early stop before 120 epochs (the best is near 60).
    lstm = fitSequenceFamily(sequences, data, "lstm", { hidden: 8, maxEpochs: 120, patience: 120, seed: 1, learningRate: 0.02 });
    bases = {
      xgb: featureBase("xgboost", data.encoding, (X) => xgb.model.predict(X)),
      lr: featureBase("logistic_regression", data.encoding, lr.predict),
      lstm: sequenceBase(lstm, trainConversionRate(sequences, data)),
    };
  });

  it("beats the ensemble without the sequence base on held-out log loss when the outcome depends on touch order", () => {
    const withSequences = fitSequenceStack(sequences, data, [bases.xgb, bases.lr, bases.lstm]);
    const without = fitSequenceStack(sequences, data, [bases.xgb, bases.lr]);
    // Hand computation in orderWorld's comment: ≈ 0.33 vs ≈ 0.57 nats.
    assert.ok(without.test.logLoss > 0.5, `feature-only ensemble log loss ${without.test.logLoss}`);
    assert.ok(withSequences.test.logLoss < without.test.logLoss - 0.15, `with lstm ${withSequences.test.logLoss} vs without ${without.test.logLoss}`);
    assert.ok(withSequences.test.auc > without.test.auc + 0.05, `AUC with ${withSequences.test.auc} vs without ${without.test.auc}`);
    assert.ok(withSequences.details["meta_weight:lstm"]! > 0.5, JSON.stringify(withSequences.details));
  });

  it("on the shared key, the feature-only stack equals the stacked_ensemble fitted on ml_journey_features rows", () => {
    // Every sequence row carries its feature vector, so the same journeys reach the same bases in both stacks.
    const onSequenceRows = fitSequenceStack(sequences, data, [bases.xgb, bases.lr]);
    const onFeatureRows = fitStackedEnsemble(data, [{ name: "xgboost", predict: (X) => xgb.model.predict(X) }, { name: "logistic_regression", predict: lr.predict }]);
    assert.ok(Math.abs(onSequenceRows.test.logLoss - onFeatureRows.test.logLoss) < 1e-6, `${onSequenceRows.test.logLoss} vs ${onFeatureRows.test.logLoss}`);
    assert.ok(Math.abs(onSequenceRows.meta.intercept - Number(onFeatureRows.details.meta_intercept)) < 1e-4);
    assert.throws(() => fitSequenceStack(sequences, data, [bases.lr]), /at least two base families/);
  });

  it("credits by removal, Shapley and counterfactual removal, the sequence base reading the counterfactual sequence", () => {
    const stack = fitSequenceStack(sequences, data, [bases.xgb, bases.lr, bases.lstm]);
    const credit = sequenceStackCredit(sequences, stack, { shapleyMaxExactChannels: 8, shapleyPermutations: 50, seed: 1 });
    assert.deepEqual(credit.map((c) => c.method), ["removal_effect", "shapley", "counterfactual_removal"]);
    const conversions = journeys.filter((j) => j.converted).length;
    for (const c of credit) {
      assert.equal(c.family, "stacked_ensemble_sequences");
      const total = c.totals.reduce((a, t) => a + t.conversions, 0);
      assert.ok(Math.abs(total - conversions) < 1e-6, `${c.method}: ${total} of ${conversions}`);
      // A and B carry the conversions; C (half the journeys, no effect) gets less than either.
      const share = (ch: string): number => c.totals.find((t) => t.channel === ch)?.share ?? 0;
      assert.ok(share("C") < share("A") && share("C") < share("B"), `${c.method}: ${JSON.stringify(c.totals)}`);
    }
    // Removing B from C·ABAB leaves the sequence C·AA for the lstm base: its prediction, not the full journey's.
    const abab = sequences.find((r) => r.touches.map((t) => t.channel).join("") === "CABAB")!;
    const keepAllButB = Uint8Array.from(abab.features.channels.map((c) => (c.channel === "B" ? 0 : 1)));
    const cov = lstm.covariates.of(abab);
    const idx = (ch: string): number => lstm.channels.indexOf(ch);
    const [expected] = sequencePredictions(lstm.model, [{ touches: [[idx("C"), 0], [idx("A"), 0], [idx("A"), 0]], covariates: cov }]);
    const [full] = sequencePredictions(lstm.model, [{ touches: abab.touches.map((t) => [idx(t.channel), t.gap] as const), covariates: cov }]);
    const [got] = bases.lstm.predict([{ row: abab, mask: keepAllButB }]);
    assert.equal(got, expected);
    assert.notEqual(got, full);
  });

  it("gives a sequence base its train conversion rate when the kept channels are only in touches older than the sequence keeps", () => {
    // Cut at 4 touches: C·ABAB keeps ABAB, so C is in the feature vector but in no kept touch.
    const cut = sequenceRowsOf(journeys, 4);
    const row = cut.find((r) => r.touches.map((t) => t.channel).join("") === "ABAB" && r.features.channels.length === 3)!;
    assert.ok(row, "a C·ABAB journey");
    const onlyC = Uint8Array.from(row.features.channels.map((c) => (c.channel === "C" ? 1 : 0)));
    const prior = trainConversionRate(cut, data);
    const base = sequenceBase(lstm, prior);
    const [p, whole] = base.predict([{ row, mask: onlyC }, { row, mask: null }]);
    assert.equal(p, prior);
    assert.ok(prior > 0.2 && prior < 0.5, `train rate ${prior}`);
    assert.notEqual(whole, prior);
  });
});
