/**
 * The model families fitted beside XGBoost in the ML attribution job (vars.ml_families), each on the same
 * prepared data (time split, weighted unique journey vectors) and credited by the same methods:
 * - logistic_regression: L2 logistic regression on the XGBoost features (missing → 0, scaled by the train
 *   window's weighted standard deviation), the penalty chosen on the validation window by log loss — the
 *   interpretable reference every richer model must beat;
 * - stacked_ensemble: a logistic meta-model over the logits of XGBoost and the logistic regression, fitted
 *   on the validation window (the base models' out-of-sample predictions there), tested on the test window;
 * - causal_dml: per channel, a cross-fitted double-ML estimate of its incremental effect on conversion with
 *   user covariates and the other channels' exposure as confounders; credit ∝ incremental conversions;
 * - lstm, attention: sequence models over the ordered touches (sequences.ts);
 * - stacked_ensemble_sequences: with stacked_ensemble and a sequence family on, the meta-model over XGBoost, the
 *   logistic regression and the sequence families, on the key the two aggregates share (ensemble.ts).
 * Pure functions, no I/O.
 */
import { fitLogisticRegression, predictLogistic, type LogisticFit } from "../models/logistic-regression.ts";
import { ModelInputError, compareStrings, neumaierAccumulator, type NeumaierAccumulator } from "../models/numeric.ts";
import type { CalibrationBin, RocCurve } from "../models/metrics.ts";
import {
  convertingVectors, encodedCoalitionValues, removalDifferencesBy, removalEffectShares, rollUpCredit, shapleyShares,
  type ChannelCredit, type CoalitionValues, type CreditRow, type DailyCredit, type Predict,
} from "./credit.ts";
import type { FeatureEncoding, FeatureRow } from "./features.ts";
import { heldOutMetrics, type PreparedData, type TestMetrics } from "./pipeline.ts";
import { mergeByVector, type WeightedSet } from "./split.ts";

const ML_FAMILIES = ["logistic_regression", "stacked_ensemble", "causal_dml", "lstm", "attention"] as const;
/** A family of vars.ml_families, or the ensemble with sequence bases that stacked_ensemble adds when lstm or attention is on (ensemble.ts). */
type MlFamily = (typeof ML_FAMILIES)[number] | "stacked_ensemble_sequences";

/** What every fitted family reports: its held-out metrics, fit time, chosen sizes and serialisable model. */
export interface FamilyFitReport {
  test: TestMetrics;
  roc: RocCurve;
  calibration: CalibrationBin[];
  fitSeconds: number;
  /** Chosen hyper-parameters and sizes, as metrics (e.g. l2, features). */
  details: Record<string, number>;
  /** Serialisable model (tagged JSON) for the run's artifact. */
  json: unknown;
}

/** A fitted predictive family: probabilities for encoded rows, and its held-out metrics. */
export interface PredictiveFamilyFit extends FamilyFitReport {
  family: "logistic_regression" | "stacked_ensemble";
  predict: Predict;
}

/** Penalties tried for the logistic regression, in units of λ on scaled features (Σ weights = journeys). */
export const LOGISTIC_L2_GRID: readonly number[] = [0.1, 1, 10, 100, 1000];

/** Column scaling of the logistic features: x' = (x or 0 when missing) / scale. */
interface Scaling {
  scale: Float64Array;
}

/**
 * Weighted standard deviation of each column over the train rows (missing read as 0); 1 for a constant
 * column. Scaling without centring keeps one-hot zeros zero, so the Newton step stays sparse.
 */
function fitScaling(set: WeightedSet, F: number): Scaling {
  const sum = new Float64Array(F);
  const sq = new Float64Array(F);
  let sw = 0;
  for (let i = 0; i < set.rows; i++) {
    const w = set.weights[i]!;
    sw += w;
    for (let j = 0; j < F; j++) {
      const v = set.X[i * F + j]!;
      if (v === v && v !== 0) {
        sum[j] += w * v;
        sq[j] += w * v * v;
      }
    }
  }
  const scale = new Float64Array(F);
  for (let j = 0; j < F; j++) {
    const mean = sw > 0 ? sum[j]! / sw : 0;
    const variance = sw > 0 ? sq[j]! / sw - mean * mean : 0;
    scale[j] = variance > 1e-12 ? Math.sqrt(variance) : 1;
  }
  return { scale };
}

/** X with each column divided by its scale (missing → 0), into `out` (X's length). */
function scaled(X: Float32Array, s: Scaling, out = new Float64Array(X.length)): Float64Array {
  const F = s.scale.length;
  for (let i = 0; i < X.length; i++) {
    const v = X[i]!;
    out[i] = v === v ? v / s.scale[i % F]! : 0;
  }
  return out;
}

/**
 * Fit the logistic family on the train window for each λ of `l2Grid`, keep the one with the lowest
 * validation log loss (ties: the larger λ), and measure it on the test window.
 * Complexity: |grid| Newton fits, each O(iterations · Σ_rows nnz²).
 */
export function fitLogisticFamily(data: PreparedData, l2Grid: readonly number[] = LOGISTIC_L2_GRID): PredictiveFamilyFit {
  const t0 = performance.now();
  const F = data.encoding.featureNames.length;
  const scaling = fitScaling(data.train, F);
  const Xtrain = scaled(data.train.X, scaling);
  const Xval = scaled(data.validation.X, scaling);
  let best: { fit: LogisticFit; loss: number } | null = null;
  let previous: LogisticFit | undefined;
  for (const l2 of [...l2Grid].sort((a, b) => b - a)) {
    // Down the penalty path, each fit starting from the one before (fewer Newton iterations; the same optimum).
    const fit = fitLogisticRegression(Xtrain, data.train.y, data.train.weights, { columns: F, l2, featureNames: data.encoding.featureNames, ...(previous ? { start: previous } : {}) });
    previous = fit;
    const loss = weightedLogLoss(predictLogistic(fit, Xval), data.validation);
    if (best === null || loss < best.loss - 1e-12) best = { fit, loss };
  }
  if (best === null) throw new ModelInputError("logistic regression family: the penalty grid is empty");
  const fit = best.fit;
  // One scaled copy for every call: the credit predicts a batch of coalitions at a time (a new copy was 23 MB of
  // garbage a batch at 89 columns, as the coalition matrix itself was: credit.ts reusedMatrix).
  let buffer = new Float64Array(0);
  const predict: Predict = (X) => {
    if (buffer.length < X.length) buffer = new Float64Array(X.length);
    return predictLogistic(fit, scaled(X, scaling, buffer.length === X.length ? buffer : buffer.subarray(0, X.length)));
  };
  const fitSeconds = (performance.now() - t0) / 1000;
  const measured = heldOutMetrics(predict(data.test.X), data.test, predict(data.validation.X), data.validation);
  return {
    family: "logistic_regression", predict, ...measured, fitSeconds,
    details: { l2: fit.l2, features: F, newton_iterations: fit.iterations, validation_log_loss: best.loss },
    json: { type: "logistic_regression_family", scale: [...scaling.scale], intercept: fit.intercept, coefficients: [...fit.coefficients], featureNames: fit.featureNames, l2: fit.l2 },
  };
}

function weightedLogLoss(p: Float64Array, set: WeightedSet): number {
  let loss = 0;
  let sw = 0;
  for (let i = 0; i < set.rows; i++) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, p[i]!));
    const y = set.y[i]!;
    loss -= set.weights[i]! * (y * Math.log(q) + (1 - y) * Math.log(1 - q));
    sw += set.weights[i]!;
  }
  return sw > 0 ? loss / sw : 0;
}

const logit = (p: number): number => {
  const q = Math.min(1 - 1e-9, Math.max(1e-9, p));
  return Math.log(q / (1 - q));
};

/**
 * Stacked ensemble (Wolpert 1992, "Stacked generalization"): meta-features are the base models' logits;
 * the meta-model is a logistic regression (λ = 1) fitted on the validation window, where every base model
 * predicts out of sample (they were fitted on train), and measured on the test window.
 */
export function fitStackedEnsemble(data: PreparedData, bases: ReadonlyArray<{ name: string; predict: Predict }>): PredictiveFamilyFit {
  if (bases.length < 2) throw new ModelInputError(`stacked ensemble: needs at least two base families, got ${bases.map((b) => b.name).join(", ") || "none"}; add logistic_regression to vars.ml_families`);
  const t0 = performance.now();
  const meta = (X: Float32Array): Float64Array => {
    const preds = bases.map((b) => b.predict(X));
    const n = preds[0]!.length;
    const out = new Float64Array(n * bases.length);
    for (let i = 0; i < n; i++) for (let k = 0; k < bases.length; k++) out[i * bases.length + k] = logit(preds[k]![i]!);
    return out;
  };
  const fit = fitLogisticRegression(meta(data.validation.X), data.validation.y, data.validation.weights, {
    columns: bases.length, l2: 1, featureNames: bases.map((b) => `logit:${b.name}`),
  });
  const predict: Predict = (X) => predictLogistic(fit, meta(X));
  const fitSeconds = (performance.now() - t0) / 1000;
  const measured = heldOutMetrics(predict(data.test.X), data.test, predict(data.validation.X), data.validation);
  const details: Record<string, number> = { meta_intercept: fit.intercept };
  bases.forEach((b, k) => (details[`meta_weight:${b.name}`] = fit.coefficients[k]!));
  return {
    family: "stacked_ensemble", predict, ...measured, fitSeconds, details,
    json: { type: "stacked_ensemble", bases: bases.map((b) => b.name), intercept: fit.intercept, coefficients: [...fit.coefficients] },
  };
}

type FamilyCreditMethod = "removal_effect" | "shapley" | "treeshap" | "incremental" | "attention" | "counterfactual_removal";

/**
 * A credit series' registered model name (includes/attribution_models.js, mlModelName, the same rule for
 * Dataform): ml_<method> for XGBoost, ml_<family>_<method> for the families of vars.ml_families.
 */
export function mlCreditModel(family: string, method: string): string {
  return family === "xgboost" ? `ml_${method}` : `ml_${family}_${method}`;
}

export interface FamilyCredit {
  family: MlFamily | "xgboost";
  method: FamilyCreditMethod;
  totals: ChannelCredit[];
  daily: DailyCredit[];
}

/**
 * Removal-effect and Shapley credit of every converting journey with a family's model as value function
 * (the same functions as XGBoost's credit, credit.ts), rolled up to channels and days.
 */
export function predictiveCredit(rows: readonly FeatureRow[], enc: FeatureEncoding, family: MlFamily, predict: Predict,
  opts: { shapleyMaxExactChannels: number; shapleyPermutations: number; seed: number }): FamilyCredit[] {
  const { keys, journeys } = convertingVectors(rows);
  const removal = removalEffectShares(enc, journeys, predict);
  const shapley = shapleyShares(enc, journeys, predict, { maxExactChannels: opts.shapleyMaxExactChannels, permutations: opts.shapleyPermutations, seed: opts.seed });
  return [
    ...([["removal_effect", removal], ["shapley", shapley.shares]] as const).map(([method, shares]) => ({
      family, method, ...rollUpCredit(rows, new Map(keys.map((k, i) => [k, shares[i]!]))),
    })),
    counterfactualCredit(rows, enc, family, predict),
  ];
}

/** {@link counterfactualRemoval} of a feature-vector model over every journey of `rows`, as credit (method counterfactual_removal). */
export function counterfactualCredit(rows: readonly FeatureRow[], enc: FeatureEncoding, family: MlFamily | "xgboost", predict: Predict): FamilyCredit {
  const units = removalUnits(rows);
  return creditByIncrement(family, "counterfactual_removal", counterfactualRemoval(units, encodedCoalitionValues(enc, units, predict)), rows);
}

/** One channel's double-ML estimate. */
interface CausalEffect {
  channel: string;
  /** θ: change in conversion probability of a journey from having the channel (partially linear model). */
  effect: number;
  standardError: number;
  /** 95 % interval of θ (normal approximation). */
  effectLow: number;
  effectHigh: number;
  /** Journeys with the channel (in the estimation rows). */
  treatedJourneys: number;
  /** θ · treated journeys, and its 95 % interval. */
  incrementalConversions: number;
  incrementalLow: number;
  incrementalHigh: number;
}

export interface CausalEstimate {
  effects: CausalEffect[];
  /** Channels in every journey or in none: nothing to compare them with, so no estimate and no credit. */
  unidentified: string[];
  /** Credit ∝ max(0, incremental conversions), scaled to the credited rows' conversions and value. */
  credit: FamilyCredit;
  units: number;
  fitSeconds: number;
}

/** FNV-1a of a string, for a deterministic fold of each unique journey vector. */
function fold(key: string, folds: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % folds;
}

/**
 * Cross-fitted double machine learning for each channel c (Chernozhukov et al. 2018, "Double/debiased
 * machine learning for treatment and structural parameters", Econometrics Journal 21(1), partially linear
 * model): Y = θ·T + g(W) + ε, T = m(W) + v, with Y = converted, T = the journey has channel c, and W = the
 * confounders: user type, device, region and engagement (one-hot, as in the encoding) and the other channels' presence
 * (co-exposure stands in for prior activity). g and m are L2 logistic regressions (λ = 1) fitted on one fold
 * and predicted on the other (2 folds by a hash of the journey vector). Then
 *   θ = Σ w·ṽ·ũ / Σ w·ṽ²,  ũ = ȳ − ĝ(W), ṽ = T − m̂(W),
 * with w the journeys of a unique vector and ȳ its conversion rate (exact for the journeys it stands for),
 * and the sandwich variance Σ_j ψ_j² / (Σ w·ṽ²)², ψ_j = ṽ·(y_j − ĝ − θ·ṽ), summed over each vector's
 * converting (y = 1) and non-converting (y = 0) journeys. Incremental conversions = θ · treated journeys.
 * θ is a variance-weighted average effect: it is causal only if W holds every confounder (no hidden
 * selection) — the benchmark's selection-bias worlds target users by an intent W does not see.
 * Complexity: 4 logistic fits per channel on the unique vectors.
 */
export function estimateCausalEffects(rows: readonly FeatureRow[], enc: FeatureEncoding, creditRows: readonly FeatureRow[]): CausalEstimate {
  const t0 = performance.now();
  const merged = mergeByVector(rows);
  const units = [...merged.entries()].filter(([, m]) => m.conv + m.non > 0).sort((a, b) => compareStrings(a[0], b[0]));
  const n = units.length;
  const C = enc.channels.length;
  const U = enc.userTypes.length + enc.devices.length + enc.regions.length + enc.engagements.length;
  // Per unit: channel presence, user one-hots, rate, weight, fold.
  const present = new Uint8Array(n * C);
  const user = new Float64Array(n * U);
  const rate = new Float64Array(n);
  const weight = new Float64Array(n);
  const conv = new Float64Array(n);
  const foldOf = new Uint8Array(n);
  units.forEach(([key, m], i) => {
    for (const c of m.row.channels) {
      const k = enc.channels.indexOf(c.channel);
      if (k >= 0) present[i * C + k] = 1;
    }
    let o = 0;
    for (const [vocab, v] of [[enc.userTypes, m.row.userType], [enc.devices, m.row.device], [enc.regions, m.row.region], [enc.engagements, m.row.engagement]] as const) {
      const k = vocab.indexOf(v);
      if (k >= 0) user[i * U + o + k] = 1;
      o += vocab.length;
    }
    weight[i] = m.conv + m.non;
    conv[i] = m.conv;
    rate[i] = m.conv / weight[i]!;
    foldOf[i] = fold(key, 2);
  });
  const D = U + C - 1;
  const effects: CausalEffect[] = [];
  const unidentified: string[] = [];
  let allJourneys = 0;
  for (let i = 0; i < n; i++) allJourneys += weight[i]!;
  for (let c = 0; c < C; c++) {
    let withChannel = 0;
    for (let i = 0; i < n; i++) withChannel += present[i * C + c]! * weight[i]!;
    if (withChannel === 0 || withChannel === allJourneys) {
      unidentified.push(enc.channels[c]!);
      continue;
    }
    const W = new Float64Array(n * D);
    const T = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let u = 0; u < U; u++) W[i * D + u] = user[i * U + u]!;
      let o = U;
      for (let k = 0; k < C; k++) {
        if (k === c) continue;
        W[i * D + o++] = present[i * C + k]!;
      }
      T[i] = present[i * C + c]!;
    }
    const gHat = new Float64Array(n);
    const mHat = new Float64Array(n);
    for (let f = 0; f < 2; f++) {
      const trainIdx: number[] = [];
      const predIdx: number[] = [];
      for (let i = 0; i < n; i++) (foldOf[i] === f ? predIdx : trainIdx).push(i);
      if (trainIdx.length === 0 || predIdx.length === 0) continue;
      const pick = (src: Float64Array, idx: number[], width: number): Float64Array => {
        const out = new Float64Array(idx.length * width);
        idx.forEach((i, r) => out.set(src.subarray(i * width, i * width + width), r * width));
        return out;
      };
      const Wt = pick(W, trainIdx, D);
      const wt = pick(weight, trainIdx, 1);
      const Wp = pick(W, predIdx, D);
      const outcome = fitLogisticRegression(Wt, pick(rate, trainIdx, 1), wt, { columns: D, l2: 1 });
      const propensity = fitLogisticRegression(Wt, pick(T, trainIdx, 1), wt, { columns: D, l2: 1 });
      const g = predictLogistic(outcome, Wp);
      const m = predictLogistic(propensity, Wp);
      predIdx.forEach((i, r) => {
        gHat[i] = g[r]!;
        mHat[i] = m[r]!;
      });
    }
    let num = 0;
    let den = 0;
    let treated = 0;
    for (let i = 0; i < n; i++) {
      const v = T[i]! - mHat[i]!;
      num += weight[i]! * v * (rate[i]! - gHat[i]!);
      den += weight[i]! * v * v;
      treated += weight[i]! * T[i]!;
    }
    const theta = den > 0 ? num / den : 0;
    let psi2 = 0;
    for (let i = 0; i < n; i++) {
      const v = T[i]! - mHat[i]!;
      const a = gHat[i]! + theta * v;
      // Σ_j (y_j − a)² over the unit's journeys: conv·(1 − a)² + non·a².
      psi2 += v * v * (conv[i]! * (1 - a) * (1 - a) + (weight[i]! - conv[i]!) * a * a);
    }
    const se = den > 0 ? Math.sqrt(psi2) / den : NaN;
    effects.push({
      channel: enc.channels[c]!, effect: theta, standardError: se,
      effectLow: theta - 1.96 * se, effectHigh: theta + 1.96 * se, treatedJourneys: treated,
      incrementalConversions: theta * treated, incrementalLow: (theta - 1.96 * se) * treated, incrementalHigh: (theta + 1.96 * se) * treated,
    });
  }
  return { effects, unidentified, credit: incrementalCredit(effects, creditRows), units: n, fitSeconds: (performance.now() - t0) / 1000 };
}

/**
 * Credit ∝ max(0, incremental conversions) of each channel, scaled to the conversions and value of the
 * credited rows (a channel with a negative or zero estimate gets none; all ≤ 0 → equal shares). The
 * estimate is one effect per channel for the whole period, so each day's conversions are split by the
 * same shares.
 */
function incrementalCredit(effects: readonly CausalEffect[], rows: readonly FeatureRow[]): FamilyCredit {
  return creditByIncrement("causal_dml", "incremental", effects.map((e) => ({ channel: e.channel, incremental: e.incrementalConversions })), rows);
}

/** {@link incrementalCredit} for any family and method: shares ∝ max(0, incremental), one share per channel for every day. */
export function creditByIncrement(family: MlFamily | "xgboost", method: FamilyCreditMethod,
  increments: ReadonlyArray<{ channel: string; incremental: number }>, rows: readonly CreditRow[]): FamilyCredit {
  if (increments.length === 0) return { family, method, totals: [], daily: [] };
  const positive = increments.map((e) => (e.incremental > 0 ? e.incremental : 0));
  const sum = positive.reduce((a, b) => a + b, 0);
  const share = new Map(increments.map((e, k) => [e.channel, sum > 0 ? positive[k]! / sum : 1 / increments.length]));
  const totalConv = neumaierAccumulator();
  const totalValue = neumaierAccumulator();
  const byDay = new Map<string, { c: number; v: number }>();
  for (const r of rows) {
    if (r.conversions <= 0) continue;
    totalConv.add(r.conversions);
    totalValue.add(r.value);
    const d = byDay.get(r.date) ?? { c: 0, v: 0 };
    d.c += r.conversions;
    d.v += r.value;
    byDay.set(r.date, d);
  }
  const channels = increments.map((e) => e.channel).sort(compareStrings).filter((c) => share.get(c)! > 0);
  const totals = channels.map((channel) => ({ channel, conversions: totalConv.value() * share.get(channel)!, value: totalValue.value() * share.get(channel)!, share: share.get(channel)! }));
  const daily: DailyCredit[] = [];
  for (const date of [...byDay.keys()].sort(compareStrings)) {
    const d = byDay.get(date)!;
    for (const channel of channels) daily.push({ date, channel, conversions: d.c * share.get(channel)!, value: d.v * share.get(channel)! });
  }
  return { family, method, totals, daily };
}

/** A unique journey (vector or sequence) for {@link counterfactualRemoval}: its channels and how many journeys it stands for. */
export interface RemovalUnit {
  channels: ReadonlyArray<{ channel: string }>;
  /** Journeys with this vector, converting or not. */
  journeys: number;
}

/**
 * Counterfactual removal on the conversion model, summed over every journey (converting or not) and
 * normalised across channels — the model's estimate of the conversions lost if channel c were switched off:
 *   Δ_c = Σ_journeys [ P(convert | journey) − P(convert | journey without c's touches) ],
 * where the journey without c keeps its user covariates (user type, device, region: the encoding writes
 * them whatever the keep-mask) and re-derives only the touch features. Unlike per-journey removal shares,
 * a journey that would convert anyway adds ≈ 0 to every channel rather than one conversion to share out.
 * This is v(all) − v(all∖c) of the benchmark's true incremental shares, with the model standing in for the
 * world; it is causal only as far as the model's P(convert | touches, covariates) is (no hidden confounder,
 * no channel whose absence diverts visits to another). Complexity: Σ (k_u + 1) predictions over unique units.
 */
export function counterfactualRemoval(units: readonly RemovalUnit[], values: CoalitionValues): Array<{ channel: string; incremental: number }> {
  const diffs = removalDifferencesBy(units.map((u) => u.channels.length), values);
  const acc = new Map<string, NeumaierAccumulator>();
  units.forEach((u, i) => {
    u.channels.forEach(({ channel }, k) => {
      let a = acc.get(channel);
      if (!a) acc.set(channel, (a = neumaierAccumulator()));
      a.add(u.journeys * diffs[i]![k]!);
    });
  });
  return [...acc.keys()].sort(compareStrings).map((channel) => ({ channel, incremental: acc.get(channel)!.value() }));
}

/** Unique feature vectors of `rows` (all days, converting or not) as removal units, ordered by key. */
export function removalUnits(rows: readonly FeatureRow[]): Array<FeatureRow & RemovalUnit> {
  const merged = mergeByVector(rows);
  return [...merged.keys()].sort(compareStrings).map((k) => ({ ...merged.get(k)!.row, journeys: merged.get(k)!.conv + merged.get(k)!.non }))
    .filter((u) => u.journeys > 0);
}
