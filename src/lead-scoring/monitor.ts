/**
 * Monitoring a lead-scoring model: PSI per feature and for the score against the training baseline
 * (bins fixed at training), KS statistics, and AUC on leads whose outcome became known since. Pure.
 */
import { encodeRows } from "../models/encoding.ts";
import { applyCalibrator } from "../models/calibration.ts";
import { psiOf, ksTwoSample } from "../models/drift.ts";
import { rocAuc } from "../models/metrics.ts";
import { segmentLevel, type LoadedLeadModel } from "./artifact.ts";
import type { LeadRecord } from "./dataset.ts";
import { featureCodes } from "./features.ts";

interface MonitoringRow {
  feature: string;
  /** null: all current leads; "column=level": the leads of one segment (vars.lead_monitor_segments). */
  segment: string | null;
  psi: number | null;
  ks: number | null;
  /** AUC on the leads with known outcomes (score rows; null when too few of either class). */
  auc: number | null;
  requires_retraining: boolean;
  reason: string;
}

export interface MonitoringResult {
  rows: MonitoringRow[];
  requiresRetraining: boolean;
  reasons: string[];
  /** AUC on leads with a known outcome in the current population (null when too few of either class). */
  auc: number | null;
  scorePsi: number | null;
  currentRows: number;
}

interface MonitorOptions {
  leadPsiMax: number;
  maxAucDrop: number;
  /** Fewer current leads than this: no comparison (reason says so). Default 30. */
  minRows?: number;
  /** Fewer labelled leads of either class than this: no AUC. Default 10. */
  minClassRows?: number;
}

/**
 * Which leads are "current" for a model: those created after its baseline window (for a model trained
 * with the time split, the test window and everything newer; otherwise leads newer than everything it
 * was trained on).
 */
export function currentPopulation(model: LoadedLeadModel, records: readonly LeadRecord[]): LeadRecord[] {
  const b = model.artifact.baseline;
  const through = b.through ?? b.trainedThrough;
  if (through === null) return [];
  const t = Date.parse(through);
  return records.filter((r) => r.createdAt !== null && r.createdAt > t);
}

/**
 * Compare `current` leads with the model's baseline.
 * Retraining is required when the score's PSI or any feature's PSI exceeds `leadPsiMax`, or when the AUC on
 * current leads with known outcomes is more than `maxAucDrop` below the validation AUC. KS is reported
 * (statistic in the table, p-value in the reason) but does not trigger retraining on its own: with
 * thousands of leads it flags shifts too small to matter.
 * `labels[i]` is the known outcome of current[i] (or null).
 */
export function monitorModel(model: LoadedLeadModel, current: readonly LeadRecord[], labels: readonly (0 | 1 | null)[], opts: MonitorOptions): MonitoringResult {
  const { artifact, booster } = model;
  const minRows = opts.minRows ?? 30;
  const n = current.length;
  if (n < minRows) {
    const reason = `only ${n} leads newer than the model's baseline window (need ${minRows}); nothing to compare yet`;
    return { rows: [{ feature: "score", segment: null, psi: null, ks: null, auc: null, requires_retraining: false, reason }], requiresRetraining: false, reasons: [], auc: null, scorePsi: null, currentRows: n };
  }
  const X = encodeRows(artifact.encoder, current.map((r) => r.row));
  const p = applyCalibrator(artifact.calibrator, booster.predictMargin(X));
  const reasons: string[] = [];
  const rows: MonitoringRow[] = [];

  const scorePsi = psiOf(artifact.baseline.score.bins, p);
  const scoreKs = ksTwoSample(artifact.baseline.score.sample, p);
  // AUC on current leads whose outcome is known.
  const known = labels.flatMap((y, i) => (y === null ? [] : [i]));
  const pos = known.filter((i) => labels[i] === 1).length;
  const minClass = opts.minClassRows ?? 10;
  let auc: number | null = null;
  let aucNote = `AUC not measured (${pos} converted and ${known.length - pos} unconverted leads with known outcomes; need ${minClass} of each)`;
  if (pos >= minClass && known.length - pos >= minClass) {
    auc = rocAuc(known.map((i) => p[i]!), known.map((i) => labels[i]!));
    const drop = artifact.baseline.validationAuc - auc;
    aucNote = `AUC ${auc.toFixed(3)} on ${known.length} leads with known outcomes vs ${artifact.baseline.validationAuc.toFixed(3)} at validation`;
    if (drop > opts.maxAucDrop) reasons.push(`AUC dropped by ${drop.toFixed(3)} (> drift_max_auc_drop ${opts.maxAucDrop}): ${aucNote}`);
  }
  const scoreTrigger = scorePsi > opts.leadPsiMax;
  if (scoreTrigger) reasons.push(`score PSI ${scorePsi.toFixed(3)} > lead_psi_max ${opts.leadPsiMax}`);

  artifact.baseline.features.forEach((fb, fi) => {
    const codes = featureCodes(artifact.encoder, X, n, fi);
    const v = psiOf(fb.bins, codes);
    const ks = fb.sample ? ksTwoSample(fb.sample, codes) : null;
    const trigger = v > opts.leadPsiMax;
    if (trigger) reasons.push(`${fb.name}: PSI ${v.toFixed(3)} > lead_psi_max ${opts.leadPsiMax}`);
    rows.push({
      feature: fb.name, segment: null, psi: v, ks: ks ? ks.statistic : null, auc: null, requires_retraining: false,
      reason: trigger ? `PSI ${v.toFixed(3)} > lead_psi_max ${opts.leadPsiMax}` : `stable (PSI ${v.toFixed(3)}${ks ? `, KS p ${ks.pValue.toPrecision(2)}` : ""})`,
    });
  });
  // Segments: each level's scores against its own baseline, and its AUC against its validation AUC.
  for (const sb of artifact.baseline.segments ?? []) {
    const idx = current.flatMap((r, i) => (segmentLevel(r.row, sb.column) === sb.level ? [i] : []));
    // Named in `feature` too, so readers of the older columns (the report) tell the segments apart.
    const name = `${sb.column}=${sb.level}`;
    if (idx.length < minRows) {
      rows.push({ feature: `score (${name})`, segment: name, psi: null, ks: null, auc: null, requires_retraining: false, reason: `only ${idx.length} current leads in the segment (need ${minRows})` });
      continue;
    }
    const ps = idx.map((i) => p[i]!);
    const v = psiOf(sb.bins, ps);
    const ks = ksTwoSample(sb.sample, ps);
    const knownIdx = idx.filter((i) => labels[i] !== null && labels[i] !== undefined);
    const segPos = knownIdx.filter((i) => labels[i] === 1).length;
    const segAuc = sb.auc !== null && segPos >= minClass && knownIdx.length - segPos >= minClass ? rocAuc(knownIdx.map((i) => p[i]!), knownIdx.map((i) => labels[i]!)) : null;
    const why: string[] = [];
    if (v > opts.leadPsiMax) why.push(`score PSI ${v.toFixed(3)} > lead_psi_max ${opts.leadPsiMax}`);
    if (segAuc !== null && sb.auc! - segAuc > opts.maxAucDrop) why.push(`AUC ${segAuc.toFixed(3)} is ${(sb.auc! - segAuc).toFixed(3)} below its validation AUC ${sb.auc!.toFixed(3)} (> drift_max_auc_drop ${opts.maxAucDrop})`);
    for (const w of why) reasons.push(`segment ${name}: ${w}`);
    rows.push({
      feature: `score (${name})`, segment: name, psi: v, ks: ks.statistic, auc: segAuc, requires_retraining: false,
      reason: why.length ? `segment drifted: ${why.join("; ")}` : `stable (${idx.length} leads, PSI ${v.toFixed(3)}, KS p ${ks.pValue.toPrecision(2)}${segAuc === null ? "" : `, AUC ${segAuc.toFixed(3)} vs ${sb.auc!.toFixed(3)}`})`,
    });
  }
  const requiresRetraining = reasons.length > 0;
  rows.unshift({
    feature: "score", segment: null, psi: scorePsi, ks: scoreKs.statistic, auc, requires_retraining: requiresRetraining,
    reason: `${requiresRetraining ? `retrain: ${reasons.join("; ")}` : "no retraining needed"} | ${n} current leads, score PSI ${scorePsi.toFixed(3)}, KS ${scoreKs.statistic.toFixed(3)} (p ${scoreKs.pValue.toPrecision(2)}); ${aucNote}`,
  });
  for (const r of rows) r.requires_retraining = requiresRetraining;
  return { rows, requiresRetraining, reasons, auc, scorePsi, currentRows: n };
}
