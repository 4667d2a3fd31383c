/**
 * Journey conversion probabilities in SQL: the ML attribution model (booster + journey encoding,
 * src/ml-attribution/features.ts, saved as models/ml-attribution/<run>.json) compiled into statements
 * that score every row of `ml_journey_features` in the warehouse, equal to `model.predict` of the
 * encoded row. Pure.
 *
 * The encoding in SQL: `channel_stats` is split into its entries (one per channel), each entry's name
 * decoded as `decodePathChannel` does and its five numbers read; per journey row the entries are ranked
 * by last touch (position; ties by channel name, as the stable sort of the name-sorted entries) and by
 * first touch (the first channel), then pivoted into the model's columns: has/touches/recency/position/
 * first/last per known channel, path_length, distinct_channels, journey_age (channels unknown to the
 * model still count in these three) and the one-hot user properties.
 */
import type { BoostedModel } from "../models/xgboost/index.ts";
import type { FeatureEncoding } from "../ml-attribution/features.ts";
import { sqlString } from "../util/sql.ts";
import { sigmoidSql } from "./calibration.ts";
import { ensembleSql, type EnsembleSql } from "./ensemble.ts";
import { BIGQUERY_SQL_LIMITS, type SqlLimits } from "./limits.ts";

interface JourneyScoresSqlOptions {
  /** Backticked `ml_journey_features`. */
  source: string;
  /** Backticked output table. */
  target: string;
  /** The run that fitted the model (the model_run_id column). */
  modelRunId: string;
  limits?: SqlLimits;
}

const KEY = ["journey_end_date", "channel_stats", "user_type", "device", "region", "engagement"];

/** The journey rows with their parsed, ranked channel entries pivoted into the model's columns, as a subquery. */
function encodedJourneysSql(enc: FeatureEncoding, source: string): { from: string; features: string[] } {
  const num = (k: number): string => `CAST(REGEXP_EXTRACT(entry, r'=${"[0-9]+,".repeat(k)}([0-9]+)${",[0-9]+".repeat(4 - k)}$') AS INT64)`;
  const keys = KEY.map((k) => `\`${k}\``).join(", ");
  const entries = `SELECT ${keys},
      REPLACE(REPLACE(REGEXP_EXTRACT(entry, r'^(.*)=[^=]*$'), '%3E', '>'), '%25', '%') AS channel,
      ${num(0)} AS touches, ${num(1)} AS first_rank, ${num(2)} AS last_rank, ${num(3)} AS recency_bucket, ${num(4)} AS first_touch_bucket
    FROM ${source} CROSS JOIN UNNEST(SPLIT(channel_stats, ' > ')) AS entry`;
  const ranked = `SELECT *,
      ROW_NUMBER() OVER (PARTITION BY ${keys} ORDER BY last_rank, channel) AS position,
      ROW_NUMBER() OVER (PARTITION BY ${keys} ORDER BY first_rank, last_rank, channel) AS first_order
    FROM (${entries})`;
  const cols: string[] = [];
  const names: string[] = [];
  enc.channels.forEach((c, k) => {
    const is = `channel = ${sqlString(c)}`;
    cols.push(
      `MAX(IF(${is}, 1, 0)) AS c${k}_has`, `SUM(IF(${is}, touches, 0)) AS c${k}_touches`, `MAX(IF(${is}, recency_bucket, NULL)) AS c${k}_recency`,
      `MAX(IF(${is}, position, NULL)) AS c${k}_position`, `MAX(IF(${is} AND first_order = 1, 1, 0)) AS c${k}_first`, `MAX(IF(${is} AND position = 1, 1, 0)) AS c${k}_last`,
    );
    for (const f of ["has", "touches", "recency", "position", "first", "last"]) names.push(`c${k}_${f}`);
  });
  cols.push("SUM(touches) AS path_length", "COUNT(*) AS distinct_channels", "MAX(first_touch_bucket) AS journey_age");
  names.push("path_length", "distinct_channels", "journey_age");
  const oneHot = (column: string, vocab: readonly string[]): void => {
    for (const v of vocab) names.push(`IF(${column} = ${sqlString(v)}, 1, 0)`);
  };
  const from = `(
    SELECT ${keys},
      ${cols.join(",\n      ")}
    FROM (${ranked})
    GROUP BY ${keys}
  )`;
  oneHot("user_type", enc.userTypes);
  oneHot("device", enc.devices);
  oneHot("region", enc.regions);
  oneHot("engagement", enc.engagements);
  return { from, features: names };
}

/** @throws ScoringSqlTooLargeError (limits.ts) when the model cannot fit BigQuery's limits. */
export function journeyScoresSql(model: BoostedModel, enc: FeatureEncoding, opts: JourneyScoresSqlOptions): EnsembleSql {
  if (model.meta.minusOneIsMissing) throw new Error("journey scores in SQL: models trained with minusOneIsMissing are not supported");
  if (enc.featureNames.length !== model.featureNames.length) throw new Error(`journey scores in SQL: the encoding has ${enc.featureNames.length} columns, the model ${model.featureNames.length}`);
  const { from, features } = encodedJourneysSql(enc, opts.source);
  return ensembleSql({
    grain: "Grain: one row per (journey_end_date, channel_stats, user_type, device, region, engagement) of ml_journey_features, with the conversion model's probability computed in SQL.",
    source: from,
    keys: KEY,
    // The pivoted columns are the inputs; each model feature is one of them as FLOAT64.
    inputs: features,
    features: features.map((_, i) => `CAST(input_${i} AS FLOAT64)`),
    forest: model.forest,
    probability: (m) => sigmoidSql(m),
    output: [...KEY.map((k) => `\`${k}\``), "probability AS conversion_probability", "margin", `${sqlString(opts.modelRunId)} AS model_run_id`],
  }, opts.target, opts.limits ?? BIGQUERY_SQL_LIMITS);
}
