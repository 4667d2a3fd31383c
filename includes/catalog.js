/**
 * The warehouse catalog: every table funnelcredit reads or writes that no SQLX model builds — the
 * inputs (sources) and what the TypeScript jobs, the runner and the commands write — declared once:
 * name, layer (a key of settings.datasets), GoogleSQL columns (types, modes, nested fields), grain,
 * description and producer. Also the analyst's outputs that SQLX models build (producer { model }):
 * their columns are a contract the report reads, so the model takes its description and column
 * docs from here (catalog.docs) and test/analyst-tables.test.ts checks what it builds against them.
 *
 * Plain data, read by both sides: Dataform declares these tables from it
 * (definitions/sources/sources.js) and the TypeScript side (src/catalog/) derives the
 * empty-table DDL of every engine, the importers' target schemas, the jobs' write-back schemas and
 * the location of every table. SQLX models are declared by their own files.
 *
 * producer: { import: "<kind>" } (`funnelcredit import <kind>`; absent tables are created empty),
 *           { job: "<job name>" }, { runner: "runner" }, { command: "<command>" }, { engine: "bigquery" },
 *           { model: "<definitions/….sqlx>" } (built by that SQLX model; not declared again),
 * producer: { jobs: ["<job>", …] }: a shared history (history: true) several jobs append to. Its first two
 *           columns are run_id and job; each job replaces only its own rows of the run (the runner fills
 *           in both and deletes that job's rows of that run before its first write), so a re-run never
 *           duplicates them and never touches another job's rows. Readers wait for every writer.
 * replaces: the per-job tables a shared history took over ({ table, job, values?: { column: { old: new } } }):
 *           on a warehouse that has them, their rows are copied in once, tagged with the job (old names
 *           of the vocabulary mapped), when the shared table is first created.
 * renamed: old words a job wrote into a shared history ({ job, values: { column: { old: new } } }): before
 *          a run, that job's rows still carrying one are rewritten in place (once: afterwards none is left).
 * history: an append-only history a job adds rows to on every run; created empty when missing, so
 *          the views over it (model_metrics…) work before the job has written once (no leads yet).
 * shards: the table is a sharded family named `<prefix>YYYYMMDD` read as `<prefix>*` (GA4 export).
 * columns: "ga4_export" stands for the GA4 BigQuery export schema (src/catalog/ga4-events-schema.json).
 */
const s = (name, description) => (description ? { name, type: "STRING", description } : { name, type: "STRING" });
/** The key of a shared history's rows: the run and the job that wrote them (the runner fills both in). */
const historyKey = () => [
  { name: "run_id", type: "STRING", description: "run that wrote the row" },
  { name: "job", type: "STRING", description: "job that wrote the row (ml_attribution, lead_scoring)" },
];

/**
 * model_metrics has one vocabulary (ML attribution's): auc, pr_auc, log_loss, brier, calibration_error, base_rate,
 * n_train… measure the held-out test window; the prefixes validation_, train_, window_ (lead scoring's
 * champion/challenger comparison) and monitor_ name other windows. Lead scoring's names before that:
 */
const LEAD_METRIC_RENAMES = {
  test_roc_auc: "auc", test_pr_auc: "pr_auc", test_log_loss: "log_loss", test_brier: "brier",
  test_log_loss_uncalibrated: "log_loss_uncalibrated", test_brier_uncalibrated: "brier_uncalibrated",
  test_ece: "calibration_error", test_base_rate: "base_rate", test_mean_probability: "mean_probability",
  test_lift_decile_1: "lift_decile_1", test_conversion_rate_decile_1: "conversion_rate_decile_1", test_conversion_rate_decile_10: "conversion_rate_decile_10",
  test_tp: "tp", test_fp: "fp", test_tn: "tn", test_fn: "fn", test_precision_at_cutoff: "precision_at_cutoff", test_recall_at_cutoff: "recall_at_cutoff",
  validation_roc_auc: "validation_auc", train_roc_auc: "train_auc", window_roc_auc: "window_auc",
  rows_train: "n_train", rows_validation: "n_validation", rows_test: "n_test",
};

/** Spend and return beside each model's credit (channel_performance, campaign_performance); `level` = the key's own columns. */
const performanceColumns = (level, what) => [
  { name: "date", type: "DATE", description: "day of the cost and of the credited conversions (UTC)" },
  { name: "model", type: "STRING", description: "attribution model (every model session_credit holds)" },
  { name: "channel", type: "STRING", description: "channel from vars.channel_rules ('(unknown)' for credit on a session without one)" },
  ...level,
  { name: "cost", type: "FLOAT64", description: `cost of the ${what} that day (0 when no cost row maps to it)` },
  { name: "clicks", type: "INT64", description: `clicks of the ${what}'s cost rows that day` },
  { name: "impressions", type: "INT64", description: `impressions of the ${what}'s cost rows that day` },
  { name: "conversions", type: "FLOAT64", description: `conversions the model credits to the ${what} (fractional; by conversion day)` },
  { name: "value", type: "FLOAT64", description: `conversion value the model credits to the ${what}` },
  { name: "cpa", type: "FLOAT64", description: "cost / conversions (NULL when the model credits no conversions or no cost row maps to it that day)" },
  { name: "roas", type: "FLOAT64", description: "value / cost (NULL when there is no cost)" },
  { name: "last_touch_conversions", type: "FLOAT64", description: `conversions the last_touch model credits to the ${what} that day` },
  { name: "last_touch_value", type: "FLOAT64", description: `value the last_touch model credits to the ${what} that day` },
  { name: "conversions_change_vs_last_touch", type: "FLOAT64", description: "(conversions − last_touch_conversions) / last_touch_conversions (NULL when last touch credits none)" },
];
const trafficColumns = () => [
  s("source", "traffic source of the credited sessions and of the cost rows ('(not set)' when missing)"),
  s("medium", "traffic medium ('(not set)' when missing)"),
  s("campaign", "campaign name ('(not set)' when missing)"),
];

const tables = [
  // ---- Inputs -------------------------------------------------------------------------------
  {
    name: "events_*", layer: "ga4", producer: { import: "ga4" },
    shards: { prefix: "events_", empty: "events_19700101" },
    grain: "one row per GA4 event",
    description: "GA4 BigQuery export (daily and intraday tables)",
    columns: "ga4_export",
  },
  {
    name: "crm_transactions", layer: "sources", producer: { import: "transactions" },
    grain: "one row per transaction product line (several rows per transaction allowed; only completed counts)",
    description: "CRM transactions",
    columns: [
      s("transaction_id"),
      s("user_id"),
      s("client_id"),
      { name: "transaction_created", type: "TIMESTAMP" },
      s("transaction_status"),
      { name: "transaction_revenue", type: "FLOAT64" },
      s("transaction_region"),
    ],
  },
  {
    name: "custom_events", layer: "sources", producer: { import: "custom-events" },
    grain: "one row per custom event (raw text; validated and quarantined in staging)",
    description: "Custom events (offline conversions, CRM events), every column raw STRING",
    columns: [
      s("name"), s("category"), s("time"), s("user_id"), s("client_id"), s("transaction_id"), s("revenue"), s("cost"),
      s("utm_source"), s("utm_medium"), s("utm_campaign"), s("utm_term"), s("utm_content"), s("geo_region"),
    ],
  },
  {
    name: "costs", layer: "sources", producer: { import: "costs" },
    grain: "one row per date, source, medium, campaign",
    description: "Advertising costs",
    columns: [
      { name: "date", type: "DATE" },
      s("source"),
      s("medium"),
      s("campaign"),
      { name: "cost", type: "FLOAT64" },
      { name: "clicks", type: "INT64" },
      { name: "impressions", type: "INT64" },
    ],
  },
  {
    name: "leads", layer: "sources", producer: { import: "leads" },
    grain: "one row per lead",
    description: "Leads for lead scoring; an import adds its own feature columns after these",
    columns: [
      s("lead_id"),
      { name: "created_at", type: "TIMESTAMP" },
      { name: "converted_at", type: "TIMESTAMP" },
      { name: "converted", type: "BOOL" },
      s("user_id"),
      s("client_id"),
    ],
  },
  {
    name: "channel_paths_import", layer: "sources", producer: { import: "paths" },
    grain: "one row per channel path",
    description: "ChannelAttribution path files (separator >)",
    columns: [
      s("path"),
      { name: "total_conversions", type: "FLOAT64" },
      { name: "total_conversion_value", type: "FLOAT64" },
      { name: "total_null", type: "FLOAT64" },
    ],
  },
  {
    name: "incrementality_experiments", layer: "sources", producer: { import: "none (loaded by the user)" },
    grain: "one row per channel, experiment period",
    description: "Measured incremental conversions of geo holdouts / conversion-lift tests (ML attribution calibration)",
    columns: [
      s("channel"),
      { name: "period_start", type: "DATE" },
      { name: "period_end", type: "DATE" },
      { name: "incremental_conversions", type: "FLOAT64" },
    ],
  },
  {
    name: "mmm_channel_shares", layer: "sources", producer: { import: "none (loaded by the user)" },
    grain: "one row per channel",
    description: "A media-mix model's channel share of incremental conversions (ML attribution calibration)",
    columns: [s("channel"), { name: "share", type: "FLOAT64" }],
  },

  // The demo's two analyst-owned tables in their own shapes (docs/custom-events.md maps them onto custom events).
  // Declared by definitions/custom/ only: not created empty elsewhere, a project reads them once a source names them.
  {
    name: "call_centre_calls", layer: "sources", producer: { command: "demo" },
    grain: "one row per call",
    description: "Demo: a call centre's log (New York wall-clock times as text, order values in cents)",
    columns: [s("call_id"), s("started_local"), s("customer_ref"), s("outcome"), { name: "order_value_cents", type: "INT64" }, s("campaign_code")],
  },
  {
    name: "webinar_attendances", layer: "sources", producer: { command: "demo" },
    grain: "one row per webinar attendance",
    description: "Demo: a webinar platform's export (UTC timestamps, minutes watched)",
    columns: [s("attendance_id"), s("webinar_title"), { name: "joined_at", type: "TIMESTAMP" }, s("attendee_user_ref"), { name: "minutes_watched", type: "INT64" }],
  },

  // ---- Written by jobs, the runner and commands ----------------------------------------------
  {
    name: "markov_removal_effects", layer: "models", producer: { job: "channel_markov" },
    grain: "one row per channel",
    description: "Channel Markov removal effects and credit (ChannelAttribution's model, solved exactly).",
    columns: [
    { name: "channel", type: "STRING" },
    { name: "removal_effect", type: "FLOAT64", description: "1 − P(conv without channel)/P(conv)" },
    { name: "removal_effect_value", type: "FLOAT64", description: "same on the value-weighted chain" },
    { name: "conversions", type: "FLOAT64", description: "total conversions × RE / ΣRE" },
    { name: "value", type: "FLOAT64" },
    { name: "share", type: "FLOAT64", description: "conversions / total conversions" },
    { name: "markov_order", type: "INT64" },
  ] },
  {
    name: "markov_transition_matrix", layer: "models", producer: { job: "channel_markov" },
    grain: "one row per from_state, to_state",
    description: "Transition probabilities of the fitted channel Markov chain.",
    columns: [
    { name: "from_state", type: "STRING" },
    { name: "to_state", type: "STRING" },
    { name: "probability", type: "FLOAT64" },
    { name: "transitions", type: "FLOAT64", description: "weighted count (conversions + nulls)" },
    { name: "markov_order", type: "INT64" },
  ] },
  {
    name: "shapley_channel_credit", layer: "models", producer: { job: "shapley" },
    grain: "one row per channel",
    description: "Shapley channel credit over channel coalitions.",
    columns: [
    { name: "channel", type: "STRING" },
    { name: "shapley_value", type: "FLOAT64", description: "raw Shapley value φ on the value function's scale (rate, or conversions for subset_conversions), before clipping" },
    { name: "negative_contribution", type: "FLOAT64", description: "the negative marginal contributions inside shapley_value (≤ 0); clipped away from share" },
    { name: "standard_error", type: "FLOAT64", description: "0 when exact" },
    { name: "share", type: "FLOAT64" },
    { name: "conversions", type: "FLOAT64" },
    { name: "value", type: "FLOAT64" },
    { name: "method", type: "STRING", description: "exact or sampled" },
    { name: "value_function", type: "STRING", description: "vars.shapley_value_function used" },
  ] },
  {
    name: "funnel_transition_probabilities", layer: "models", producer: { job: "funnel_markov" },
    grain: "one row per level, segment, from_step, to_step",
    description: "OWOX funnel Markov step-transition probabilities with the level fallback.",
    columns: [
    { name: "from_step", type: "STRING" },
    { name: "to_step", type: "STRING" },
    { name: "user_type", type: "STRING" },
    { name: "device", type: "STRING" },
    { name: "region", type: "STRING" },
    { name: "probability", type: "FLOAT64", description: "P(from → to | properties) at the level used" },
    { name: "level", type: "STRING", description: "user_type_device_region, user_type_device, device or global" },
    { name: "sample_size", type: "INT64", description: "transitions out of from_step at the level used" },
    { name: "transitions", type: "INT64", description: "transitions from → to at the level used" },
  ] },
  {
    name: "model_agreement", layer: "outputs", producer: { job: "model_comparison" },
    grain: "one row per model pair",
    description: "Top-3 channel agreement and Spearman rank correlation per pair of models.",
    columns: [
    { name: "model_a", type: "STRING" },
    { name: "model_b", type: "STRING" },
    { name: "top3_jaccard", type: "FLOAT64", description: "|top3(a) ∩ top3(b)| / |top3(a) ∪ top3(b)|" },
    { name: "top3_same_order", type: "BOOL" },
    { name: "spearman", type: "FLOAT64", description: "rank correlation of the channel shares (null if a model is flat)" },
  ] },
  {
    name: "channel_credit_intervals", layer: "outputs", producer: { job: "credit_intervals" },
    grain: "one row per model, channel",
    description: "90 % interval of each model's channel share: the Poisson-bootstrap interval (sampling noise at this data's size: of channel_paths, each replicate re-fitting the model; for the models written in SQL over sessions, excitation_linear and self_controlled, of identity chains in channel_share_replicates) widened by the benchmark's conformal margin (the model's bias on the most similar benchmark worlds), and the bootstrap interval alone.",
    columns: [
    s("model", "attribution model, as in channel_credit_by_model"),
    s("channel"),
    { name: "share", type: "FLOAT64", description: "the model's share, as in channel_credit_by_model" },
    { name: "share_low", type: "FLOAT64", description: "published 90 % interval: bootstrap_low − q, q = the split-conformal 90 % quantile of how far the true incremental share fell outside the model's bootstrap interval on the most similar benchmark worlds (CQR); share − q, q of |share − true share|, without a bootstrap; clipped to [0, share] (NULL: no benchmark reference for the model)" },
    { name: "share_high", type: "FLOAT64", description: "bootstrap_high + q (share + q without a bootstrap), clipped to [share, 1]" },
    { name: "bootstrap_low", type: "FLOAT64", description: "5th percentile of the share over Poisson-bootstrap replicates, moved onto share: sampling noise only (NULL: the model cannot be re-fitted from channel_paths nor has SQL replicates)" },
    { name: "bootstrap_high", type: "FLOAT64", description: "95th percentile, likewise" },
    { name: "replicates", type: "INT64", description: "bootstrap replicates behind bootstrap_low/high (vars.credit_bootstrap_replicates; 0 when none)" },
    s("method", "conformal_bootstrap (the bootstrap widened by q), split_conformal (share ± q) with why there is no bootstrap (time_decay and owox_funnel need touch times / funnel steps, the ML models read sessions), or none: no benchmark reference for the model"),
  ] },
  {
    name: "model_recommendation", layer: "outputs", producer: { job: "model_recommendation" },
    grain: "one row per model",
    description: "Which attribution model to use for this data and why: expected distance to the true channel shares on benchmark worlds shaped like this data, plus bootstrap instability.",
    columns: [
    s("model", "attribution model, as in channel_credit_by_model"),
    { name: "rank", type: "INT64", description: "1 = recommended; models without a benchmark reference come last" },
    { name: "is_recommended", type: "BOOL" },
    { name: "expected_l1", type: "FLOAT64", description: "benchmark_l1 + bootstrap_l1 × max(0, 1 − √(conversions here / the similar worlds' mean conversions)): expected Σ|share − true incremental share| on this data, the benchmark's L1 holding the noise of data its worlds' size (NULL: no benchmark reference)" },
    { name: "benchmark_l1", type: "FLOAT64", description: "mean L1 distance to the true incremental shares on the most similar benchmark worlds" },
    { name: "benchmark_worlds", type: "STRING", description: "the similar benchmark worlds (family/seed), nearest first" },
    { name: "bootstrap_l1", type: "FLOAT64", description: "mean L1 distance of the model's bootstrap replicates to its full-data fit (NULL: not re-fittable from channel_paths)" },
    { name: "channels", type: "INT64", description: "channels in channel_paths (what worlds are matched on)" },
    { name: "mean_path_length", type: "FLOAT64", description: "touches per journey in channel_paths" },
    { name: "conversion_rate", type: "FLOAT64", description: "converting journeys / journeys in channel_paths" },
    s("reason", "why this rank, in one sentence"),
  ] },
  {
    name: "ml_channel_credit", layer: "outputs", producer: { job: "ml_attribution" },
    grain: "one row per method, channel",
    description: "ML attribution channel credit (removal effect, Shapley, TreeSHAP).",
    columns: [
    { name: "method", type: "STRING", description: "removal_effect, shapley or treeshap" },
    { name: "channel", type: "STRING" },
    { name: "conversions", type: "FLOAT64", description: "credited conversions (after vars.ml_max_channel_share)" },
    { name: "value", type: "FLOAT64", description: "credited conversion value" },
    { name: "share", type: "FLOAT64", description: "conversions / the method's total conversions" },
  ] },
  {
    name: "ml_channel_weights", layer: "outputs", producer: { job: "ml_attribution" },
    grain: "one row per model, channel",
    description: "The credit the ML attribution job published this run, one registered model (includes/attribution_models.js) per family and credit method: what session_credit applies to each journey and the model comparison reads. Emptied when the job publishes nothing (test AUC below vars.ml_min_auc, no conversions), so a refused model credits no session.",
    columns: [
    { name: "model", type: "STRING", description: "registered model: ml_<method> (XGBoost) or ml_<family>_<method> (vars.ml_families)" },
    { name: "channel", type: "STRING" },
    { name: "conversions", type: "FLOAT64", description: "credited conversions (after vars.ml_max_channel_share), as in ml_family_credit" },
    { name: "value", type: "FLOAT64", description: "credited conversion value" },
    { name: "share", type: "FLOAT64", description: "conversions / the model's total conversions: the channel's weight in session_credit" },
  ] },
  {
    name: "ml_journey_scores_sql", layer: "outputs", producer: { job: "ml_journey_scores_sql" },
    grain: "one row per journey_end_date, channel_stats, user_type, device, region, engagement (a row of ml_journey_features)",
    description: "Every journey row of ml_journey_features scored in SQL by the published ML attribution conversion model compiled to GoogleSQL (journey encoding and trees); equal to the TypeScript predictions within 1e-6. The statements are saved beside the model (models/ml-attribution/<run>.sql) to schedule on BigQuery.",
    columns: [
    { name: "journey_end_date", type: "DATE" },
    { name: "channel_stats", type: "STRING" },
    { name: "user_type", type: "STRING" },
    { name: "device", type: "STRING" },
    { name: "region", type: "STRING" },
    { name: "engagement", type: "STRING", description: "pages the journey's first touch viewed before any checkout (ml_journey_features)" },
    { name: "conversion_probability", type: "FLOAT64", description: "the conversion model's probability for the journey" },
    { name: "margin", type: "FLOAT64", description: "the booster's log-odds" },
    { name: "model_run_id", type: "STRING", description: "the ml_attribution run that fitted the model" },
  ] },
  {
    name: "ml_channel_credit_daily", layer: "outputs", producer: { job: "ml_attribution" },
    grain: "one row per credit_date, method, channel",
    description: "ML attribution credit by day.",
    columns: [
    { name: "credit_date", type: "DATE", description: "journey_end_date of the credited conversions" },
    { name: "method", type: "STRING" },
    { name: "channel", type: "STRING" },
    { name: "conversions", type: "FLOAT64" },
    { name: "value", type: "FLOAT64" },
  ] },
  {
    name: "ml_calibrated_credit", layer: "outputs", producer: { job: "ml_attribution" },
    grain: "one row per channel",
    description: "ML credit calibrated to incrementality experiments / MMM shares.",
    columns: [
    { name: "channel", type: "STRING" },
    { name: "attributed_conversions", type: "FLOAT64", description: "ML credit of vars.ml_calibrated_method" },
    { name: "factor", type: "FLOAT64", description: "measured / attributed (1 when source = 'none')" },
    { name: "calibrated_conversions", type: "FLOAT64", description: "attributed_conversions × factor" },
    { name: "source", type: "STRING", description: "experiment, mmm or none" },
  ] },
  {
    name: "ml_model_agreement", layer: "outputs", producer: { job: "ml_attribution" },
    grain: "one row per model pair",
    description: "Agreement of the ML credit methods with the other models.",
    columns: [
    { name: "model_a", type: "STRING" },
    { name: "model_b", type: "STRING" },
    { name: "top3_jaccard", type: "FLOAT64", description: "|top3(a) ∩ top3(b)| / |top3(a) ∪ top3(b)|" },
    { name: "top3_same_order", type: "BOOL" },
    { name: "spearman", type: "FLOAT64", description: "rank correlation of the channel shares (null if a model is flat)" },
  ] },
  {
    name: "ml_family_credit", layer: "outputs", producer: { job: "ml_attribution" },
    grain: "one row per family, method, channel",
    description: "ML attribution credit of every model family of vars.ml_families beside XGBoost, by the methods that apply to it.",
    columns: [
    { name: "family", type: "STRING", description: "xgboost, logistic_regression, stacked_ensemble, causal_dml, lstm, attention or stacked_ensemble_sequences (with stacked_ensemble and lstm or attention on: the meta-model over XGBoost, the logistic regression and the sequence families, on the channel_stats key ml_journey_sequences shares with ml_journey_features)" },
    { name: "method", type: "STRING", description: "removal_effect, shapley, treeshap (xgboost only), counterfactual_removal (every family but causal_dml: Σ over all journeys of P(convert) − P(convert without the channel's touches), user covariates held fixed, normalised across channels), incremental (causal_dml) or attention (attention: the mean attention weight of the channel's touches over converting journeys — a view of where the model looks, not causal credit)" },
    { name: "channel", type: "STRING" },
    { name: "conversions", type: "FLOAT64", description: "credited conversions (after vars.ml_max_channel_share)" },
    { name: "value", type: "FLOAT64", description: "credited conversion value" },
    { name: "share", type: "FLOAT64", description: "conversions / the family's and method's total conversions" },
  ] },
  {
    name: "ml_causal_effects", layer: "outputs", producer: { job: "ml_attribution" },
    grain: "one row per channel",
    description: "Cross-fitted double-ML estimate of each channel's incremental effect on conversion (family causal_dml), with 95 % intervals.",
    columns: [
    { name: "channel", type: "STRING" },
    { name: "effect", type: "FLOAT64", description: "change in a journey's conversion probability from having the channel, adjusted for user type, device, region and the other channels" },
    { name: "standard_error", type: "FLOAT64" },
    { name: "effect_low", type: "FLOAT64", description: "95 % interval, lower end" },
    { name: "effect_high", type: "FLOAT64", description: "95 % interval, upper end" },
    { name: "treated_journeys", type: "FLOAT64", description: "journeys with the channel (fitting days)" },
    { name: "incremental_conversions", type: "FLOAT64", description: "effect × treated_journeys" },
    { name: "incremental_low", type: "FLOAT64" },
    { name: "incremental_high", type: "FLOAT64" },
    { name: "share", type: "FLOAT64", description: "max(0, incremental_conversions) / Σ over channels: the family's credit share" },
  ] },
  {
    name: "lead_scores", layer: "outputs", producer: { job: "lead_scoring" },
    grain: "one row per lead",
    description: "Calibrated lead scores with their key factors and segment.",
    columns: [
    { name: "lead_id", type: "STRING" },
    { name: "score", type: "INT64", description: "round(100 × probability), 0–100" },
    { name: "probability", type: "FLOAT64", description: "calibrated probability that the lead converts" },
    { name: "score_confidence", type: "FLOAT64", description: "1 − the range of the calibrated probability over the staged ensembles of the last half of the trees (README, Lead scoring): 1 = the boosting had settled on this lead's score" },
    { name: "model_version", type: "STRING" },
    { name: "scored_at", type: "TIMESTAMP" },
    { name: "key_factors", type: "RECORD", mode: "REPEATED", description: "top 5 features by |TreeSHAP contribution| (log-odds, before calibration), strongest first", fields: [
      { name: "feature", type: "STRING", description: "feature=value as the model saw it" },
      { name: "contribution", type: "FLOAT64", description: "TreeSHAP contribution to the log-odds (one-hot columns summed per feature)" },
      { name: "direction", type: "STRING", description: "'up' raises the score, 'down' lowers it" },
    ] },
    { name: "segment", type: "STRING", description: "'hot' (score ≥ lead_score_cutoff), 'warm' (≥ half of it), 'cold'" },
  ] },
  {
    name: "lead_scores_sql", layer: "outputs", producer: { job: "lead_scores_sql" },
    grain: "one row per lead of lead_features",
    description: "Every lead scored in SQL by the current lead-scoring model compiled to GoogleSQL (encoder, trees, calibrator); equal to the TypeScript scores within 1e-6. The statements are saved beside the model (models/lead-scoring/<version>.sql) to schedule on BigQuery.",
    columns: [
    { name: "lead_id", type: "STRING" },
    { name: "score", type: "INT64", description: "round(100 × probability), 0–100" },
    { name: "probability", type: "FLOAT64", description: "calibrated probability that the lead converts" },
    { name: "segment", type: "STRING", description: "'hot' (score ≥ lead_score_cutoff), 'warm' (≥ half of it), 'cold'" },
    { name: "margin", type: "FLOAT64", description: "the booster's log-odds before calibration" },
    { name: "model_version", type: "STRING" },
  ] },
  // ---- The ML bookkeeping history: one family of tables every fitted model writes -----------
  {
    name: "model_metrics", layer: "models", history: true, producer: { jobs: ["ml_attribution", "lead_scoring"] },
    grain: "one row per run, job, model, metric",
    description: "Metrics of every fitted model (append-only history shared by the ML jobs; each run of a job replaces only its own rows). ML attribution: model ml_attribution (XGBoost) and ml_<family>; lead scoring: the model in use (lead_scoring), a retrained model that was not promoted (lead_scoring_challenger), the model it replaced (lead_scoring_replaced) and the logistic baseline (lead_scoring_logistic).",
    replaces: [{ table: "ml_attribution_metrics", job: "ml_attribution" }, { table: "lead_scoring_metrics", job: "lead_scoring", values: { metric: LEAD_METRIC_RENAMES } }],
    renamed: [{ job: "lead_scoring", values: { metric: LEAD_METRIC_RENAMES } }],
    columns: [
      ...historyKey(),
      { name: "model", type: "STRING", description: "the fitted model the figure measures" },
      { name: "metric", type: "STRING", description: "one vocabulary for every model: auc, pr_auc, log_loss, brier, calibration_error, base_rate, n_train… on the held-out test window; validation_, train_, window_ (champion/challenger window) and monitor_ prefixes for other windows" },
      { name: "value", type: "FLOAT64" },
      { name: "measured_at", type: "TIMESTAMP" },
      { name: "model_version", type: "STRING", description: "lead scoring: the model version the figure belongs to (NULL for ML attribution, whose model is the run's)" },
      { name: "note", type: "STRING", description: "lead scoring's champion/challenger rows: the decision and its reason" },
    ] },
  {
    name: "model_curves", layer: "models", history: true, producer: { jobs: ["ml_attribution", "lead_scoring"] },
    grain: "one row per run, job, model, curve point",
    description: "Curves of every fitted model on its held-out window (append-only history shared by the ML jobs).",
    replaces: [{ table: "ml_attribution_curves", job: "ml_attribution" }, { table: "lead_scoring_curves", job: "lead_scoring" }],
    columns: [
      ...historyKey(),
      { name: "model", type: "STRING" },
      { name: "curve", type: "STRING", description: "'roc' (x false positive rate, y true positive rate, n rows scored at or above the threshold), 'calibration' (x mean predicted, y observed rate, n rows in the bin), 'pr' (x recall, y precision; lead scoring), 'lift' (x decile, y lift, n leads; lead scoring)" },
      { name: "x", type: "FLOAT64" },
      { name: "y", type: "FLOAT64" },
      { name: "n", type: "FLOAT64" },
    ] },
  {
    name: "feature_importance", layer: "models", history: true, producer: { jobs: ["ml_attribution", "lead_scoring"] },
    grain: "one row per run, job, model, feature, kind",
    description: "Feature importance of every fitted model (append-only history shared by the ML jobs), in one vocabulary of kinds.",
    replaces: [
      // ML attribution called its mean |SHAP| "treeshap" before the tables were shared.
      { table: "ml_attribution_feature_importance", job: "ml_attribution", values: { kind: { treeshap: "mean_abs_shap" } } },
      { table: "lead_scoring_feature_importance", job: "lead_scoring" },
    ],
    columns: [
      ...historyKey(),
      { name: "model", type: "STRING" },
      { name: "feature", type: "STRING", description: "source feature (lead scoring: one-hot columns summed)" },
      { name: "importance", type: "FLOAT64" },
      { name: "kind", type: "STRING", description: "XGBoost's own names: 'gain' and 'cover' (average per split), 'total_gain' (summed over splits); 'mean_abs_shap': mean |TreeSHAP contribution| in log-odds (ML attribution: over converting journeys; lead scoring: over the test window)" },
    ] },
  {
    name: "lead_score_monitoring", layer: "models", history: true, producer: { job: "lead_scoring" },
    grain: "one row per run, feature",
    description: "Score and feature drift (PSI, KS) and AUC of the lead-scoring model, overall and per segment (append-only).",
    columns: [
    { name: "run_id", type: "STRING" },
    { name: "feature", type: "STRING", description: "source feature, 'score' for the calibrated probability, or 'score (column=level)' for a segment's" },
    { name: "segment", type: "STRING", description: "NULL: all current leads; 'column=level': the leads of one segment (vars.lead_monitor_segments), its scores against its own baseline" },
    { name: "psi", type: "FLOAT64", description: "population stability index vs the training baseline (bins fixed at training)" },
    { name: "ks", type: "FLOAT64", description: "two-sample KS statistic vs the baseline sample (NULL for categorical features)" },
    { name: "auc", type: "FLOAT64", description: "score rows: AUC on the current leads with known outcomes (NULL: too few of either class)" },
    { name: "requires_retraining", type: "BOOL", description: "the run's decision (same on every row of a run)" },
    { name: "reason", type: "STRING", description: "why this row triggers retraining, or what was measured" },
  ] },
  {
    name: "pipeline_credit", layer: "outputs", producer: { job: "pipeline_credit" },
    grain: "one row per channel, campaign",
    description: "Credit for deals that have not closed yet: each open lead's calibrated probability × expected deal value, shared over the sessions before the lead's creation by vars.pipeline_attribution_model.",
    columns: [
    { name: "channel", type: "STRING", description: "channel of the crediting sessions; '(no web touch)' for leads with no session before their creation" },
    { name: "campaign", type: "STRING", description: "campaign of the sessions, '(not set)' when they had none" },
    { name: "model", type: "STRING", description: "the attribution rule used (vars.pipeline_attribution_model)" },
    { name: "open_leads", type: "FLOAT64", description: "open leads credited (fractional: Σ touch shares)" },
    { name: "expected_conversions", type: "FLOAT64", description: "Σ touch share × calibrated probability" },
    { name: "pipeline_value", type: "FLOAT64", description: "Σ touch share × calibrated probability × expected deal value, in currency" },
    { name: "currency", type: "STRING", description: "ISO 4217 currency of pipeline_value (vars.currency)" },
  ] },
  {
    name: "model_accuracy", layer: "meta", producer: { command: "benchmark" },
    grain: "one row per benchmark run, world, model",
    description: "accuracy benchmark: each model's distance to the true channel shares of worlds with known effects",
    columns: [
    { name: "run_id", type: "STRING", description: "benchmark run" },
    { name: "world", type: "STRING", description: "family/seed/users, e.g. harvesting/s1/u20000" },
    { name: "family", type: "STRING", description: "scenario family (harvesting, synergy, decay, selection_bias, cross_device)" },
    { name: "seed", type: "INT64", description: "seed the world's parameters and users were drawn from" },
    { name: "users", type: "INT64", description: "observed users" },
    { name: "channels", type: "INT64", description: "channels in the world" },
    { name: "journeys", type: "STRING", description: "short (28 days) or long (60 days)" },
    { name: "model", type: "STRING", description: "attribution model (as in channel_credit_by_model; ML methods as ml_<method>)" },
    { name: "l1_to_true_shapley", type: "FLOAT64", description: "Σ |model share − true Shapley share| over channels, 0–2" },
    { name: "l1_to_true_incremental", type: "FLOAT64", description: "Σ |model share − true incremental share| over channels, 0–2" },
    { name: "spearman", type: "FLOAT64", description: "rank correlation of the model's shares with the true Shapley shares" },
    { name: "spearman_incremental", type: "FLOAT64", description: "rank correlation with the true incremental shares" },
    { name: "interval_coverage_shapley", type: "FLOAT64", description: "share of channels whose true Shapley share lies in the model's published 90 % interval (channel_credit_intervals share_low/high; null: none)" },
    { name: "interval_coverage_incremental", type: "FLOAT64", description: "same for the true incremental share" },
    { name: "observed_conversions", type: "INT64", description: "conversions in the observed data" },
    { name: "measured_at", type: "TIMESTAMP" },
  ] },
  {
    name: "ml_family_accuracy", layer: "meta", producer: { command: "benchmark" },
    grain: "one row per benchmark run, world, ML family, credit method",
    description: "accuracy benchmark, issue #17's one comparison: each ML attribution family's held-out metrics and its credit's distance to the true channel shares, beside the SQL estimates self_controlled (the causal estimate) and excitation_linear, which predict no conversions (their predictive metrics null, with the reason)",
    columns: [
    { name: "run_id", type: "STRING", description: "benchmark run" },
    { name: "world", type: "STRING", description: "family/seed/users, as in model_accuracy" },
    { name: "family", type: "STRING", description: "scenario family, as in model_accuracy" },
    { name: "ml_family", type: "STRING", description: "xgboost, a family of vars.ml_families, or a SQL estimate (self_controlled, excitation_linear)" },
    { name: "method", type: "STRING", description: "credit method (removal_effect, shapley, treeshap, counterfactual_removal, incremental, attention; case_series and linear_non_responsive for the SQL estimates)" },
    { name: "model", type: "STRING", description: "the credit's model name in model_accuracy" },
    { name: "auc", type: "FLOAT64", description: "test-window ROC AUC (null for an estimate that predicts no conversions: causal_dml, self_controlled, excitation_linear)" },
    { name: "log_loss", type: "FLOAT64" },
    { name: "brier", type: "FLOAT64" },
    { name: "calibration_error", type: "FLOAT64", description: "expected calibration error over 10 bins" },
    { name: "no_metrics_reason", type: "STRING", description: "why auc, log_loss, brier and calibration_error are null (null when they were measured)" },
    { name: "fit_seconds", type: "FLOAT64", description: "fitting the family; for a SQL estimate the seconds of channel_excitation (the aggregate both read)" },
    { name: "credit_seconds", type: "FLOAT64", description: "crediting every converting journey (all methods of the family); for a SQL estimate the seconds of its credit table" },
    { name: "l1_to_true_shapley", type: "FLOAT64" },
    { name: "l1_to_true_incremental", type: "FLOAT64" },
    { name: "measured_at", type: "TIMESTAMP" },
  ] },
  {
    name: "benchmark_truth", layer: "meta", producer: { command: "benchmark" },
    grain: "one row per benchmark run, world, channel",
    description: "accuracy benchmark: true channel shares per world",
    columns: [
    { name: "run_id", type: "STRING" },
    { name: "world", type: "STRING" },
    { name: "channel", type: "STRING" },
    { name: "kind", type: "STRING", description: "push (own schedule) or pull (returns when intent is high)" },
    { name: "true_shapley_share", type: "FLOAT64" },
    { name: "true_incremental_share", type: "FLOAT64" },
    { name: "true_incremental_conversions", type: "FLOAT64", description: "expected conversions lost with the channel off, in the truth population" },
    { name: "truth_users", type: "INT64" },
  ] },
  {
    name: "run_history", layer: "meta", producer: { runner: "runner" },
    grain: "one row per run, action (and attempt)",
    description: "One row per action of every run, written by the runner after each action.",
    columns: [
    { name: "run_id", type: "STRING", description: "id of the run (same for every action of one run)" },
    { name: "action", type: "STRING", description: "action name, schema.table or the job name" },
    { name: "action_kind", type: "STRING", description: "table, view, incremental, assertion, operation or job" },
    { name: "engine", type: "STRING", description: "duckdb or bigquery" },
    { name: "status", type: "STRING", description: "succeeded, failed, skipped, warning, dry_run or cancelled" },
    { name: "started_at", type: "TIMESTAMP" },
    { name: "ended_at", type: "TIMESTAMP" },
    { name: "duration_ms", type: "INT64" },
    { name: "rows", type: "INT64", description: "rows written or affected; failing rows for assertions" },
    { name: "bytes_processed", type: "INT64", description: "BigQuery bytes processed (null on DuckDB)" },
    { name: "job_id", type: "STRING" },
    { name: "error", type: "STRING" },
    { name: "note", type: "STRING" },
    { name: "metrics_json", type: "STRING", description: "job figures (AUC, iterations…) as JSON" },
    { name: "full_refresh", type: "BOOL" },
  ] },
  {
    name: "incremental_definitions", layer: "meta", producer: { runner: "runner" },
    grain: "one row per incremental action and definition it was built under",
    description: "The definition each incremental table's days were built under (src/runner/definitions.ts): a run refuses to add days built under another one.",
    columns: [
    { name: "action", type: "STRING", description: "incremental action name, schema.table" },
    { name: "fingerprint", type: "STRING", description: "sha256 of its compiled SQL (query, incremental query, pre/post operations) and partition, cluster and uniqueKey config, comments and whitespace left out" },
    { name: "vars_json", type: "STRING", description: "the compile's vars (workflow_settings.yaml and --vars) as JSON" },
    { name: "run_id", type: "STRING", description: "the run whose action first succeeded under this definition" },
    { name: "recorded_at", type: "TIMESTAMP" },
    { name: "how", type: "STRING", description: "built (a first build or full refresh), incremental (first recorded on a table built before) or accepted (--accept-changed-definitions kept the older days)" },
  ] },
  {
    name: "crm_push_state", layer: "meta", producer: { command: "push lead-scores" },
    grain: "one row per lead",
    description: "What was last sent to the CRM per lead (idempotent pushes).",
    columns: [
    { name: "destination", type: "STRING", description: "endpoint URL without credentials or query" },
    { name: "lead_id", type: "STRING" },
    { name: "payload_hash", type: "STRING", description: "sha256 of [lead_id, score, segment, model_version] last acknowledged" },
    { name: "score", type: "INT64" },
    { name: "acknowledged_at", type: "TIMESTAMP" },
    { name: "run_id", type: "STRING" },
  ] },
  {
    name: "crm_push_dead_letters", layer: "meta", producer: { command: "push lead-scores" },
    grain: "one row per lead that could not be sent",
    description: "Lead scores the CRM refused, with the reason.",
    columns: [
    { name: "destination", type: "STRING" },
    { name: "lead_id", type: "STRING" },
    { name: "payload", type: "STRING", description: "the JSON row that was sent" },
    { name: "idempotency_key", type: "STRING" },
    { name: "http_status", type: "INT64", description: "last HTTP status (NULL: network error)" },
    { name: "error", type: "STRING" },
    { name: "attempts", type: "INT64" },
    { name: "failed_at", type: "TIMESTAMP" },
    { name: "run_id", type: "STRING" },
  ] },

  {
    name: "import_quarantine", layer: "meta", producer: { command: "import" },
    grain: "one row per input row set aside",
    description: "Input rows the importers set aside, with the field and the reason",
    columns: [
      s("source"), s("file"), { name: "line", type: "INT64" }, s("field"), s("reason"), s("raw_row"), { name: "quarantined_at", type: "TIMESTAMP" },
    ],
  },
  {
    name: "run_lease", layer: "meta", producer: { engine: "bigquery" },
    grain: "one row per dataset lease (lease_key 'dataset')",
    description: "The run lease on a shared warehouse (BigQuery): one writing run at a time",
    columns: [s("lease_key"), s("run_id"), s("host"), { name: "pid", type: "INT64" }, { name: "expires_at", type: "TIMESTAMP" }],
  },
  {
    name: "demo_sample", layer: "meta", producer: { command: "demo" },
    grain: "one row: the sample the warehouse's inputs hold",
    description: "Marks a warehouse whose inputs are the demo's sample: the demo writes its sample only into a warehouse so marked or whose GA4 and sources tables are empty, and every import removes the mark (the demo would otherwise overwrite imported data)",
    columns: [{ name: "users", type: "INT64" }, { name: "days", type: "INT64" }, { name: "seed", type: "INT64" }, { name: "generated_at", type: "TIMESTAMP" }],
  },

  // ---- Built by SQLX models: the analyst's outputs (the report and the reporting views read them) ----
  {
    name: "ml_journey_sequences", layer: "intermediate", producer: { model: "definitions/ml/ml_journey_sequences.sqlx" },
    grain: "one row per journey_end_date, touch_sequence, channel_stats, user_type, device, region, engagement",
    description: "Ordered-touch aggregate of the ML attribution job's sequence families (lstm, attention in vars.ml_families): journeys with the same last vars.ml_sequence_max_touches touches (channel and time gap, oldest first) and user covariates ending on the same day, with how many converted. Channels in vars.path_remove_channels are left out, as in channel_paths. Rows scale with distinct sequences × days, not users.",
    columns: [
      { name: "journey_end_date", type: "DATE", description: "UTC day of journey_end_at (the time split and the daily credit use it)" },
      s("touch_sequence", "touches oldest first joined by ' > ', each 'gap_bucket:channel' (gap_bucket: days from the touch to journey_end_at, 0 <1, 1 <3, 2 <7, 3 <14, 4 <30, 5 ≥30; channel escaped as in channel_paths: '%' → '%25', '>' → '%3E'); only the newest vars.ml_sequence_max_touches touches"),
      s("channel_stats", "the journey's feature vector exactly as in ml_journey_features (all its touches, not only the newest): the key to its feature row, so the stacked ensemble feeds the same journeys to the feature and the sequence families"),
      { name: "user_type", type: "STRING", description: "of the journey's first touch (sessions), measured before its conversion, '(not set)' when NULL (as in ml_journey_features): the sequence models' user covariates" },
      { name: "device", type: "STRING", description: "the device the journey's first touch recorded (int_session_identity; never OWOX's 'cross', which a purchase's login makes), '(not set)' when NULL" },
      { name: "region", type: "STRING", description: "of the journey's first touch (sessions), '(not set)' when NULL" },
      { name: "engagement", type: "STRING", description: "pages the journey's first touch viewed before any checkout or purchase event in its session (stg_ga4_events): '0-1 pages', '2-3 pages', '4-6 pages', '7+ pages', '(not set)' without GA4 events — observable intent, measured before the conversion" },
      { name: "touch_count", type: "INT64", description: "touches in touch_sequence" },
      { name: "journey_count", type: "INT64", description: "journeys with this sequence ending that day" },
      { name: "conversions", type: "INT64", description: "of them, converting journeys" },
      { name: "non_conversions", type: "INT64", description: "of them, journeys without a conversion" },
      { name: "conversion_value", type: "FLOAT64", description: "conversion value of the converting journeys" },
    ],
  },

  {
    name: "channel_performance", layer: "outputs", producer: { model: "definitions/attribution/channel_performance.sqlx" },
    grain: "one row per date, model, channel",
    description: "Spend and return per day, attribution model and channel: cost, clicks and impressions (stg_costs, channels by vars.channel_rules) beside the conversions and value the model credits to the channel for conversions on that day (session_credit), with CPA, ROAS and the change vs last touch. Every model gets a row for every day a channel had cost or credit. Restated with session_credit: each run rebuilds the days of its restatement window (vars.credit_restatement_days), credit and cost; older days keep the figures of the last run that restated them; --full-refresh rebuilds all.",
    columns: performanceColumns([], "channel"),
  },
  {
    name: "campaign_performance", layer: "outputs", producer: { model: "definitions/attribution/campaign_performance.sqlx" },
    grain: "one row per date, model, channel, source, medium, campaign",
    description: "channel_performance one level down: per source / medium / campaign. Cost rows meet credit (from the credited session's traffic source) on the same source, medium and campaign. Restated by day like channel_performance (vars.credit_restatement_days).",
    columns: performanceColumns(trafficColumns(), "campaign"),
  },

  {
    name: "conversion_paths", layer: "outputs", producer: { model: "definitions/attribution/conversion_paths.sqlx" },
    grain: "one row per conversion path",
    description: "Conversion paths as GA4 shows them: the channels of each converting journey's touches, oldest first, consecutive touches of one channel folded into one step (\"Email ×2\"), with the conversions and value of the journeys that took the path. path_rank 1 is the path with the most conversions.",
    columns: [
      s("path", "channels joined by ' > ', consecutive repeats as 'Channel ×n' (in names '%' is written '%25' and '>' '%3E', as in channel_paths)"),
      { name: "path_length", type: "INT64", description: "touches on the path (sessions of the journey, up to vars.max_path_length)" },
      { name: "conversions", type: "FLOAT64", description: "converting journeys that took the path" },
      { name: "value", type: "FLOAT64", description: "their conversion value" },
      { name: "conversion_share", type: "FLOAT64", description: "conversions / all conversions, 0–1" },
      { name: "path_rank", type: "INT64", description: "1 = most conversions (ties: more value, then path)" },
    ],
  },
  {
    name: "path_length_distribution", layer: "outputs", producer: { model: "definitions/attribution/path_length_distribution.sqlx" },
    grain: "one row per path length",
    description: "How many touches conversions take: converting journeys by number of touches.",
    columns: [
      { name: "path_length", type: "INT64", description: "touches of the converting journey (up to vars.max_path_length)" },
      { name: "conversions", type: "FLOAT64", description: "converting journeys with that many touches" },
      { name: "value", type: "FLOAT64", description: "their conversion value" },
      { name: "conversion_share", type: "FLOAT64", description: "conversions / all conversions, 0–1" },
      { name: "cumulative_share", type: "FLOAT64", description: "share of conversions with at most this many touches" },
    ],
  },
  {
    name: "time_lag_distribution", layer: "outputs", producer: { model: "definitions/attribution/time_lag_distribution.sqlx" },
    grain: "one row per whole days from first touch to conversion",
    description: "How long conversions take: converting journeys by whole days (24-hour periods) from their first touch to the conversion.",
    columns: [
      { name: "days_to_conversion", type: "INT64", description: "whole days from the journey's first touch (within vars.lookback_days) to the conversion; 0 = within 24 hours" },
      { name: "conversions", type: "FLOAT64", description: "converting journeys with that lag" },
      { name: "value", type: "FLOAT64", description: "their conversion value" },
      { name: "conversion_share", type: "FLOAT64", description: "conversions / all conversions, 0–1" },
      { name: "cumulative_share", type: "FLOAT64", description: "share of conversions within this many days" },
    ],
  },
  {
    name: "assisted_conversions", layer: "outputs", producer: { model: "definitions/attribution/assisted_conversions.sqlx" },
    grain: "one row per channel",
    description: "Closers and assisters (Google's multi-channel funnels): per channel, the conversions whose last touch it was and the ones it assisted (on the path, not the last touch; a channel can be both in one journey).",
    columns: [
      s("channel", "channel from vars.channel_rules"),
      { name: "last_touch_conversions", type: "FLOAT64", description: "converting journeys whose last touch is the channel" },
      { name: "last_touch_value", type: "FLOAT64", description: "their conversion value" },
      { name: "assisted_conversions", type: "FLOAT64", description: "converting journeys with a touch of the channel before the last touch" },
      { name: "assisted_value", type: "FLOAT64", description: "their conversion value" },
      { name: "assist_ratio", type: "FLOAT64", description: "assisted / last-touch conversions (above 1: more an opener than a closer; NULL when it closes none)" },
    ],
  },
  {
    name: "segment_credit_daily", layer: "outputs", producer: { model: "definitions/attribution/segment_credit_daily.sqlx" },
    grain: "one row per credit_date, model, channel, source, medium, campaign, device, user_type, region",
    description: "Every model's credit by conversion day and touch: channel, source / medium / campaign and the credited session's device, user type and region (session_credit rolled up), so credit rolls up by any of them. Restated by conversion day with session_credit (vars.credit_restatement_days).",
    columns: [
      { name: "credit_date", type: "DATE", description: "day of the conversion (UTC)" },
      s("model", "attribution model (every model session_credit holds)"),
      s("channel", "channel of the credited session ('(unknown)' when none)"),
      ...trafficColumns(),
      s("device", "device of the credited session (mobile, tablet, desktop, cross, '(not set)')"),
      s("user_type", "New or Returning at the credited session"),
      s("region", "region of the credited session's user ('(not set)' when unknown)"),
      { name: "conversions", type: "FLOAT64", description: "conversions the model credits (fractional)" },
      { name: "value", type: "FLOAT64", description: "conversion value the model credits" },
    ],
  },
];

/**
 * A SQLX model's description and column docs from its catalog entry (producer { model }), for its config block:
 * `description: catalog.docs("channel_performance").description, columns: catalog.docs("channel_performance").columns`.
 */
function docs(name) {
  const t = tables.find((x) => x.name === name);
  if (!t || !t.producer.model) throw new Error(`catalog.docs: ${name} is not a table a SQLX model builds in includes/catalog.js`);
  const columns = {};
  for (const c of t.columns) columns[c.name] = c.description || "";
  return { description: t.description, columns };
}

/**
 * The custom-events contract: the fields every custom-event source maps onto (settings custom_event_sources), with the
 * type staging casts each to. A source's column is read as text and cast; a row whose text does not cast is quarantined
 * with its source's name (custom_events_quarantine). The built-in source is the `custom_events` table above.
 * required: a source must map it. time_zone: a source may give one for `time` (for times written without an offset).
 */
const customEventFields = [
  { name: "name", type: "STRING", required: true, description: "event name (funnel steps match it with event_name)" },
  { name: "category", type: "STRING" },
  { name: "time", type: "TIMESTAMP", required: true, description: "when it happened; text without an offset is read in the source's time_zone (UTC by default)" },
  { name: "user_id", type: "STRING" },
  { name: "client_id", type: "STRING" },
  { name: "transaction_id", type: "STRING", description: "a conversion: the transaction it reports" },
  { name: "revenue", type: "FLOAT64", description: "not negative; a source may scale it (cents → units)" },
  { name: "cost", type: "FLOAT64", description: "not negative" },
  { name: "utm_source", type: "STRING" },
  { name: "utm_medium", type: "STRING" },
  { name: "utm_campaign", type: "STRING" },
  { name: "utm_term", type: "STRING" },
  { name: "utm_content", type: "STRING" },
  { name: "geo_region", type: "STRING" },
];

/** The cost contract (settings cost_sources): what every cost source maps onto; the `costs` table is the built-in source. */
const costFields = [
  { name: "date", type: "DATE", required: true },
  { name: "source", type: "STRING", required: true, description: "utm_source the ads bring (channel rules read it)" },
  { name: "medium", type: "STRING", required: true },
  { name: "campaign", type: "STRING" },
  { name: "cost", type: "FLOAT64", required: true, description: "not negative; a source may scale it (micros → units)" },
  { name: "clicks", type: "INT64" },
  { name: "impressions", type: "INT64" },
];

/**
 * Ready cost mappings for the BigQuery Data Transfer Service tables (cost_sources entries with "preset"); a source's own
 * "columns" override single fields. `{customer_id}` is the Google Ads customer id of the source.
 * Google Ads (https://cloud.google.com/bigquery/docs/google-ads-transformation): ads_CampaignBasicStats_<customer_id>
 * (one row per campaign, date, network, device…; metrics in micros) with names from ads_Campaign_<customer_id>
 * (a daily snapshot: the rows of _DATA_DATE = _LATEST_DATE are the current names).
 * Meta Ads (https://cloud.google.com/bigquery/docs/facebook-ads-transformation): the AdInsights report, whose Meta
 * API fields land as CamelCase columns (date_start → DateStart, campaign_name → CampaignName, spend → Spend…).
 */
const costSourcePresets = {
  google_ads_dts: {
    table: "ads_CampaignBasicStats_{customer_id}",
    columns: {
      date: "segments_date",
      source: { value: "google" },
      // Search and search partners are cpc (channel rule Paid Search), the display network is display.
      medium: { column: "segments_ad_network_type", values: { SEARCH: "cpc", SEARCH_PARTNERS: "cpc", CONTENT: "display", YOUTUBE_SEARCH: "video", YOUTUBE_WATCH: "video" }, default: "cpc" },
      campaign: { lookup: "campaign_name" },
      cost: { column: "metrics_cost_micros", scale: 0.000001 },
      clicks: "metrics_clicks",
      impressions: "metrics_impressions",
    },
    lookup: { table: "ads_Campaign_{customer_id}", key: "campaign_id", snapshot: "_DATA_DATE = _LATEST_DATE" },
  },
  meta_ads_dts: {
    table: "AdInsights",
    columns: {
      date: "DateStart",
      source: { value: "facebook" },
      medium: { value: "paid_social" },
      campaign: "CampaignName",
      cost: "Spend",
      clicks: "Clicks",
      impressions: "Impressions",
    },
  },
  // A CSV loaded with `funnelcredit import costs --source NAME FILE` has the contract's column names (all text).
  csv: {
    table: "{name}",
    columns: { date: "date", source: "source", medium: "medium", campaign: "campaign", cost: "cost", clicks: "clicks", impressions: "impressions" },
  },
};

module.exports = { tables, docs, customEventFields, costFields, costSourcePresets };
