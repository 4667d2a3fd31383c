/**
 * The saved lead-scoring model: encoder, booster, calibrator and the training baseline for monitoring,
 * as one tagged JSON document (artifact `models/lead-scoring/<model_version>.json`, and
 * `models/lead-scoring/current.json` for the model in use).
 */
import { createHash } from "node:crypto";
import { loadModel, type BoostedModel, type BoostedModelJSON } from "../models/xgboost/index.ts";
import { loadEncoder, type Encoder } from "../models/encoding.ts";
import type { Calibrator } from "../models/calibration.ts";
import type { PsiBins } from "../models/drift.ts";
import { UserError } from "../util/errors.ts";

export const LEAD_MODEL_JSON_TYPE = "funnelcredit.lead_scoring";
export const CURRENT_MODEL_ARTIFACT = "models/lead-scoring/current.json";

export interface FeatureBaseline {
  /** Source feature name (before one-hot encoding). */
  name: string;
  kind: "numeric" | "boolean" | "categorical";
  bins: PsiBins;
  /** Up to BASELINE_SAMPLE values of the baseline window (numeric and boolean only), for the KS test. */
  sample?: number[];
}

export interface LeadModelArtifact {
  type: typeof LEAD_MODEL_JSON_TYPE;
  version: 1;
  modelVersion: string;
  trainedAt: string;
  /** Run that trained it. */
  runId: string;
  split: "time" | "random";
  encoder: Encoder;
  booster: BoostedModelJSON;
  calibrator: Calibrator;
  /**
   * Baseline for monitoring: the validation window (out-of-sample for the booster). Scores and feature
   * distributions of later leads are compared with it; bins were fixed here.
   */
  baseline: {
    /** Newest created_at in the baseline window (ISO), or null without dates. */
    through: string | null;
    /** Newest created_at of any lead used in training (ISO): later leads are "new since training". */
    trainedThrough: string | null;
    rows: number;
    features: FeatureBaseline[];
    score: { bins: PsiBins; sample: number[] };
    /** ROC AUC on the validation window, the reference for the AUC-drop check. */
    validationAuc: number;
    /** The same per segment level (vars.lead_monitor_segments); absent in models saved before segments were monitored. */
    segments?: SegmentBaseline[];
  };
  /** Test-window figures of the training run (for the report and the README). */
  metrics: Record<string, number>;
}

const BASELINE_SAMPLE = 1000;

/** The calibrated scores of one segment level in the baseline window. */
export interface SegmentBaseline {
  column: string;
  level: string;
  rows: number;
  bins: PsiBins;
  sample: number[];
  /** Validation AUC within the segment; null with fewer than 10 leads of either class. */
  auc: number | null;
}

/** A lead's level of a segment column as text (null when missing). */
export function segmentLevel(row: Record<string, unknown>, column: string): string | null {
  const v = row[column];
  return v === null || v === undefined || v === "" ? null : String(v);
}

/** Deterministic version id: a hash of what determines the scores. */
export function modelVersionOf(encoder: Encoder, booster: BoostedModelJSON, calibrator: Calibrator): string {
  const h = createHash("sha256").update(JSON.stringify(encoder)).update(booster.bytes).update(JSON.stringify(calibrator)).digest("hex");
  return `lead_scoring@${h.slice(0, 12)}`;
}

export interface LoadedLeadModel {
  artifact: LeadModelArtifact;
  booster: BoostedModel;
}

/** Parse and check a saved artifact. @throws UserError naming what is wrong. */
export function loadLeadModel(json: string | Uint8Array): LoadedLeadModel {
  const text = typeof json === "string" ? json : Buffer.from(json).toString("utf8");
  let o: LeadModelArtifact;
  try {
    o = JSON.parse(text) as LeadModelArtifact;
  } catch (e) {
    throw new UserError(`the saved lead-scoring model is not JSON (${(e as Error).message}); retrain with vars.lead_retrain=always`);
  }
  if (o?.type !== LEAD_MODEL_JSON_TYPE || o.version !== 1) {
    throw new UserError(`the saved lead-scoring model has type ${JSON.stringify(o?.type)} version ${JSON.stringify(o?.version)}; retrain with vars.lead_retrain=always`);
  }
  loadEncoder(o.encoder);
  return { artifact: o, booster: loadModel(o.booster) };
}

/**
 * Every `step`-th non-missing value so that at most `max` remain (deterministic subsample). Missing
 * values are dropped: JSON has no NaN, and KS ignores them anyway (PSI has its own missing bin).
 */
export function thin(values: ArrayLike<number>, max = BASELINE_SAMPLE): number[] {
  const present = Array.from(values).filter((v) => Number.isFinite(v));
  const step = Math.max(1, Math.ceil(present.length / max));
  const out: number[] = [];
  for (let i = 0; i < present.length; i += step) out.push(present[i]!);
  return out;
}
