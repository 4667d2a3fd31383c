/**
 * The ML attribution pipeline on `ml_journey_features` rows: time split → weighted XGBoost fit with early
 * stopping on the validation days → weighted test metrics → per-journey credit by three methods →
 * channel and channel × day tables. No I/O (the job reads and writes); the XGBoost engine is the only
 * collaborator (src/models/xgboost).
 */
import { trainBoosted, type BackendChoice, type BoostedModel } from "../models/xgboost/index.ts";
import { brier, calibrationBins, expectedCalibrationError, logLoss, prAuc, rocAuc, rocCurve, type CalibrationBin, type RocCurve } from "../models/metrics.ts";
import type { Logger } from "../util/logger.ts";
import { buildEncoding, type FeatureEncoding, type FeatureRow } from "./features.ts";
import { censorCutoff, timeSplit, weightedSet, type DayCounts, type TimeSplit, type WeightedSet } from "./split.ts";
import { convertingVectors, removalEffectShares, rollUpCredit, shapleyShares, treeShapCredit, type ChannelCredit, type DailyCredit } from "./credit.ts";

/** The model of the last run that published credit (above vars.ml_min_auc), as models/ml-attribution/<run>.json. */
export const ML_CURRENT_MODEL_ARTIFACT = "models/ml-attribution/current.json";

interface ConversionModelOptions {
  /** [train, validation, test] fractions of the calendar days, oldest first ({@link timeSplit}). */
  split: readonly [number, number, number];
  /** Days at the end of the data left out of fitting and testing ({@link censorCutoff}); default 0. */
  censorDays?: number;
  maxRounds: number;
  maxDepth: number;
  learningRate: number;
  earlyStoppingRounds: number;
  seed: number;
  /** XGBoost backend (vars.xgboost_backend); default wasm. */
  backend?: BackendChoice;
  logger?: Logger;
}

export interface TestMetrics {
  auc: number;
  prAuc: number;
  logLoss: number;
  brier: number;
  /** Expected calibration error over 10 bins. */
  calibrationError: number;
  /** Conversions / journeys in the test window. */
  baseRate: number;
  /** Converting and non-converting journeys of the test window (weighted), what the AUC's interval rests on. */
  positives: number;
  negatives: number;
  /** AUC on the validation window (the early-stopping set). */
  validationAuc: number;
}

export interface ConversionModel {
  encoding: FeatureEncoding;
  model: BoostedModel;
  split: TimeSplit;
  test: TestMetrics;
  roc: RocCurve;
  calibration: CalibrationBin[];
  /** Training rows (two per unique vector, minus empty ones) and unique vectors in the train window. */
  trainRows: number;
  trainVectors: number;
  fitSeconds: number;
  /** Last day used for fitting and testing; journeys after it (right-censored) were left out. */
  lastFitDay: string;
  censoredJourneys: number;
}

/** The rows of one fit, split by time and encoded as weighted sets (shared by every model family). */
export interface PreparedData {
  encoding: FeatureEncoding;
  split: TimeSplit;
  /** Rows of each window (journeys after the censoring cutoff left out). */
  parts: Record<"train" | "validation" | "test", FeatureRow[]>;
  train: WeightedSet;
  validation: WeightedSet;
  test: WeightedSet;
  /** Last day used for fitting and testing; journeys after it (right-censored) were left out. */
  lastFitDay: string;
  censoredJourneys: number;
}

/**
 * Censor, split by calendar days and encode: every family fits on `train`, selects (early stopping, penalty)
 * on `validation` and is measured on `test`, so their metrics compare.
 */
export function prepareData(allRows: readonly FeatureRow[], split: readonly [number, number, number], censorDays: number): PreparedData {
  const cutoff = censorCutoff(allRows.map((r) => r.date), censorDays);
  const rows = allRows.filter((r) => cutoff !== null && r.date <= cutoff);
  let censoredJourneys = 0;
  for (const r of allRows) if (cutoff === null || r.date > cutoff) censoredJourneys += r.conversions + r.nonConversions;
  const byDay = new Map<string, DayCounts>();
  for (const r of rows) {
    const c = byDay.get(r.date) ?? { journeys: 0, conversions: 0 };
    c.journeys += r.conversions + r.nonConversions;
    c.conversions += r.conversions;
    byDay.set(r.date, c);
  }
  const timeWindows = timeSplit(byDay, split);
  // The encoding covers every row, censored ones too: they are credited with this model.
  const encoding = buildEncoding(allRows);
  const parts = { train: [] as FeatureRow[], validation: [] as FeatureRow[], test: [] as FeatureRow[] };
  for (const r of rows) if (r.conversions + r.nonConversions > 0) parts[timeWindows.partOf(r.date)].push(r);
  return {
    encoding, split: timeWindows, parts,
    train: weightedSet(encoding, parts.train),
    validation: weightedSet(encoding, parts.validation),
    test: weightedSet(encoding, parts.test),
    lastFitDay: cutoff ?? "",
    censoredJourneys,
  };
}

/** Weighted test metrics of probabilities `p` on the test set, and the validation AUC of `pValidation`. */
export function heldOutMetrics(p: Float64Array, test: WeightedSet, pValidation: Float64Array, validation: WeightedSet): { test: TestMetrics; roc: RocCurve; calibration: CalibrationBin[] } {
  const bins = calibrationBins(p, test.y, test.weights);
  let pos = 0;
  let all = 0;
  for (let i = 0; i < test.rows; i++) {
    all += test.weights[i]!;
    pos += test.weights[i]! * test.y[i]!;
  }
  return {
    test: {
      auc: rocAuc(p, test.y, test.weights),
      prAuc: prAuc(p, test.y, test.weights),
      logLoss: logLoss(p, test.y, test.weights),
      brier: brier(p, test.y, test.weights),
      calibrationError: expectedCalibrationError(bins),
      baseRate: all > 0 ? pos / all : 0,
      positives: pos,
      negatives: all - pos,
      validationAuc: rocAuc(pValidation, validation.y, validation.weights),
    },
    roc: rocCurve(p, test.y, test.weights),
    calibration: bins,
  };
}

/**
 * Fit the conversion model. Aggregated rows are trained with weights (notes/xgboost-wasm.md §3) and
 * every metric is weighted by journeys. Deterministic for the same rows and options.
 */
export async function fitConversionModel(allRows: readonly FeatureRow[], opts: ConversionModelOptions): Promise<ConversionModel> {
  return fitXgboostOn(prepareData(allRows, opts.split, opts.censorDays ?? 0), opts);
}

/** {@link fitConversionModel} on data already prepared (the job prepares once for every family). */
export async function fitXgboostOn(data: PreparedData, opts: ConversionModelOptions): Promise<ConversionModel> {
  const { encoding, split, train, validation, test } = data;
  const t0 = performance.now();
  const model = await trainBoosted(
    { X: train.X, y: train.y, weights: train.weights, featureNames: encoding.featureNames },
    {
      rounds: opts.maxRounds,
      params: { tree_method: "hist", max_depth: opts.maxDepth, eta: opts.learningRate, seed: opts.seed, subsample: 1, min_child_weight: 1 },
      validation: { X: validation.X, y: validation.y, weights: validation.weights },
      earlyStoppingRounds: opts.earlyStoppingRounds,
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    },
  );
  const fitSeconds = (performance.now() - t0) / 1000;
  const measured = heldOutMetrics(model.predict(test.X), test, model.predict(validation.X), validation);
  return {
    encoding, model, split,
    ...measured,
    trainRows: train.rows,
    trainVectors: train.uniqueVectors,
    fitSeconds,
    lastFitDay: data.lastFitDay,
    censoredJourneys: data.censoredJourneys,
  };
}

export type CreditMethod = "removal_effect" | "shapley" | "treeshap";
export const CREDIT_METHODS: readonly CreditMethod[] = ["removal_effect", "shapley", "treeshap"];

interface CreditOptions {
  shapleyMaxExactChannels: number;
  shapleyPermutations: number;
  seed: number;
}

export interface MethodCredit {
  totals: ChannelCredit[];
  daily: DailyCredit[];
}

interface AttributionCredit {
  byMethod: Record<CreditMethod, MethodCredit>;
  /** Mean |TreeSHAP| per feature over converting journeys (weighted by conversions). */
  treeShapImportance: Map<string, number>;
  /** Unique converting feature vectors credited. */
  creditedVectors: number;
  /** Of those, vectors whose Shapley values were sampled. */
  sampledShapleyVectors: number;
  creditSeconds: number;
}

/**
 * Credit every converting journey (all days, not only the test window) with the fitted model, by
 * removal effect, model-as-value-function Shapley and TreeSHAP, and roll it up. Shares are computed once
 * per unique feature vector (journeys repeat) and applied to each day's conversions.
 */
export function attributeCredit(rows: readonly FeatureRow[], fit: ConversionModel, opts: CreditOptions): AttributionCredit {
  const t0 = performance.now();
  const { keys, journeys, conversions: weights } = convertingVectors(rows);
  const predict = (X: Float32Array): Float64Array => fit.model.predict(X);
  const removal = removalEffectShares(fit.encoding, journeys, predict);
  const shapley = shapleyShares(fit.encoding, journeys, predict, {
    maxExactChannels: opts.shapleyMaxExactChannels, permutations: opts.shapleyPermutations, seed: opts.seed,
  });
  const tree = treeShapCredit(fit.encoding, journeys, weights, (X) => fit.model.shap(X));
  const byMethod = {} as Record<CreditMethod, MethodCredit>;
  const sharesOf: Record<CreditMethod, Float64Array[]> = { removal_effect: removal, shapley: shapley.shares, treeshap: tree.shares };
  for (const m of CREDIT_METHODS) byMethod[m] = rollUpCredit(rows, new Map(keys.map((k, i) => [k, sharesOf[m][i]!])));
  return {
    byMethod,
    treeShapImportance: new Map(fit.encoding.featureNames.map((f, i) => [f, tree.meanAbsShap[i]!])),
    creditedVectors: keys.length,
    sampledShapleyVectors: shapley.sampledJourneys,
    creditSeconds: (performance.now() - t0) / 1000,
  };
}

/** Last-touch conversions per channel from the same rows (the baseline the ML credit is compared with). */
export function lastTouchTotals(rows: readonly FeatureRow[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    if (r.conversions <= 0) continue;
    const last = r.channels.find((c) => c.lastRank === 1);
    if (last) out.set(last.channel, (out.get(last.channel) ?? 0) + r.conversions);
  }
  return out;
}
