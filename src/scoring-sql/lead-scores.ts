/**
 * Lead scores in SQL: the saved lead-scoring model (encoder, booster, calibrator; src/lead-scoring/
 * artifact.ts) compiled into the statements that build `lead_scores_sql` from `lead_features`: the same
 * calibrated probability, 0–100 score and segment as `scoreLeads`, for every lead. Pure.
 */
import type { LoadedLeadModel } from "../lead-scoring/artifact.ts";
import { sqlString } from "../util/sql.ts";
import { calibratorSql } from "./calibration.ts";
import { ensembleSql, inputName, type EnsembleSql } from "./ensemble.ts";
import { cleanedFeatureSql, encodedFeatureSql } from "./lead-encoder.ts";
import { BIGQUERY_SQL_LIMITS, type SqlLimits } from "./limits.ts";
import { float64Literal } from "./numbers.ts";

interface LeadScoresSqlOptions {
  /** Backticked `lead_features`. */
  source: string;
  /** Backticked output table. */
  target: string;
  /** vars.lead_score_cutoff: score at or above which a lead is 'hot' (half of it: 'warm'). */
  scoreCutoff: number;
  /** Columns the source has (default: every feature's); a feature whose column is absent scores as missing. */
  columns?: readonly string[];
  limits?: SqlLimits;
}

/** @throws ScoringSqlTooLargeError (limits.ts) when the model cannot fit BigQuery's limits. */
export function leadScoresSql(model: LoadedLeadModel, opts: LeadScoresSqlOptions): EnsembleSql {
  const { artifact, booster } = model;
  if (booster.meta.minusOneIsMissing) throw new Error("lead scores in SQL: models trained with minusOneIsMissing are not supported");
  const enc = artifact.encoder;
  const cut = float64Literal(opts.scoreCutoff);
  const half = float64Literal(opts.scoreCutoff / 2);
  return ensembleSql({
    grain: `Grain: one row per lead (lead_id) of lead_features, scored in SQL by ${artifact.modelVersion}.`,
    source: opts.source,
    keys: ["lead_id"],
    inputs: cleanedFeatureSql(enc, opts.columns ? (c) => opts.columns!.includes(c) : undefined),
    features: encodedFeatureSql(enc, inputName),
    forest: booster.forest,
    probability: (m) => calibratorSql(artifact.calibrator, m),
    // score = round(100 × p) as Math.round (p ≥ 0, so half away from zero is the same); segment as segmentOf.
    output: [
      "lead_id",
      "CAST(ROUND(100 * probability) AS INT64) AS score",
      "probability",
      `CASE WHEN ROUND(100 * probability) >= ${cut} THEN 'hot' WHEN ROUND(100 * probability) >= ${half} THEN 'warm' ELSE 'cold' END AS segment`,
      "margin",
      `${sqlString(artifact.modelVersion)} AS model_version`,
    ],
  }, opts.target, opts.limits ?? BIGQUERY_SQL_LIMITS);
}
