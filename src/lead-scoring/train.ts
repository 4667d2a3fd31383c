/**
 * Fitting the lead-scoring model: encode → split → XGBoost with early stopping on the validation
 * window → calibration (Platt vs isotonic, chosen by cross-fitted validation log loss) → test metrics,
 * curves, importance → the artifact. No I/O: the job reads and writes.
 */
import { trainBoosted, type BackendChoice, type BoostParams, type BoostedModel } from "../models/xgboost/index.ts";
import { onAllCores } from "../models/xgboost/forest-team.ts";
import { inferFeatureKinds, fitEncoder, encodeRows, columnSources, type CategoricalEncoding, type Encoder, type SkippedColumn } from "../models/encoding.ts";
import { fitCalibrator, applyCalibrator, crossFittedProbabilities, type Calibrator } from "../models/calibration.ts";
import { rocAuc, prAuc, logLoss, brier, rocCurve, calibrationBins, liftByDecile, expectedCalibrationError } from "../models/metrics.ts";
import { fitPsiBins } from "../models/drift.ts";
import type { Logger } from "../util/logger.ts";
import { tooFewLabels, type LeadRecord } from "./dataset.ts";
import { timeSplit, stratifiedRandomSplit, type SplitIndices } from "./split.ts";
import { LEAD_MODEL_JSON_TYPE, modelVersionOf, thin, type FeatureBaseline, type LeadModelArtifact } from "./artifact.ts";
import { featureCodes } from "./features.ts";
import { UserError } from "../util/errors.ts";
import { fitLogisticRegression, predictLogistic } from "../models/logistic-regression.ts";
import type { Row } from "../engines/engine.ts";
import { segmentLevel, type SegmentBaseline } from "./artifact.ts";

interface TrainLeadOptions {
  featureColumns: string[];
  /** L2 penalty of the logistic-regression baseline (vars.lead_baseline_l2); undefined = no baseline. */
  baselineL2?: number;
  /** Lead columns whose levels are monitored as segments (vars.lead_monitor_segments). */
  segments?: readonly string[];
  split: "time" | "random";
  validationShare: number;
  testShare: number;
  seed: number;
  categorical: CategoricalEncoding;
  params: BoostParams;
  maxRounds: number;
  /** Score 0–100 at which a lead counts as predicted positive (confusion matrix). */
  scoreCutoff: number;
  earlyStoppingRounds?: number;
  runId: string;
  now: Date;
  /** XGBoost backend (vars.xgboost_backend); default wasm. */
  backend?: BackendChoice;
  logger?: Logger;
}

interface CurvePoint { curve: "roc" | "pr" | "calibration" | "lift"; x: number; y: number; n: number | null }

export interface TrainedLeadModel {
  artifact: LeadModelArtifact;
  booster: BoostedModel;
  skipped: SkippedColumn[];
  /** Metric name → value (test window unless the name says otherwise). */
  metrics: Record<string, number>;
  curves: CurvePoint[];
  importance: { feature: string; importance: number; kind: "total_gain" | "mean_abs_shap" }[];
  split: SplitIndices;
  /**
   * The regularised logistic-regression baseline on the same split and encoding (test-window figures
   * named as in `metrics`), or the reason it could not be fitted.
   */
  baseline: { metrics: Record<string, number> } | { error: string } | undefined;
}

const pick = <T>(a: readonly T[], idx: readonly number[]): T[] => idx.map((i) => a[i]!);

/** One window of the split, encoded: row-major X (`encoder.columns.length` columns) and its labels. */
interface EncodedWindow { X: Float32Array; y: Float32Array }

/**
 * Train on labelled leads (`labels[i]` ∈ {0, 1} for `records[i]`).
 * @throws UserError when there are too few leads or only one class.
 */
export async function trainLeadModel(records: readonly LeadRecord[], labels: readonly number[], opts: TrainLeadOptions): Promise<TrainedLeadModel> {
  const tooFew = tooFewLabels(labels);
  if (tooFew) throw new UserError(tooFew);

  const split = opts.split === "time"
    ? timeSplit(records.map((r) => r.createdAt), records.map((r) => r.leadId), opts.validationShare, opts.testShare)
    : stratifiedRandomSplit(labels, opts.validationShare, opts.testShare, opts.seed);
  const trainRows = pick(records, split.train).map((r) => r.row);

  // Types and levels come from the training window only (nothing from validation/test leaks in).
  const { features, skipped } = inferFeatureKinds(trainRows, opts.featureColumns);
  if (!features.length) throw new UserError(`no usable feature columns among ${opts.featureColumns.join(", ") || "(none)"}; skipped: ${skipped.map((s) => `${s.name} (${s.reason})`).join(", ")}`);
  const encoder = fitEncoder(trainRows, features, { categorical: opts.categorical, minLevelCount: Math.max(5, Math.ceil(0.005 * split.train.length)) });
  const C = encoder.columns.length;
  // Each window encoded apart: the rows of all leads are never held encoded at once besides the windows.
  const part = (idx: number[]) => ({ X: encodeRows(encoder, idx.map((i) => records[i]!.row)), y: Float32Array.from(pick(labels, idx)) });
  const tr = part(split.train);
  const va = part(split.validation);
  const te = part(split.test);

  opts.logger?.debug("lead scoring: training", { train: split.train.length, validation: split.validation.length, test: split.test.length, columns: C });
  const booster = await trainBoosted(
    { X: tr.X, y: tr.y, featureNames: encoder.columns },
    { params: { ...opts.params, seed: opts.params.seed ?? opts.seed }, rounds: opts.maxRounds, validation: { X: va.X, y: va.y }, earlyStoppingRounds: opts.earlyStoppingRounds ?? 50, logger: opts.logger, ...(opts.backend ? { backend: opts.backend } : {}) },
  );

  // Every prediction and explanation of the forest the metrics need, on every core (the same values as in this thread).
  // No workers when even the largest of these calls is too small to be worth them (a small lead model).
  const [mVal, mTest, rawTest, rawTrain, shap] = await onAllCores(booster, () => [
    booster.predictMargin(va.X), booster.predictMargin(te.X), booster.predict(te.X), booster.predict(tr.X), booster.shap(te.X),
  ] as const, { rows: Math.max(split.train.length, split.validation.length, split.test.length) });

  // Calibration on the validation window: both methods cross-fitted (5 folds) → lower log loss wins,
  // then refitted on the whole window.
  const llPlatt = logLoss(crossFittedProbabilities("platt", mVal, va.y, undefined), va.y);
  const llIso = logLoss(crossFittedProbabilities("isotonic", mVal, va.y, undefined), va.y);
  const kind: Calibrator["kind"] = llIso < llPlatt ? "isotonic" : "platt";
  const calibrator = fitCalibrator(kind, mVal, va.y);
  const pVal = applyCalibrator(calibrator, mVal);

  const pTest = applyCalibrator(calibrator, mTest);
  const cut = opts.scoreCutoff;
  let tp = 0, fp = 0, tn = 0, fn = 0;
  pTest.forEach((p, i) => {
    const predicted = Math.round(100 * p) >= cut;
    if (predicted && te.y[i] === 1) tp++;
    else if (predicted) fp++;
    else if (te.y[i] === 1) fn++;
    else tn++;
  });
  const lift = liftByDecile(pTest, te.y);
  const calTest = calibrationBins(pTest, te.y, undefined, 10);
  const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  const valAuc = rocAuc(pVal, va.y);
  const metrics: Record<string, number> = {
    auc: rocAuc(pTest, te.y),
    pr_auc: prAuc(pTest, te.y),
    log_loss: logLoss(pTest, te.y),
    brier: brier(pTest, te.y),
    log_loss_uncalibrated: logLoss(rawTest, te.y),
    brier_uncalibrated: brier(rawTest, te.y),
    calibration_error: expectedCalibrationError(calTest),
    base_rate: mean(te.y),
    mean_probability: mean(pTest),
    lift_decile_1: lift[0]!.lift,
    conversion_rate_decile_1: lift[0]!.conversionRate,
    conversion_rate_decile_10: lift[9]!.conversionRate,
    tp, fp, tn, fn,
    precision_at_cutoff: tp + fp > 0 ? tp / (tp + fp) : 0,
    recall_at_cutoff: tp + fn > 0 ? tp / (tp + fn) : 0,
    score_cutoff: cut,
    validation_auc: valAuc,
    validation_log_loss_platt_cv: llPlatt,
    validation_log_loss_isotonic_cv: llIso,
    validation_base_rate: mean(va.y),
    validation_mean_calibrated: mean(pVal),
    calibrator_is_isotonic: kind === "isotonic" ? 1 : 0,
    train_auc: rocAuc(rawTrain, tr.y),
    best_iteration: booster.meta.bestIteration,
    n_train: split.train.length, n_validation: split.validation.length, n_test: split.test.length,
    encoded_columns: C,
    source_features: encoder.features.length,
  };

  const curves: CurvePoint[] = [];
  const roc = rocCurve(pTest, te.y);
  roc.fpr.forEach((x, i) => curves.push({ curve: "roc", x, y: roc.tpr[i]!, n: null }));
  const P = te.y.reduce((a, b) => a + b, 0);
  const N = te.y.length - P;
  roc.fpr.forEach((f, i) => {
    const tpi = roc.tpr[i]! * P;
    const fpi = f * N;
    if (tpi + fpi > 0) curves.push({ curve: "pr", x: roc.tpr[i]!, y: tpi / (tpi + fpi), n: null });
  });
  for (const b of calTest) curves.push({ curve: "calibration", x: b.meanPredicted, y: b.observedRate, n: b.weight });
  for (const d of lift) curves.push({ curve: "lift", x: d.decile, y: d.lift, n: d.weight });

  // Importance per source feature: XGBoost total gain, and mean |SHAP| on the test window.
  const sources = columnSources(encoder);
  const gain = booster.featureImportance("total_gain");
  const F = encoder.features.length;
  const gainBy = new Float64Array(F);
  encoder.columns.forEach((c, j) => (gainBy[sources[j]!] += gain[c] ?? 0));
  const shapBy = new Float64Array(F);
  for (let r = 0; r < split.test.length; r++) {
    const per = new Float64Array(F);
    for (let j = 0; j < C; j++) per[sources[j]!] += shap[r * (C + 1) + j]!;
    for (let f = 0; f < F; f++) shapBy[f] += Math.abs(per[f]!) / split.test.length;
  }
  const importance: TrainedLeadModel["importance"] = [];
  encoder.features.forEach((f, i) => {
    importance.push({ feature: f.name, importance: gainBy[i]!, kind: "total_gain" });
    importance.push({ feature: f.name, importance: shapBy[i]!, kind: "mean_abs_shap" });
  });

  const baseline = opts.baselineL2 === undefined ? undefined : logisticBaseline(tr, te, C, opts.baselineL2, encoder.columns);

  // Monitoring baseline: the validation window, bins fixed now.
  const baselineFeatures: FeatureBaseline[] = encoder.features.map((f, fi) => {
    const codes = featureCodes(encoder, va.X, split.validation.length, fi);
    const maxBins = f.kind === "categorical" ? (f.levels!.length + 1) : 10;
    return { name: f.name, kind: f.kind, bins: fitPsiBins(codes, Math.max(1, maxBins)), ...(f.kind === "categorical" ? {} : { sample: thin(codes) }) };
  });
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  const maxCreated = (idx: number[]): number | null => {
    let m: number | null = null;
    for (const i of idx) { const t = records[i]!.createdAt; if (t !== null && (m === null || t > m)) m = t; }
    return m;
  };
  const boosterJson = booster.toJSON();
  const artifact: LeadModelArtifact = {
    type: LEAD_MODEL_JSON_TYPE,
    version: 1,
    modelVersion: modelVersionOf(encoder, boosterJson, calibrator),
    trainedAt: opts.now.toISOString(),
    runId: opts.runId,
    split: opts.split,
    encoder,
    booster: boosterJson,
    calibrator,
    baseline: {
      through: opts.split === "time" ? iso(maxCreated(split.validation)) : null,
      trainedThrough: iso(maxCreated([...split.train, ...split.validation, ...split.test])),
      rows: split.validation.length,
      features: baselineFeatures,
      score: { bins: fitPsiBins(pVal, 10), sample: thin(pVal) },
      validationAuc: valAuc,
      segments: segmentBaselines(pick(records, split.validation).map((r) => r.row), pVal, va.y, opts.segments ?? []),
    },
    metrics,
  };
  return { artifact, booster, skipped, metrics, curves, importance, split, baseline };
}

/**
 * The logistic-regression baseline (src/models/logistic-regression.ts) on the booster's encoded
 * columns: standardised with the training window's mean and standard deviation, a missing value set
 * to that mean (0 after standardising), L2 penalty `l2`, fitted on the training window and evaluated
 * on the test window like the booster (uncalibrated: a logistic model's probabilities are its own).
 */
function logisticBaseline(tr: EncodedWindow, te: EncodedWindow, C: number, l2: number, names: readonly string[]): TrainedLeadModel["baseline"] {
  const nTrain = tr.y.length;
  const mean = new Float64Array(C);
  const sd = new Float64Array(C);
  for (let j = 0; j < C; j++) {
    let n = 0, s = 0, ss = 0;
    for (let i = 0; i < nTrain; i++) { const v = tr.X[i * C + j]!; if (Number.isFinite(v)) { n++; s += v; ss += v * v; } }
    mean[j] = n ? s / n : 0;
    sd[j] = n ? Math.sqrt(Math.max(0, ss / n - mean[j]! ** 2)) : 0;
  }
  const standardised = (X: Float32Array): Float64Array => {
    const out = new Float64Array(X.length);
    for (let k = 0; k < X.length / C; k++) {
      for (let j = 0; j < C; j++) {
        const v = X[k * C + j]!;
        out[k * C + j] = Number.isFinite(v) && sd[j]! > 0 ? (v - mean[j]!) / sd[j]! : 0;
      }
    }
    return out;
  };
  try {
    const fit = fitLogisticRegression(standardised(tr.X), Array.from(tr.y), null, { columns: C, l2, featureNames: names });
    const yTest = Array.from(te.y);
    const p = predictLogistic(fit, standardised(te.X));
    const lift = liftByDecile(p, yTest);
    return {
      metrics: {
        auc: rocAuc(p, yTest), pr_auc: prAuc(p, yTest), log_loss: logLoss(p, yTest), brier: brier(p, yTest),
        calibration_error: expectedCalibrationError(calibrationBins(p, yTest, undefined, 10)), lift_decile_1: lift[0]!.lift,
        mean_probability: p.reduce((a, b) => a + b, 0) / Math.max(1, p.length), l2, iterations: fit.iterations,
      },
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * Per-segment monitoring baselines: for every level of each segment column with at least
 * SEGMENT_MIN_ROWS leads in the validation window, its calibrated scores' PSI bins and sample and its
 * AUC (null when either class has fewer than 10 leads).
 */
const SEGMENT_MIN_ROWS = 30;
function segmentBaselines(rows: readonly Row[], p: ArrayLike<number>, y: ArrayLike<number>, columns: readonly string[]): SegmentBaseline[] {
  const out: SegmentBaseline[] = [];
  for (const column of columns) {
    const byLevel = new Map<string, number[]>();
    rows.forEach((r, i) => {
      const level = segmentLevel(r, column);
      if (level === null) return;
      const idx = byLevel.get(level);
      if (idx) idx.push(i);
      else byLevel.set(level, [i]);
    });
    for (const [level, idx] of [...byLevel.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (idx.length < SEGMENT_MIN_ROWS) continue;
      const ps = idx.map((i) => p[i]!);
      const ys = idx.map((i) => y[i]!);
      const pos = ys.filter((v) => v === 1).length;
      out.push({ column, level, rows: idx.length, bins: fitPsiBins(ps, 10), sample: thin(ps), auc: pos >= 10 && ys.length - pos >= 10 ? rocAuc(ps, ys) : null });
    }
  }
  return out;
}

export type { Encoder };
