/**
 * Checks and calibration of the ML attribution: refusal rule (AUC lower bound), drift against the previous run, and
 * calibration of attributed credit to measured incrementality (experiments, MMM). Pure functions.
 */
import { UserError } from "../util/errors.ts";
import { ModelInputError, compareStrings, neumaierAccumulator } from "../models/numeric.ts";
import { aucLowerBound } from "../models/metrics.ts";
import type { ChannelCredit, DailyCredit } from "./credit.ts";

/** The test window's evidence the refusal rule reads: the AUC and the journeys it was measured on. */
export interface AucEvidence {
  auc: number;
  /** Converting and non-converting journeys of the test window (weighted counts). */
  positives: number;
  negatives: number;
}

/**
 * The refusal rule of the ML attribution (issue #16, calibrated on the ground-truth benchmark, README "Accuracy"):
 * publish when the lower end of the test AUC's 95 % confidence interval (Hanley & McNeil, aucLowerBound) reaches
 * vars.ml_min_auc; default 0.5, i.e. refuse a model whose test window cannot tell it from chance. A fixed floor on the
 * AUC itself (0.70 before) refused models whose credit was closer to the truth than the best heuristic's: on the
 * benchmark the AUC does not say whether the credit is right, only whether the model found any signal at all.
 * vars.ml_min_auc = 0 publishes every model. Returns the lower bound.
 */
export function aucLowerBoundFor(e: AucEvidence): number {
  return aucLowerBound(e.auc, e.positives, e.negatives);
}

/**
 * The evidence of a metrics record that holds the test AUC, the test rows (n_test) and their conversion rate
 * (base_rate), as the lead-scoring model and the benchmark's ML metrics do; undefined when one is missing.
 */
export function aucEvidenceFromMetrics(m: { auc?: number; n_test?: number; base_rate?: number }): AucEvidence | undefined {
  if (m.auc === undefined || m.n_test === undefined || m.base_rate === undefined) return undefined;
  const positives = m.n_test * m.base_rate;
  return { auc: m.auc, positives, negatives: m.n_test - positives };
}

/** The refusal rule's verdict: the lower bound, and whether it reaches `floor` (always when floor ≤ 0). */
export function aucFloorVerdict(evidence: AucEvidence, floor: number): { lowerBound: number; clears: boolean } {
  const lowerBound = aucLowerBoundFor(evidence);
  return { lowerBound, clears: !(floor > 0) || lowerBound >= floor };
}

/** The model's test AUC does not clear vars.ml_min_auc with 95 % confidence: credit is not published. */
export class AucBelowFloorError extends UserError {
  constructor(readonly evidence: AucEvidence, readonly lowerBound: number, readonly floor: number, detail: string) {
    super(
      `ML attribution not published: test AUC ${evidence.auc.toFixed(4)} ± ${(evidence.auc - lowerBound).toFixed(4)} ` +
        `(95 % interval, Hanley–McNeil on ${Math.round(evidence.positives)} converting and ${Math.round(evidence.negatives)} non-converting test journeys; ${detail}): ` +
        `its lower end ${lowerBound.toFixed(4)} is below vars.ml_min_auc = ${floor}, so the test window does not show the model ranking converters above non-converters ${floor === 0.5 ? "better than chance" : `with an AUC of ${floor}`}. ` +
        "Its registered models (ml_channel_weights) credit no session this run, the previous ml_channel_credit tables are left as they were and this run's metrics are recorded in model_metrics. " +
        "Check the journey data (more days, more conversions in the test window), or lower vars.ml_min_auc in workflow_settings.yaml (0 publishes every model).",
    );
  }
}

/**
 * Throws {@link AucBelowFloorError} when floor > 0 and the AUC's lower 95 % bound < floor (the rule of
 * {@link aucLowerBoundFor}). `detail` says which window was tested. Returns the lower bound.
 */
export function checkAucFloor(evidence: AucEvidence, floor: number, detail: string): number {
  const { lowerBound, clears } = aucFloorVerdict(evidence, floor);
  if (!clears) throw new AucBelowFloorError(evidence, lowerBound, floor, detail);
  return lowerBound;
}

interface DriftCheck {
  /** AUC of the previous run (null: no previous run). */
  previousAuc: number | null;
  currentAuc: number;
  /** Relative drop (previous − current) / previous; null without a previous run. Negative = improved. */
  relativeDrop: number | null;
  flagged: boolean;
  /** Run-summary text when flagged. */
  message: string | null;
}

/**
 * Drift: flag when the test AUC fell by more than `maxRelativeDrop` relative to the previous run's
 * (vars.drift_max_auc_drop, default 0.10 = a 10 % drop, e.g. 0.80 → below 0.72).
 * Edge cases: no previous AUC (or a non-positive one) → never flagged.
 */
export function checkDrift(previousAuc: number | null, currentAuc: number, maxRelativeDrop: number): DriftCheck {
  if (previousAuc === null || !(previousAuc > 0)) return { previousAuc, currentAuc, relativeDrop: null, flagged: false, message: null };
  const relativeDrop = (previousAuc - currentAuc) / previousAuc;
  const flagged = relativeDrop > maxRelativeDrop;
  return {
    previousAuc, currentAuc, relativeDrop, flagged,
    message: flagged
      ? `model drift: test AUC fell from ${previousAuc.toFixed(4)} to ${currentAuc.toFixed(4)} (−${(relativeDrop * 100).toFixed(1)} %, more than vars.drift_max_auc_drop = ${maxRelativeDrop}); retrain and review the features and the journey data before relying on this run's ML credit`
      : null,
  };
}

/** A measured-incrementality result (geo holdout, conversion lift): one channel, one period. */
export interface ExperimentResult {
  channel: string;
  /** YYYY-MM-DD, inclusive. */
  periodStart: string;
  periodEnd: string;
  incrementalConversions: number;
}

/** A media-mix model's share of incremental conversions for a channel (a fraction in [0, 1]). */
export interface MmmShare {
  channel: string;
  share: number;
}

type CalibrationSource = "experiment" | "mmm" | "none";

interface CalibratedCredit {
  channel: string;
  attributedConversions: number;
  factor: number;
  calibratedConversions: number;
  source: CalibrationSource;
}

interface CalibrationResult {
  rows: CalibratedCredit[];
  /** Factors from experiments and from the MMM per channel, whether applied or not (for the run's history). */
  experimentFactors: Map<string, number>;
  mmmFactors: Map<string, number>;
  warnings: string[];
}

/**
 * Calibration factors and calibrated credit per channel.
 * - Experiments: factor_c = Σ_e measured_e / Σ_e attributed_c(period_e) over the channel's experiments,
 *   attributed_c(period) = the channel's daily credit summed over the inclusive period (ratio of sums, so
 *   longer experiments weigh more).
 * - MMM: factor_c = share_c × A / attributed_c, with A = Σ attributed over all channels (the MMM says which
 *   share of the incremental conversions the channel drives; applied to the attributed total). Shares are
 *   used as given (they need not add up to 1: an MMM's baseline is nobody's credit).
 * - Applied: the experiment factor when the channel has one, else the MMM factor, else 1 ("none").
 *   calibrated = attributed × factor.
 * A factor that cannot be computed (no attributed credit in the period / at all) is skipped with a warning.
 * @throws ModelInputError for negative measurements, shares outside [0, 1], periods that end before they start.
 */
export function calibrateCredit(totals: readonly ChannelCredit[], daily: readonly DailyCredit[], experiments: readonly ExperimentResult[], mmm: readonly MmmShare[]): CalibrationResult {
  const warnings: string[] = [];
  experiments.forEach((e, i) => {
    if (!(Number.isFinite(e.incrementalConversions) && e.incrementalConversions >= 0)) {
      throw new ModelInputError(`incrementality_experiments row ${i + 1} (${e.channel}): incremental_conversions must be a number ≥ 0, got ${e.incrementalConversions}`);
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(e.periodStart) || !/^\d{4}-\d{2}-\d{2}$/.test(e.periodEnd) || e.periodEnd < e.periodStart) {
      throw new ModelInputError(`incrementality_experiments row ${i + 1} (${e.channel}): period ${e.periodStart} … ${e.periodEnd} is not a valid date range (period_end must not be before period_start)`);
    }
  });
  mmm.forEach((m, i) => {
    if (!(m.share >= 0 && m.share <= 1)) throw new ModelInputError(`mmm_channel_shares row ${i + 1} (${m.channel}): share must be a fraction in [0, 1], got ${m.share}`);
  });
  const attributed = new Map(totals.map((t) => [t.channel, t.conversions]));
  const allAttributed = neumaierAccumulator();
  for (const t of totals) allAttributed.add(t.conversions);
  const A = allAttributed.value();

  const experimentFactors = new Map<string, number>();
  const byChannel = new Map<string, ExperimentResult[]>();
  for (const e of experiments) byChannel.set(e.channel, [...(byChannel.get(e.channel) ?? []), e]);
  for (const channel of [...byChannel.keys()].sort(compareStrings)) {
    const exps = byChannel.get(channel)!;
    const measured = neumaierAccumulator();
    const attr = neumaierAccumulator();
    for (const e of exps) {
      measured.add(e.incrementalConversions);
      for (const d of daily) if (d.channel === channel && d.date >= e.periodStart && d.date <= e.periodEnd) attr.add(d.conversions);
    }
    if (attr.value() > 0) experimentFactors.set(channel, measured.value() / attr.value());
    else warnings.push(`incrementality_experiments: channel "${channel}" has no ML credit in its experiment period(s); its experiment cannot calibrate anything`);
  }
  const mmmFactors = new Map<string, number>();
  const seenMmm = new Set<string>();
  for (const m of mmm) {
    if (seenMmm.has(m.channel)) throw new ModelInputError(`mmm_channel_shares: channel "${m.channel}" appears twice; give one share per channel`);
    seenMmm.add(m.channel);
    const a = attributed.get(m.channel) ?? 0;
    if (a > 0) mmmFactors.set(m.channel, (m.share * A) / a);
    else warnings.push(`mmm_channel_shares: channel "${m.channel}" has no ML credit; its MMM share cannot calibrate anything`);
  }
  const rows = [...totals]
    .sort((a, b) => compareStrings(a.channel, b.channel))
    .map((t): CalibratedCredit => {
      const e = experimentFactors.get(t.channel);
      const m = mmmFactors.get(t.channel);
      const [factor, source]: [number, CalibrationSource] = e !== undefined ? [e, "experiment"] : m !== undefined ? [m, "mmm"] : [1, "none"];
      return { channel: t.channel, attributedConversions: t.conversions, factor, calibratedConversions: t.conversions * factor, source };
    });
  return { rows, experimentFactors, mmmFactors, warnings };
}
