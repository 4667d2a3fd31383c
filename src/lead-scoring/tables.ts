/** Output table schemas of the lead-scoring job and the CRM push (the contract BI and the report read). */
import type { ColumnSchema } from "../engines/engine.ts";

export const LEAD_SCORES_SCHEMA: ColumnSchema[] = [
  { name: "lead_id", type: "STRING" },
  { name: "score", type: "INT64", description: "round(100 × probability), 0–100" },
  { name: "probability", type: "FLOAT64", description: "calibrated probability that the lead converts" },
  { name: "model_version", type: "STRING" },
  { name: "scored_at", type: "TIMESTAMP" },
  {
    name: "key_factors", type: "RECORD", mode: "REPEATED",
    description: "top 5 features by |TreeSHAP contribution| (log-odds, before calibration), strongest first",
    fields: [
      { name: "feature", type: "STRING", description: "feature=value as the model saw it" },
      { name: "contribution", type: "FLOAT64", description: "TreeSHAP contribution to the log-odds (one-hot columns summed per feature)" },
      { name: "direction", type: "STRING", description: "'up' raises the score, 'down' lowers it" },
    ],
  },
  { name: "segment", type: "STRING", description: "'hot' (score ≥ lead_score_cutoff), 'warm' (≥ half of it), 'cold'" },
];

export const LEAD_METRICS_SCHEMA: ColumnSchema[] = [
  { name: "run_id", type: "STRING" },
  { name: "model", type: "STRING" },
  { name: "metric", type: "STRING" },
  { name: "value", type: "FLOAT64" },
  { name: "measured_at", type: "TIMESTAMP" },
];

export const LEAD_CURVES_SCHEMA: ColumnSchema[] = [
  { name: "run_id", type: "STRING" },
  { name: "model", type: "STRING" },
  { name: "curve", type: "STRING", description: "'roc' (x FPR, y TPR), 'pr' (x recall, y precision), 'calibration' (x mean predicted, y observed rate, n leads), 'lift' (x decile, y lift, n leads); test window" },
  { name: "x", type: "FLOAT64" },
  { name: "y", type: "FLOAT64" },
  { name: "n", type: "FLOAT64" },
];

export const LEAD_IMPORTANCE_SCHEMA: ColumnSchema[] = [
  { name: "run_id", type: "STRING" },
  { name: "model", type: "STRING" },
  { name: "feature", type: "STRING", description: "source feature (one-hot columns summed)" },
  { name: "importance", type: "FLOAT64" },
  { name: "kind", type: "STRING", description: "'total_gain' (XGBoost) or 'mean_abs_shap' (test window, log-odds)" },
];

export const LEAD_MONITORING_SCHEMA: ColumnSchema[] = [
  { name: "run_id", type: "STRING" },
  { name: "feature", type: "STRING", description: "source feature, or 'score' for the calibrated probability" },
  { name: "psi", type: "FLOAT64", description: "population stability index vs the training baseline (bins fixed at training)" },
  { name: "ks", type: "FLOAT64", description: "two-sample KS statistic vs the baseline sample (NULL for categorical features)" },
  { name: "requires_retraining", type: "BOOL", description: "the run's decision (same on every row of a run)" },
  { name: "reason", type: "STRING", description: "why this row triggers retraining, or what was measured" },
];

export const MODEL_NAME = "lead_scoring";
