import assert from "node:assert/strict";
import {
  attentionWeights, fitSequenceModel, initSequenceModel, loadSequenceModel, predictSequences, sequenceData,
  sequenceLossAndGradient, sequenceModelToJSON, type SequenceData, type SequenceModelKind,
} from "../src/models/sequence-models.ts";
import { fitLogisticRegression, predictLogistic } from "../src/models/logistic-regression.ts";
import { rocAuc } from "../src/models/metrics.ts";
import { ModelInputError, mulberry32 } from "../src/models/numeric.ts";

/** Scores of each sequence as two weighted rows (converting, not), for a weighted AUC. */
function auc(p: ArrayLike<number>, data: SequenceData): number {
  const scores: number[] = [];
  const labels: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < data.count; i++) {
    scores.push(p[i]!, p[i]!);
    labels.push(1, 0);
    weights.push(data.positives[i]!, data.negatives[i]!);
  }
  return rocAuc(scores, labels, weights);
}

/**
 * Every sequence of 1–4 touches over channels A = 0, B = 1, C = 2 (120), 100 journeys each: 90 % convert when
 * A comes before B (the first A earlier than the first B), 10 % otherwise. The bag of channels (counts and
 * presence) cannot tell "A … B" from "B … A", so no model on it separates them.
 */
function orderRule(): { data: SequenceData; rule: boolean[]; bags: Float64Array } {
  const seqs: Array<{ touches: Array<[number, number]>; positives: number; negatives: number }> = [];
  const rule: boolean[] = [];
  const bags: number[] = [];
  const walk = (prefix: number[]): void => {
    if (prefix.length > 0) {
      const a = prefix.indexOf(0);
      const b = prefix.indexOf(1);
      const yes = a >= 0 && b >= 0 && a < b;
      rule.push(yes);
      seqs.push({ touches: prefix.map((c, t) => [c, (prefix.length - 1 - t) % 2]), positives: yes ? 90 : 10, negatives: yes ? 10 : 90 });
      for (let c = 0; c < 3; c++) bags.push(prefix.filter((x) => x === c).length);
      for (let c = 0; c < 3; c++) bags.push(prefix.includes(c) ? 1 : 0);
    }
    if (prefix.length < 4) for (let c = 0; c < 3; c++) walk([...prefix, c]);
  };
  walk([]);
  return { data: sequenceData(seqs), rule, bags: Float64Array.from(bags) };
}

describe("models/sequence-models", () => {
  for (const kind of ["lstm", "attention"] as const) {
    it(`${kind}: the analytic gradient equals central differences on a weighted random case`, () => {
      const rand = mulberry32(11);
      const data = sequenceData(Array.from({ length: 7 }, (_, i) => ({
        touches: Array.from({ length: 1 + (i % 4) }, () => [Math.floor(rand() * 3), Math.floor(rand() * 2)] as [number, number]),
        positives: Math.floor(rand() * 5), negatives: 1 + Math.floor(rand() * 5),
        // Two covariate slots (e.g. user type, device) over 4 one-hot columns; −1: a value without a column.
        covariates: [i % 2, i % 3 === 0 ? -1 : 2 + (i % 2)],
      })));
      const m = initSequenceModel({ kind, channels: 3, gapBuckets: 2, maxLength: 4, hidden: 3, covariates: 4 }, 5);
      // Larger weights than the init so that the gates saturate differently per touch.
      for (let j = 0; j < m.params.length; j++) m.params[j] = m.params[j]! * 2.5;
      const { gradient } = sequenceLossAndGradient(m, data, undefined, 0.01);
      const h = 1e-5;
      let worst = 0;
      for (let j = 0; j < m.params.length; j++) {
        const keep = m.params[j]!;
        m.params[j] = keep + h;
        const up = sequenceLossAndGradient(m, data, undefined, 0.01).loss;
        m.params[j] = keep - h;
        const down = sequenceLossAndGradient(m, data, undefined, 0.01).loss;
        m.params[j] = keep;
        const numeric = (up - down) / (2 * h);
        worst = Math.max(worst, Math.abs(numeric - gradient[j]!) / Math.max(1e-6, Math.abs(numeric) + Math.abs(gradient[j]!)));
      }
      assert.ok(worst < 1e-6, `largest relative difference ${worst} over ${m.params.length} parameters`);
    });
  }

  for (const kind of ["lstm", "attention"] as const) {
    it(`${kind}: learns a user covariate's effect that no touch carries (and cannot without the covariate)`, () => {
      // The same touches for everyone; returning users (covariate column 1) convert at 40 %, new ones (column 0) at 5 %.
      const seqs = [[0], [1], [0, 1], [1, 0], [2, 0]].flatMap((touches) => [0, 1].map((c) => ({
        touches: touches.map((ch) => [ch, 0] as [number, number]), covariates: [c], positives: c ? 40 : 5, negatives: c ? 60 : 95,
      })));
      const data = sequenceData(seqs);
      const fit = fitSequenceModel(data, data, { kind, hidden: 4, learningRate: 0.05, batchSize: 4, maxEpochs: 200, patience: 10, seed: 3, channels: 3, gapBuckets: 1, covariates: 2 });
      const p = predictSequences(fit.model, data);
      for (let i = 0; i < seqs.length; i += 2) {
        assert.ok(Math.abs(p[i]! - 0.05) < 0.02 && Math.abs(p[i + 1]! - 0.4) < 0.03, `sequence ${i / 2}: new ${p[i]}, returning ${p[i + 1]}`);
      }
      // Without the covariate column the model sees no difference between the users: one rate for both.
      const blind = fitSequenceModel(sequenceData(seqs.map((x) => ({ ...x, covariates: [-1] }))), sequenceData(seqs.map((x) => ({ ...x, covariates: [-1] }))),
        { kind, hidden: 4, learningRate: 0.05, batchSize: 4, maxEpochs: 200, patience: 10, seed: 3, channels: 3, gapBuckets: 1, covariates: 2 });
      const q = predictSequences(blind.model, sequenceData(seqs.map((x) => ({ ...x, covariates: [-1] }))));
      assert.ok(Math.abs(q[0]! - q[1]!) < 1e-12, "same touches, no covariate: same prediction");
      const back = loadSequenceModel(JSON.parse(JSON.stringify(sequenceModelToJSON(fit.model))));
      assert.deepEqual([...predictSequences(back, data)], [...p]);
      assert.throws(() => predictSequences(initSequenceModel({ kind, channels: 3, gapBuckets: 1, maxLength: 2, hidden: 2, covariates: 1 }, 1), data), /covariate column 1 is outside the model's 1 covariate columns/);
    });
  }

  it("a bag-of-channels logistic regression cannot learn 'A before B' (AUC well below the sequence models')", () => {
    const { data, bags } = orderRule();
    // Two weighted rows per sequence: its bag with label 1 (weight positives) and 0 (weight negatives).
    const X = new Float64Array(data.count * 2 * 6);
    const y = new Float64Array(data.count * 2);
    const w = new Float64Array(data.count * 2);
    for (let i = 0; i < data.count; i++) {
      for (const k of [0, 1]) {
        X.set(bags.subarray(i * 6, i * 6 + 6), (2 * i + k) * 6);
        y[2 * i + k] = 1 - k;
        w[2 * i + k] = k === 0 ? data.positives[i]! : data.negatives[i]!;
      }
    }
    const fit = fitLogisticRegression(X, y, w, { columns: 6, l2: 0.01 });
    const p = predictLogistic(fit, X).filter((_, r) => r % 2 === 0);
    const a = auc(p, data);
    // The rule itself as the score gives the best AUC any model can reach (0.8636: 32 of the 120 sequences follow it);
    // the bag sees "both A and B", not their order.
    const ceiling = auc(orderRule().rule.map((r) => (r ? 1 : 0)), data);
    assert.ok(Math.abs(ceiling - 0.8635612476761) < 1e-9, `ceiling ${ceiling}`);
    assert.ok(a < ceiling - 0.05, `bag-of-channels AUC ${a}, ceiling ${ceiling}`);
  });

  for (const kind of ["lstm", "attention"] as Array<SequenceModelKind>) {
    it(`${kind} learns the order-dependent rule 'converts iff A comes before B' (AUC = the rule's own, 0.8636)`, () => {
      const { data, rule } = orderRule();
      const ceiling = auc(rule.map((r) => (r ? 1 : 0)), data);
      const fit = fitSequenceModel(data, data, { kind, hidden: 8, learningRate: 0.03, batchSize: 16, maxEpochs: 150, patience: 15, seed: 3, channels: 3, gapBuckets: 2 });
      const p = predictSequences(fit.model, data);
      const a = auc(p, data);
      assert.ok(a > ceiling - 1e-9, `${kind} AUC ${a} after ${fit.epochs} epochs, the rule's ${ceiling}`);
      // And the probabilities follow the rule: every "A before B" sequence above every other one.
      const yes = p.filter((_, i) => rule[i]);
      const no = p.filter((_, i) => !rule[i]);
      assert.ok(Math.min(...yes) > Math.max(...no), `min p(rule) ${Math.min(...yes)} vs max p(no rule) ${Math.max(...no)}`);
    });
  }

  it("stops early: keeps the epoch with the lowest validation loss and stops patience epochs after it", () => {
    const { data } = orderRule();
    // Validation = the rule reversed: the better the fit on train, the worse on validation.
    const reversed = { ...data, positives: data.negatives, negatives: data.positives };
    const fit = fitSequenceModel(data, reversed, { kind: "lstm", hidden: 4, learningRate: 0.05, batchSize: 32, maxEpochs: 50, patience: 3, seed: 1, channels: 3, gapBuckets: 2 });
    assert.equal(fit.epochs, fit.bestEpoch + 3, `epochs ${fit.epochs}, best ${fit.bestEpoch}`);
    const bestLoss = Math.min(...fit.validationLoss);
    assert.equal(fit.validationLoss[fit.bestEpoch - 1], bestLoss);
    const now = sequenceLossAndGradient(fit.model, reversed).loss;
    assert.ok(Math.abs(now - bestLoss) < 1e-12, `kept parameters give ${now}, best epoch ${bestLoss}`);
  });

  it("attention weights of a sequence add up to 1; JSON round trip predicts the same", () => {
    const { data } = orderRule();
    const m = initSequenceModel({ kind: "attention", channels: 3, gapBuckets: 2, maxLength: 4, hidden: 4 }, 2);
    const alpha = attentionWeights(m, data, data.count - 1);
    assert.equal(alpha.length, data.lengths[data.count - 1]);
    assert.ok(Math.abs(alpha.reduce((s, x) => s + x, 0) - 1) < 1e-12);
    const again = loadSequenceModel(JSON.parse(JSON.stringify(sequenceModelToJSON(m))));
    assert.deepEqual([...predictSequences(again, data)], [...predictSequences(m, data)]);
  });

  it("refuses a touch outside the vocabulary, naming the sequence", () => {
    const m = initSequenceModel({ kind: "lstm", channels: 2, gapBuckets: 2, maxLength: 3, hidden: 2 }, 1);
    const data = sequenceData([{ touches: [[0, 0]], positives: 1, negatives: 1 }, { touches: [[0, 0], [5, 1]], positives: 0, negatives: 2 }]);
    assert.throws(() => predictSequences(m, data), (e: unknown) => e instanceof ModelInputError && /sequence 2: channel index 5/.test(e.message));
  });
});
