/**
 * Scoring leads with a trained model: calibrated probability, 0–100 score, segment and the top
 * TreeSHAP factors. Pure (the caller passes the clock).
 */
import { encodeRows, columnSources, describeValue } from "../models/encoding.ts";
import { applyCalibrator } from "../models/calibration.ts";
import { stagedMargins } from "../models/xgboost/index.ts";
import { onAllCores, type ForestTeamOptions } from "../models/xgboost/forest-team.ts";
import type { LoadedLeadModel } from "./artifact.ts";
import type { LeadRecord } from "./dataset.ts";

interface KeyFactor {
  feature: string;
  contribution: number;
  direction: "up" | "down";
}

interface LeadScore {
  lead_id: string;
  score: number;
  probability: number;
  model_version: string;
  scored_at: Date;
  key_factors: KeyFactor[];
  segment: "hot" | "warm" | "cold";
  score_confidence: number;
}

/**
 * Score confidence from staged trees: the calibrated probability of the boosted model cut after 50 %,
 * 60 %, …, 100 % of its trees (six staged ensembles, the same calibrator), and
 * confidence = 1 − (max − min) of those six probabilities. A lead whose score the second half of the
 * boosting still moved (its evidence pulls different trees different ways, or it sits where the
 * training data were thin) gets a lower value; 1 = settled. A stability measure, not a confidence
 * interval (no resampling: bootstrap refits would multiply the training time).
 * Complexity O(rows × trees × depth) per stage.
 */
function stagedConfidence(model: LoadedLeadModel, staged: readonly Float64Array[], nRows: number): Float64Array {
  const out = new Float64Array(nRows).fill(1);
  if (model.booster.numTrees < 2 || nRows === 0) return out;
  const lo = new Float64Array(nRows).fill(Infinity);
  const hi = new Float64Array(nRows).fill(-Infinity);
  for (const m of staged) {
    const p = applyCalibrator(model.artifact.calibrator, m);
    for (let r = 0; r < nRows; r++) { lo[r] = Math.min(lo[r]!, p[r]!); hi[r] = Math.max(hi[r]!, p[r]!); }
  }
  for (let r = 0; r < nRows; r++) out[r] = 1 - (hi[r]! - lo[r]!);
  return out;
}

/** The staged ensembles' tree counts: 50 %, 60 %, …, 100 % of the trees (the last is the whole model). */
function confidenceStages(numTrees: number): number[] {
  return [...new Set([5, 6, 7, 8, 9, 10].map((k) => Math.max(1, Math.round((numTrees * k) / 10))))];
}

/** 'hot' at or above the cut-off score, 'warm' at or above half of it, else 'cold'. */
export function segmentOf(score: number, cutoff: number): LeadScore["segment"] {
  return score >= cutoff ? "hot" : score >= cutoff / 2 ? "warm" : "cold";
}

/** Rows scored at once: the encoded rows, staged margins and TreeSHAP values of one batch are all that is held. */
export const SCORE_BATCH_ROWS = 8192;

/**
 * Score rows. Key factors: TreeSHAP contributions on the log-odds scale (before calibration, which is
 * monotone and so never reverses a direction), one-hot columns summed per source feature, the
 * `topK` largest |contribution| with a non-zero value, strongest first (ties by name).
 * Rows are scored in batches of `batchRows` (each row's score depends on that row alone), so memory
 * beyond the output is O(batchRows × columns), not O(rows × columns).
 * SHAP costs O(rows × trees × (nodes + leaves × depth)) from the forest's TreeSHAP tables (treeShap), less from their
 * route tables (tree-shap.ts RouteTable): for 100 trees of depth 6 and 30 columns ≈ 4,800 rows/s walked, ≈ 9,800 by
 * route, in one thread (≈ 700 with the recursive algorithm); 789 trees of depth 3 and 84 columns ≈ 6,600 rows/s.
 */
export function scoreLeads(model: LoadedLeadModel, records: readonly LeadRecord[], scoredAt: Date, scoreCutoff: number, topK = 5, batchRows = SCORE_BATCH_ROWS): LeadScore[] {
  const out: LeadScore[] = new Array(records.length);
  for (const start of batchStarts(records.length, batchRows)) {
    const batch = records.slice(start, start + batchRows);
    const X = encodeRows(model.artifact.encoder, batch.map((r) => r.row));
    scoreEncoded(model, batch, X, model.booster.shap(X), scoredAt, scoreCutoff, topK).forEach((x, k) => (out[start + k] = x));
  }
  return out;
}

/**
 * scoreLeads with the TreeSHAP values computed on every core (a ForestTeam, forest-team.ts) when the rows are many
 * enough to be worth the workers; the same scores and factors (each row's values depend on that row alone). At 10M
 * demo events: 95,546 open leads.
 */
export async function scoreLeadsOnAllCores(
  model: LoadedLeadModel, records: readonly LeadRecord[], scoredAt: Date, scoreCutoff: number, topK = 5, batchRows = SCORE_BATCH_ROWS,
  parallel: Pick<ForestTeamOptions, "threads" | "minWork"> = {},
): Promise<LeadScore[]> {
  return onAllCores(model.booster, () => scoreLeads(model, records, scoredAt, scoreCutoff, topK, batchRows), { ...parallel, rows: records.length });
}

/** Where each batch of `batchRows` rows begins (the last may be shorter). */
function batchStarts(rows: number, batchRows: number): number[] {
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new RangeError(`scoreLeads: batchRows must be a positive integer, got ${batchRows}`);
  return Array.from({ length: Math.ceil(rows / batchRows) }, (_, k) => k * batchRows);
}

/** Scores of a batch whose rows are encoded (X) and explained (TreeSHAP values `shap`, [rows × (columns + 1)]). */
function scoreEncoded(model: LoadedLeadModel, records: readonly LeadRecord[], X: Float32Array, shap: Float64Array, scoredAt: Date, scoreCutoff: number, topK: number): LeadScore[] {
  const { artifact, booster } = model;
  const enc = artifact.encoder;
  // Every staged ensemble's margins in one pass over the trees; the last stage is the whole model's margin.
  const staged = booster.numTrees > 0
    ? stagedMargins(booster.forest, X, records.length, booster.featureNames.length, confidenceStages(booster.numTrees), { minusOneIsMissing: booster.meta.minusOneIsMissing })
    : [booster.predictMargin(X)];
  const margins = staged[staged.length - 1]!;
  const probs = applyCalibrator(artifact.calibrator, margins);
  const confidence = stagedConfidence(model, staged, records.length);
  const C = enc.columns.length;
  const F = enc.features.length;
  const sources = columnSources(enc);
  const per = new Float64Array(F);
  return records.map((rec, r) => {
    per.fill(0);
    for (let j = 0; j < C; j++) per[sources[j]!] += shap[r * (C + 1) + j]!;
    const factors = Array.from({ length: F }, (_, f) => f)
      .filter((f) => per[f] !== 0)
      .sort((a, b) => Math.abs(per[b]!) - Math.abs(per[a]!) || (enc.features[a]!.name < enc.features[b]!.name ? -1 : 1))
      .slice(0, topK)
      .map((f): KeyFactor => ({
        feature: `${enc.features[f]!.name}=${describeValue(enc, f, rec.row)}`,
        contribution: per[f]!,
        direction: per[f]! > 0 ? "up" : "down",
      }));
    const p = probs[r]!;
    const score = Math.round(100 * p);
    return {
      lead_id: rec.leadId, score, probability: p, model_version: artifact.modelVersion, scored_at: scoredAt,
      key_factors: factors, segment: segmentOf(score, scoreCutoff), score_confidence: confidence[r]!,
    };
  });
}
