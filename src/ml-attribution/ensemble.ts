/**
 * The stacked ensemble over feature AND sequence families (family stacked_ensemble_sequences): XGBoost and the
 * logistic regression read a journey's feature vector, lstm and attention its ordered touches. The two aggregates
 * share a key — every ml_journey_sequences row carries its journeys' channel_stats (the ml_journey_features
 * vector) — so one sequence row is one unit every base can predict, and the meta-model (a logistic regression
 * over the bases' logits, as fitStackedEnsemble in families.ts) is fitted on the validation window's units, where
 * every base predicts out of sample (each was fitted on train; the sequence models stop early on validation too).
 * Credit by the same methods as every family: removal effect, Shapley and counterfactual removal, each coalition
 * evaluated by every base on its own counterfactual input — the feature vector re-derived from the kept channels
 * (encodeJourney) and the sequence with only the kept channels' touches, order and gaps unchanged.
 * Pure functions, no I/O.
 */
import { fitLogisticRegression, predictLogistic, type LogisticFit } from "../models/logistic-regression.ts";
import { ModelInputError, compareStrings } from "../models/numeric.ts";
import { removalEffectSharesBy, reusedMatrix, rollUpCredit, shapleySharesBy, type CoalitionValues, type CreditRow, type Predict } from "./credit.ts";
import { encodeJourney, type FeatureEncoding } from "./features.ts";
import { counterfactualRemoval, creditByIncrement, type FamilyCredit, type FamilyFitReport } from "./families.ts";
import { heldOutMetrics, type PreparedData } from "./pipeline.ts";
import { mergeBySequence, sequencePredictions, type SequenceFamilyFit, type SequenceRow } from "./sequences.ts";
import type { WeightedSet } from "./split.ts";

/** A unit of the stack with some channels switched off: `mask[k]` keeps `row.features.channels[k]` (null: all). */
export interface StackInput {
  row: SequenceRow;
  mask: Uint8Array | null;
}

/** A base family of the stack: its conversion probability for each (unit, kept channels). */
export interface StackBase {
  name: string;
  predict(inputs: readonly StackInput[]): Float64Array;
}

/** A feature family (XGBoost, logistic regression) as a base: the unit's feature vector, masked channels' columns re-derived. */
export function featureBase(name: string, enc: FeatureEncoding, predict: Predict): StackBase {
  const F = enc.featureNames.length;
  // One matrix for every batch of coalitions, as encodedCoalitionValues does (a new one per batch is garbage the size of the batch).
  const matrix = reusedMatrix(F);
  return {
    name,
    predict(inputs) {
      const X = matrix(inputs.length);
      inputs.forEach((u, r) => encodeJourney(enc, u.row.features, X, r * F, u.mask ?? undefined));
      return predict(X);
    },
  };
}

/**
 * A sequence family as a base: the unit's touches of the kept channels (order, gaps and user covariates as they
 * were). A sequence cut at vars.ml_sequence_max_touches may hold no touch of the kept channels (they were only
 * in its older touches): the model then has no evidence and predicts `prior` (the train window's conversion rate).
 */
export function sequenceBase(fit: SequenceFamilyFit, prior: number): StackBase {
  const index = new Map(fit.channels.map((c, i) => [c, i]));
  return {
    name: fit.family,
    predict(inputs) {
      const out = new Float64Array(inputs.length).fill(prior);
      const visible: number[] = [];
      const seqs = inputs.map((u, i) => {
        const keep = u.mask === null ? null : new Set(u.row.features.channels.filter((_, k) => u.mask![k]).map((c) => c.channel));
        const touches = u.row.touches.filter((t) => keep === null || keep.has(t.channel)).map((t) => [index.get(t.channel) ?? -1, t.gap] as const);
        if (touches.length > 0) visible.push(i);
        return { touches, covariates: fit.covariates.of(u.row) };
      });
      if (visible.length > 0) {
        const p = sequencePredictions(fit.model, visible.map((i) => seqs[i]!));
        visible.forEach((i, r) => (out[i] = p[r]!));
      }
      return out;
    },
  };
}

const logit = (p: number): number => {
  const q = Math.min(1 - 1e-9, Math.max(1e-9, p));
  return Math.log(q / (1 - q));
};

/** A merged unit of one window: the row (its features, touches, covariates) and its journeys. */
interface Unit {
  row: SequenceRow;
  conv: number;
  non: number;
}

export interface SequenceStackFit extends FamilyFitReport {
  family: "stacked_ensemble_sequences";
  bases: string[];
  meta: LogisticFit;
  /** Probabilities of the ensemble for units with channels switched off. */
  predict(inputs: readonly StackInput[]): Float64Array;
}

/** Two weighted rows per unit (converting, not), for the shared metrics, and the matching expansion of predictions. */
function unitSet(units: readonly Unit[]): { set: WeightedSet; expand: (p: Float64Array) => Float64Array } {
  const y = new Float32Array(2 * units.length);
  const weights = new Float32Array(2 * units.length);
  units.forEach((u, i) => {
    y[2 * i] = 1;
    weights[2 * i] = u.conv;
    weights[2 * i + 1] = u.non;
  });
  const expand = (p: Float64Array): Float64Array => {
    const out = new Float64Array(2 * p.length);
    for (let i = 0; i < p.length; i++) out[2 * i] = out[2 * i + 1] = p[i]!;
    return out;
  };
  return { set: { X: new Float32Array(0), y, weights, rows: 2 * units.length, uniqueVectors: units.length }, expand };
}

/** The sequence rows of `data`'s three windows (same days and censoring cutoff as every family), merged by key. */
export function stackWindows(rows: readonly SequenceRow[], data: PreparedData): Record<"train" | "validation" | "test", Unit[]> {
  const parts = { train: [] as SequenceRow[], validation: [] as SequenceRow[], test: [] as SequenceRow[] };
  for (const r of rows) {
    if (data.lastFitDay === "" || r.date > data.lastFitDay || r.conversions + r.nonConversions <= 0) continue;
    parts[data.split.partOf(r.date)].push(r);
  }
  return { train: mergeBySequence(parts.train), validation: mergeBySequence(parts.validation), test: mergeBySequence(parts.test) };
}

/** The train window's conversion rate of the sequence rows (the sequence bases' prediction without visible touches). */
export function trainConversionRate(rows: readonly SequenceRow[], data: PreparedData): number {
  let c = 0;
  let n = 0;
  for (const u of stackWindows(rows, data).train) {
    c += u.conv;
    n += u.conv + u.non;
  }
  return n > 0 ? c / n : 0;
}

/**
 * Stacked generalisation (Wolpert 1992) over feature and sequence bases on the shared key: meta-features are the
 * bases' logits of each unit, the meta-model an L2 logistic regression (λ = 1, as fitStackedEnsemble) fitted on the
 * validation window's units weighted by their journeys (fractional labels = conversion rate: the same objective
 * as one row per journey), measured on the test window with the metrics every family uses.
 * @throws ModelInputError for fewer than two bases or an empty validation window.
 */
export function fitSequenceStack(rows: readonly SequenceRow[], data: PreparedData, bases: readonly StackBase[]): SequenceStackFit {
  if (bases.length < 2) throw new ModelInputError(`stacked ensemble with sequences: needs at least two base families, got ${bases.map((b) => b.name).join(", ") || "none"}`);
  const t0 = performance.now();
  const windows = stackWindows(rows, data);
  if (windows.validation.length === 0) throw new ModelInputError("stacked ensemble with sequences: no ml_journey_sequences rows in the validation window to fit the meta-model on");
  const B = bases.length;
  const metaFeatures = (inputs: readonly StackInput[]): Float64Array => {
    const out = new Float64Array(inputs.length * B);
    bases.forEach((b, k) => {
      const p = b.predict(inputs);
      for (let i = 0; i < inputs.length; i++) out[i * B + k] = logit(p[i]!);
    });
    return out;
  };
  const whole = (units: readonly Unit[]): StackInput[] => units.map((u) => ({ row: u.row, mask: null }));
  const val = windows.validation;
  const y = new Float64Array(val.length);
  const w = new Float64Array(val.length);
  val.forEach((u, i) => {
    w[i] = u.conv + u.non;
    y[i] = u.conv / w[i]!;
  });
  const meta = fitLogisticRegression(metaFeatures(whole(val)), y, w, { columns: B, l2: 1, featureNames: bases.map((b) => `logit:${b.name}`) });
  const predict = (inputs: readonly StackInput[]): Float64Array => predictLogistic(meta, metaFeatures(inputs));
  const fitSeconds = (performance.now() - t0) / 1000;
  const testSet = unitSet(windows.test);
  const valSet = unitSet(val);
  const measured = heldOutMetrics(testSet.expand(predict(whole(windows.test))), testSet.set, valSet.expand(predict(whole(val))), valSet.set);
  const details: Record<string, number> = { meta_intercept: meta.intercept, validation_units: val.length };
  bases.forEach((b, k) => (details[`meta_weight:${b.name}`] = meta.coefficients[k]!));
  return {
    family: "stacked_ensemble_sequences", bases: bases.map((b) => b.name), meta, predict, ...measured, fitSeconds, details,
    json: { type: "stacked_ensemble_sequences", bases: bases.map((b) => b.name), intercept: meta.intercept, coefficients: [...meta.coefficients] },
  };
}

/** A sequence row as a credit row: its channels are the feature vector's (all the journeys' channels). */
function creditRow(r: SequenceRow): CreditRow {
  return { date: r.date, key: r.key, conversions: r.conversions, value: r.value, channels: r.features.channels };
}

/**
 * Credit every converting journey (all days) with the ensemble as value function, by removal effect and Shapley
 * over each unique converting unit's channels (v(∅) = 0, as every family), and counterfactual removal over every
 * unit, converting or not (families.ts counterfactualRemoval); rolled up by day.
 */
export function sequenceStackCredit(rows: readonly SequenceRow[], fit: SequenceStackFit,
  opts: { shapleyMaxExactChannels: number; shapleyPermutations: number; seed: number }): FamilyCredit[] {
  const credited = rows.map(creditRow);
  const converting = mergeBySequence(rows.filter((r) => r.conversions > 0)).map((u) => u.row);
  const sizes = converting.map((r) => r.features.channels.length);
  const values = (units: readonly SequenceRow[]): CoalitionValues => (batch) => fit.predict(batch.map(({ index, mask }) => ({ row: units[index]!, mask })));
  const removal = removalEffectSharesBy(sizes, values(converting));
  const shapley = shapleySharesBy(sizes, values(converting), { maxExactChannels: opts.shapleyMaxExactChannels, permutations: opts.shapleyPermutations, seed: opts.seed });
  const credit: FamilyCredit[] = ([["removal_effect", removal], ["shapley", shapley.shares]] as const).map(([method, shares]) => ({
    family: fit.family, method, ...rollUpCredit(credited, new Map(converting.map((r, i) => [r.key, shares[i]!]))),
  }));
  const all = mergeBySequence(rows).filter((u) => u.conv + u.non > 0).sort((a, b) => compareStrings(a.row.key, b.row.key));
  const increments = counterfactualRemoval(all.map((u) => ({ channels: u.row.features.channels, journeys: u.conv + u.non })), values(all.map((u) => u.row)));
  credit.push(creditByIncrement(fit.family, "counterfactual_removal", increments, credited));
  return credit;
}
