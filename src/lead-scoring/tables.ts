/** Output table schemas of the lead-scoring job and the CRM push (the contract BI and the report read); its metrics, curves and importance go to the shared model_* histories. */
import type { ColumnSchema } from "../engines/engine.ts";
import { tableSchema } from "../catalog/index.ts";

export const LEAD_SCORES_SCHEMA: ColumnSchema[] = tableSchema("lead_scores");

export const LEAD_METRICS_SCHEMA: ColumnSchema[] = tableSchema("model_metrics");

export const LEAD_CURVES_SCHEMA: ColumnSchema[] = tableSchema("model_curves");

export const LEAD_IMPORTANCE_SCHEMA: ColumnSchema[] = tableSchema("feature_importance");

export const LEAD_MONITORING_SCHEMA: ColumnSchema[] = tableSchema("lead_score_monitoring");

export const MODEL_NAME = "lead_scoring";
