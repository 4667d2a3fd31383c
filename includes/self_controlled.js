/**
 * The self_controlled model's estimate from per-channel counts, written once for the published model
 * (definitions/attribution/self_controlled_channel_credit.sqlx, replicate 0 only) and its bootstrap replicates
 * (definitions/attribution/channel_share_replicates.sqlx): every step is per `replicate`.
 */

/** The channel's sessions come when intent is already high (channel_excitation.incoming_z beyond the cut-off). */
function isResponsive(incomingZSql) {
  return `IFNULL(${incomingZSql}, 0) > ${settings.selfControlledResponsiveZ}`;
}

/**
 * CTEs (comma-separated, no leading WITH) from `source`, a CTE with one row per (replicate, channel) and the columns
 * replicate, channel, is_responsive, window_conversions, expected_conversions, linear_conversions (others pass
 * through). Ends in `estimates` (source's columns + excess_conversions, prior_conversions, estimate) and
 * `estimate_totals` (replicate, estimate_total). Each kept channel's excess is shrunk toward its linear share of the
 * kept excess (empirical Bayes, James–Stein): weight τ² / (τ² + its variance), the variance ≈ its window conversions
 * (a Poisson count), τ² the spread between channels beyond that noise (method of moments, ≥ 0).
 */
function estimateCtes(source) {
  return `
channels_with_excess AS (
  SELECT *, window_conversions - expected_conversions AS excess_conversions
  FROM ${source}
),

excess_totals AS (
  SELECT
    replicate,
    SUM(IF(is_responsive, 0, GREATEST(excess_conversions, 0))) AS kept_excess,
    SUM(IF(is_responsive, 0, linear_conversions)) AS kept_linear
  FROM channels_with_excess
  GROUP BY replicate
),

channels_with_prior AS (
  SELECT
    c.*,
    SAFE_DIVIDE(t.kept_excess * c.linear_conversions, t.kept_linear) AS prior_conversions
  FROM channels_with_excess AS c
  JOIN excess_totals AS t USING (replicate)
),

spread AS (
  SELECT replicate, GREATEST(0, AVG(POW(excess_conversions - prior_conversions, 2) - window_conversions)) AS tau2
  FROM channels_with_prior
  WHERE NOT is_responsive
  GROUP BY replicate
),

estimates AS (
  SELECT
    c.*,
    IF(c.is_responsive, 0, GREATEST(0, IF(sp.tau2 + c.window_conversions > 0,
      (sp.tau2 * c.excess_conversions + c.window_conversions * c.prior_conversions) / (sp.tau2 + c.window_conversions),
      c.prior_conversions))) AS estimate
  FROM channels_with_prior AS c
  LEFT JOIN spread AS sp USING (replicate)
),

estimate_totals AS (
  SELECT replicate, SUM(estimate) AS estimate_total
  FROM estimates
  GROUP BY replicate
)`;
}

module.exports = { isResponsive, estimateCtes };
