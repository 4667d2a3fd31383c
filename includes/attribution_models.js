/**
 * The attribution model registry: every model whose credit `session_credit`, `model_comparison` and
 * the report show, registered once. Plain data plus the SQL built from it, read by both sides:
 * Dataform models call `attribution_models.*`; the TypeScript side loads this file beside
 * includes/settings.js (src/config/attribution-models.ts).
 *
 * An entry:
 *   name           the model's one name (settings, tables, report, README)
 *   job            the TypeScript job that fits it (jobs/), or null when SQL builds its credit
 *   description    one sentence for the report and the README
 *   sessionCredit  how its credit reaches sessions (session_credit), one of
 *                    { touches: TABLE, modelColumn: true|false }  a table at (session_key, transaction_id)
 *                      grain with `conversions` and `value` (and a `model` column when several models
 *                      share the table), partitioned by `credit_date` (its conversion's date), so that
 *                      session_credit's incremental run reads only the days it restates;
 *                    { channelWeights: TABLE, weight: COLUMN, modelColumn: true|false }  one weight per
 *                      channel (and a `model` column when several models share the table): each converting
 *                      journey is split over its touches by their channels' weights (a journey whose channels
 *                      all weigh 0: equally). A model with no positive weight at all published nothing (e.g.
 *                      the ML model refused by vars.ml_min_auc) and credits no session: it is not turned into
 *                      linear.
 *   channelCredit  { table: TABLE, modelColumn: true|false }: its credit per channel (`channel`,
 *                  `conversions`, `value`), the totals the model comparison reads.
 *
 * Adding a model: its model code (src/models/), its job (jobs/, returns the tables named here), and
 * one entry below. A registered table a job writes must be in the warehouse catalog (includes/catalog.js).
 */

/** The rule-based models of heuristic_touch_credit, in the order the reports list them. */
const HEURISTICS = [
  ["first_touch", "all credit to the journey's first session"],
  ["last_touch", "all credit to the converting session (GA4's last click)"],
  ["last_non_direct", "all credit to the last session not from an excluded channel (direct)"],
  ["linear", "credit split equally over the journey's sessions"],
  ["time_decay", "more credit to sessions closer to the conversion (vars.time_decay_*)"],
  ["position_based", "40/20/40 (vars.position_based_weights) to first, middle and last sessions"],
];

/**
 * The ML attribution job's credit (jobs/ml-attribution.ts): each family it fits (XGBoost always, the others
 * of vars.ml_families) and the credit methods that apply to it. The attention family's `attention` method is
 * where the model looks, not credit, so it is not a model here.
 */
const ML_CREDIT_METHODS = {
  xgboost: ["removal_effect", "shapley", "treeshap"],
  logistic_regression: ["removal_effect", "shapley"],
  stacked_ensemble: ["removal_effect", "shapley"],
  causal_dml: ["incremental"],
  lstm: ["removal_effect", "shapley"],
  attention: ["removal_effect", "shapley"],
};

/** An ML credit series' one name: ml_<method> for XGBoost (the job's own model), ml_<family>_<method> for the others. */
function mlModelName(family, method) {
  return family === "xgboost" ? `ml_${method}` : `ml_${family}_${method}`;
}

const ML_FAMILY_TEXT = {
  xgboost: "XGBoost conversion model", logistic_regression: "L2 logistic regression",
  stacked_ensemble: "stacked ensemble of XGBoost and the logistic regression", causal_dml: "double-ML causal estimate",
  lstm: "LSTM sequence model", attention: "additive-attention sequence model",
};
const ML_METHOD_TEXT = {
  removal_effect: "credit by counterfactual removal of each channel",
  shapley: "Shapley values with the model as value function",
  treeshap: "TreeSHAP contributions",
  incremental: "credit ∝ each channel's estimated incremental conversions",
};

/** Every registered model for these settings (`s`: the parsed settings; in Dataform the global `settings`). */
function attributionModels(s) {
  const st = s || settings;
  return [
    ...HEURISTICS.map(([name, description]) => ({
      name, job: null, description,
      sessionCredit: { touches: "heuristic_touch_credit", modelColumn: true },
      channelCredit: { table: "heuristic_channel_credit", modelColumn: true },
    })),
    {
      name: `markov_order_${st.markovOrder}`, job: "channel_markov",
      description: `channel Markov chain of order ${st.markovOrder}: credit by removal effect (ChannelAttribution's model, solved exactly)`,
      sessionCredit: { channelWeights: "markov_removal_effects", weight: "removal_effect" },
      channelCredit: { table: "markov_removal_effects", modelColumn: false },
    },
    {
      name: "shapley", job: "shapley",
      description: `Shapley values over channel coalitions (vars.shapley_value_function = ${st.shapleyValueFunction})`,
      sessionCredit: { channelWeights: "shapley_channel_credit", weight: "share" },
      channelCredit: { table: "shapley_channel_credit", modelColumn: false },
    },
    {
      // SQL only: channel_excitation → excitation_linear_channel_credit (its totals, and the touch weights
      // session_credit shares each journey by).
      name: "excitation_linear", job: null,
      description: `linear credit over the touches of channels that are not responsive: a channel whose visits follow other channels' touches within ${st.excitationWindowDays} days more than its own schedule explains (ratio > ${st.excitationResponsiveRatio}; direct, brand search) gets none`,
      sessionCredit: { channelWeights: "excitation_linear_channel_credit", weight: "touch_weight" },
      channelCredit: { table: "excitation_linear_channel_credit", modelColumn: false },
    },
    {
      // SQL only: channel_excitation → self_controlled_channel_credit (issue #17's causal estimate that adjusts for
      // who sees which channel; its totals, and the touch weights session_credit shares each journey by).
      name: "self_controlled", job: null,
      description: `self-controlled case series, a causal estimate that adjusts for who sees which channel: each channel on its own schedule is credited by the excess conversions of its users (chains) in the ${st.selfControlledWindowDays === "auto" ? "quarter of the data's span" : `${st.selfControlledWindowDays} days`} after its sessions over each user's own rate (shrunk toward linear's split where that excess is within noise); responsive channels (visits bunched after other channels' touches, z > ${st.selfControlledResponsiveZ}: direct, brand search) get none`,
      sessionCredit: { channelWeights: "self_controlled_channel_credit", weight: "touch_weight" },
      channelCredit: { table: "self_controlled_channel_credit", modelColumn: false },
    },
    {
      name: "owox_funnel", job: "funnel_markov",
      description: "OWOX ML funnel-based model: Markov chain over funnel steps per user type × device × region",
      sessionCredit: { touches: "funnel_event_credit", modelColumn: false },
      channelCredit: { table: "owox_channel_credit", modelColumn: false },
    },
    // The ML attribution job: one model per fitted family (XGBoost, then vars.ml_families) and credit method,
    // each the credit the job published this run (none when vars.ml_min_auc refused it).
    ...["xgboost", ...st.mlFamilies].flatMap((family) => ML_CREDIT_METHODS[family].map((method) => ({
      name: mlModelName(family, method), job: "ml_attribution",
      description: `ML attribution: ${ML_FAMILY_TEXT[family]}, ${ML_METHOD_TEXT[method]} (published only when the lower end of the test AUC's 95 % interval reaches vars.ml_min_auc)`,
      sessionCredit: { channelWeights: "ml_channel_weights", weight: "share", modelColumn: true },
      channelCredit: { table: "ml_channel_weights", modelColumn: true },
    }))),
  ];
}


/** A model name as a GoogleSQL string literal. */
function modelLiteral(name) {
  return settings.sqlString(name);
}

/** Group registered models by a key (table + column), keeping registration order. */
function groupBy(models, keyOf) {
  const groups = new Map();
  for (const m of models) {
    const k = keyOf(m);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(m);
  }
  return [...groups.values()];
}

/**
 * SELECT … UNION ALL … of (model, channel, weight) over the channel-weight models; an empty,
 * typed SELECT when none is registered.
 */
function channelWeightsSql(ref, s) {
  const models = attributionModels(s).filter((m) => m.sessionCredit.channelWeights);
  if (models.length === 0) return "SELECT CAST(NULL AS STRING) AS model, CAST(NULL AS STRING) AS channel, CAST(NULL AS FLOAT64) AS weight FROM UNNEST([1]) WHERE FALSE";
  return groupBy(models, (m) => `${m.sessionCredit.channelWeights}|${m.sessionCredit.weight}|${Boolean(m.sessionCredit.modelColumn)}`).flatMap((group) => {
    const c = group[0].sessionCredit;
    if (!c.modelColumn) return group.map((m) => `SELECT ${modelLiteral(m.name)} AS model, channel, ${c.weight} AS weight\n  FROM ${ref(c.channelWeights)}`);
    return [`SELECT model, channel, ${c.weight} AS weight FROM ${ref(c.channelWeights)}\n  WHERE model IN (${group.map((m) => modelLiteral(m.name)).join(", ")})`];
  }).join("\n  UNION ALL\n  ");
}

/**
 * SELECT … UNION ALL … of (session_key, model, transaction_id, conversions, value) over the touch-credit models;
 * `since` (optional): a condition on their `credit_date` (session_credit's restated days), which prunes their partitions.
 */
function touchCreditSql(ref, s, since) {
  const models = attributionModels(s).filter((m) => m.sessionCredit.touches);
  if (models.length === 0) return "SELECT CAST(NULL AS STRING) AS session_key, CAST(NULL AS STRING) AS model, CAST(NULL AS STRING) AS transaction_id, CAST(NULL AS FLOAT64) AS conversions, CAST(NULL AS FLOAT64) AS value FROM UNNEST([1]) WHERE FALSE";
  return groupBy(models, (m) => `${m.sessionCredit.touches}|${m.sessionCredit.modelColumn}`).map((group) => {
    const c = group[0].sessionCredit;
    if (!c.modelColumn) {
      return `SELECT session_key, ${modelLiteral(group[0].name)} AS model, transaction_id, conversions, value FROM ${ref(c.touches)}${since ? `\n  WHERE ${since}` : ""}`;
    }
    return `SELECT session_key, model, transaction_id, conversions, value FROM ${ref(c.touches)}\n  WHERE ${since ? `${since} AND ` : ""}model IN (${group.map((m) => modelLiteral(m.name)).join(", ")})`;
  }).join("\n  UNION ALL\n  ");
}

/** SELECT … UNION ALL … of (model, channel, conversions, value): every registered model's channel credit. */
function channelCreditSql(ref, s) {
  return groupBy(attributionModels(s), (m) => `${m.channelCredit.table}|${m.channelCredit.modelColumn}`).map((group) => {
    const c = group[0].channelCredit;
    if (!c.modelColumn) return `SELECT ${modelLiteral(group[0].name)} AS model, channel, conversions, value FROM ${ref(c.table)}`;
    return `SELECT model, channel, conversions, value FROM ${ref(c.table)}\n  WHERE model IN (${group.map((m) => modelLiteral(m.name)).join(", ")})`;
  }).join("\n  UNION ALL\n  ");
}

module.exports = { HEURISTICS, ML_CREDIT_METHODS, mlModelName, attributionModels, channelWeightsSql, touchCreditSql, channelCreditSql };
