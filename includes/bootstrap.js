/**
 * SQL of the Poisson bootstrap of identity chains, for the credit models written in SQL over sessions
 * (excitation_linear, self_controlled: definitions/attribution/sql_credit_replicates.sqlx). Each replicate gives
 * every chain a weight drawn from Poisson(1) (Hanley & MacGibbon 2006; Chamandy et al. 2012: for many chains, the
 * same as resampling chains with replacement), so a replicate's estimate is the model's formula on weighted sums
 * of per-chain statistics.
 *
 * The draw is a function of (chain, replicate), not of a random stream: a uniform from FARM_FINGERPRINT of
 * "<chain_key>#<replicate>" (its low 48 bits / 2^48), mapped to Poisson(1) by the inverse CDF. So a re-run on the
 * same data draws the same weights, on either engine, whatever order the rows come in. Replicate 0 is the data
 * itself (every weight 1): the point estimate the replicates deviate from.
 */

/** Largest Poisson(1) count the inverse CDF returns: P(X > 14) ≈ 1.5e-13, below the uniform's 2^-48 steps' use. */
const MAX_POISSON_ONE = 14;

/**
 * P(X ≤ k) for X ~ Poisson(1), k = 0 … MAX_POISSON_ONE − 1: e^-1 Σ_{j ≤ k} 1/j!, as 17-digit literals (the same
 * double on both engines).
 */
function poissonOneCdf() {
  const out = [];
  let term = Math.exp(-1);
  let sum = 0;
  for (let k = 0; k < MAX_POISSON_ONE; k++) {
    sum += term;
    out.push(sum.toPrecision(17));
    term /= k + 1;
  }
  return out;
}

/**
 * The hash uniform of a chain in a replicate: u = (FARM_FINGERPRINT(key || '#' || replicate) & (2^48 − 1)) / 2^48,
 * in [0, 1). `keySql` a STRING expression (the chain key), `replicateSql` an INT64 expression.
 */
function hashUniform(keySql, replicateSql) {
  return `(FARM_FINGERPRINT(CONCAT(${keySql}, '#', CAST(${replicateSql} AS STRING))) & 281474976710655) / 281474976710656.0`;
}

/**
 * The chain's weight in a replicate from its hash uniform: 1 in replicate 0 (the data), else Poisson(1) by the
 * inverse CDF, the smallest k with u < P(X ≤ k).
 */
function poissonWeight(uniformSql, replicateSql) {
  const steps = poissonOneCdf().map((p, k) => `WHEN ${uniformSql} < ${p} THEN ${k}`).join(" ");
  return `IF(${replicateSql} = 0, 1, CASE ${steps} ELSE ${MAX_POISSON_ONE} END)`;
}

/** The replicate numbers 0 (the data) … B (vars.credit_bootstrap_replicates), as an array to UNNEST. */
function replicateNumbers() {
  return `GENERATE_ARRAY(0, ${settings.creditBootstrapReplicates})`;
}

module.exports = { hashUniform, poissonWeight, replicateNumbers, poissonOneCdf, MAX_POISSON_ONE };
