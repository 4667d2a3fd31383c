/**
 * Champion and challenger: a retrained lead-scoring model replaces the one in use only when it is at
 * least as good on the same newest leads (ROC AUC and log loss, within vars.lead_challenger_tolerance).
 * Pure: the job reads, writes and keeps the artifacts.
 */
import { encodeRows } from "../models/encoding.ts";
import { applyCalibrator } from "../models/calibration.ts";
import { rocAuc, logLoss } from "../models/metrics.ts";
import type { LoadedLeadModel } from "./artifact.ts";
import type { LeadRecord } from "./dataset.ts";

/** Calibrated probabilities of `model` for `records` (each model reads the rows with its own encoder). */
function calibratedProbabilities(model: LoadedLeadModel, records: readonly LeadRecord[]): Float64Array {
  const X = encodeRows(model.artifact.encoder, records.map((r) => r.row));
  return Float64Array.from(applyCalibrator(model.artifact.calibrator, model.booster.predictMargin(X)));
}

interface WindowFigures {
  modelVersion: string;
  rocAuc: number;
  logLoss: number;
}

interface ComparisonWindow {
  records: LeadRecord[];
  labels: number[];
  /** False when the window includes leads the champion was fitted or calibrated on (said in `note`). */
  outOfSampleForChampion: boolean;
  note: string;
}

export interface ChallengerDecision {
  promote: boolean;
  /** One sentence: the figures of both models, the window and why. */
  reason: string;
  window: { leads: number; converted: number; outOfSampleForChampion: boolean };
  champion: WindowFigures;
  challenger: WindowFigures;
}

/**
 * The leads both models are judged on: the challenger's test window (the newest labelled leads, which
 * the challenger never saw), without the leads the champion was fitted or calibrated on (created up
 * to the end of its validation window, `baseline.through`). When that leaves fewer than `minClass`
 * converted or unconverted leads (or the champion was trained with the random split, so which leads
 * it saw is not known), the whole test window is used and the note says the champion may have seen
 * some of it — a comparison that favours the champion, the safe side.
 */
export function comparisonWindow(champion: LoadedLeadModel, test: readonly LeadRecord[], testLabels: readonly number[], minClass = 10): ComparisonWindow {
  const through = champion.artifact.split === "time" ? champion.artifact.baseline.through : null;
  const whole = (why: string): ComparisonWindow => ({ records: [...test], labels: [...testLabels], outOfSampleForChampion: false, note: `the challenger's whole test window (${why})` });
  if (through === null) return whole(`the champion was trained with the random split; it may have seen some of these leads`);
  const t = Date.parse(through);
  const keep = test.flatMap((r, i) => (r.createdAt !== null && r.createdAt > t ? [i] : []));
  const pos = keep.filter((i) => testLabels[i] === 1).length;
  if (pos < minClass || keep.length - pos < minClass) {
    return whole(`only ${pos} converted and ${keep.length - pos} unconverted of its leads are newer than the champion's validation window (need ${minClass} of each); the champion may have seen the others`);
  }
  if (keep.length === test.length) return { records: [...test], labels: [...testLabels], outOfSampleForChampion: true, note: "the challenger's test window, newer than anything the champion was fitted on" };
  return {
    records: keep.map((i) => test[i]!), labels: keep.map((i) => testLabels[i]!), outOfSampleForChampion: true,
    note: `the ${keep.length} leads of the challenger's test window newer than the champion's validation window`,
  };
}

/**
 * Promote the challenger iff AUC_challenger ≥ AUC_champion − tolerance and
 * logLoss_challenger ≤ logLoss_champion + tolerance, both measured on `window` (calibrated
 * probabilities). Ties promote: a retrained model that is as good is fresher.
 */
export function decideChallenger(champion: LoadedLeadModel, challenger: LoadedLeadModel, window: ComparisonWindow, tolerance: number): ChallengerDecision {
  const figures = (m: LoadedLeadModel): WindowFigures => {
    const p = calibratedProbabilities(m, window.records);
    return { modelVersion: m.artifact.modelVersion, rocAuc: rocAuc(p, window.labels), logLoss: logLoss(p, window.labels) };
  };
  const ch = figures(champion);
  const cc = figures(challenger);
  const converted = window.labels.filter((y) => y === 1).length;
  const aucOk = cc.rocAuc >= ch.rocAuc - tolerance;
  const llOk = cc.logLoss <= ch.logLoss + tolerance;
  const f = (x: number): string => x.toFixed(4);
  const figuresText = `challenger ${cc.modelVersion} AUC ${f(cc.rocAuc)}, log loss ${f(cc.logLoss)}; champion ${ch.modelVersion} AUC ${f(ch.rocAuc)}, log loss ${f(ch.logLoss)}; on ${window.records.length} leads (${converted} converted), ${window.note}; lead_challenger_tolerance ${tolerance}`;
  const worse = [
    ...(aucOk ? [] : [`its AUC is ${f(ch.rocAuc - cc.rocAuc)} lower`]),
    ...(llOk ? [] : [`its log loss is ${f(cc.logLoss - ch.logLoss)} higher`]),
  ];
  const promote = worse.length === 0;
  return {
    promote,
    reason: promote ? `promoted: at least as good as the champion (${figuresText})` : `kept the champion: the challenger is worse (${worse.join(" and ")}; ${figuresText})`,
    window: { leads: window.records.length, converted, outOfSampleForChampion: window.outOfSampleForChampion },
    champion: ch,
    challenger: cc,
  };
}
