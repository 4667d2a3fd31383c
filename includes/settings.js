/**
 * Every funnelcredit setting, read from workflow_settings.yaml `vars` (Dataform vars are strings:
 * lists and rules are JSON strings). The one place that holds defaults and validates; Dataform models
 * read `settings.*`, and the TypeScript runner loads this same file (src/config/settings.ts), so both
 * sides always agree. A bad var throws an error that names it.
 */
/**
 * The types of the parsed settings are inferred from parseSettings below (TypeScript reads them from
 * this file: src/config/settings.ts); only what JSON vars hold is spelled out here.
 * @typedef {{ event_name?: string, page_path_regex?: string, ecommerce_action?: string, hostname?: string, non_bounce?: boolean, custom_fields?: Record<string, string> }} StepMatch
 * @typedef {{ name: string, match: StepMatch, enabled: boolean }} FunnelStep
 * @typedef {{ channel: string, source?: string, medium?: string, campaign?: string }} ChannelRule
 * @typedef {{ column?: string, value?: string, lookup?: string, timeZone?: string, scale?: number, values?: Record<string, string>, default?: string }} FieldMapping
 *   how a source column becomes a contract field (fieldMapping below)
 * @typedef {{ database?: string, schema: string, name: string }} SourceTable
 * @typedef {{ name: string, builtin: boolean, table?: SourceTable, model?: string, lookup?: { table: SourceTable, key: string, snapshot: string },
 *   columns: Record<string, FieldMapping>, priority: number, sessionTimeoutMinutes: number | null, conversionEvents: string[] }} MappedSource
 *   a custom-event or cost source (vars.custom_event_sources / vars.cost_sources); the built-in table comes first
 */
const DEFAULTS = {
  // Dataset of the outputs; the layers get suffixes (staging, intermediate, models, meta, reporting).
  base_dataset: "",
  // Dev/prod separation (Dataform's --schema-suffix, dbt targets): "_<suffix>" ends every dataset funnelcredit
  // writes (each layer's, run history's), e.g. "dev" → funnelcredit_staging_dev. The inputs (GA4 export, sources)
  // are read where they are. `--dataset-suffix dev` sets it for one command. "" = none.
  dataset_suffix: "",
  ga4_dataset: "ga4_export",
  // Project of the GA4 export ("" = the default project), e.g. "bigquery-public-data" for the public sample
  // ga4_obfuscated_sample_ecommerce. The embedded DuckDB warehouse has one project and ignores it.
  ga4_project: "",
  // Columns of the GA4 export that older exports lack (collected_traffic_source and batch_event_index came in 2023):
  // "auto" (the runner reads the newest events_ table's schema before compiling and passes the list found; compiled
  // without a warehouse, both are assumed), "none", or a comma list of collected_traffic_source, batch_event_index.
  ga4_optional_columns: "auto",
  sources_dataset: "funnelcredit_sources",
  // First GA4 day a first run or a full refresh reads (YYYYMMDD), or "auto": lookback_days + reprocess_days before the
  // newest export day (a first run reads what the newest journeys need, not the whole export; set a day to keep more
  // history through full refreshes). reprocess_days: days re-processed on each incremental run (GA4 late data).
  start_date: "auto",
  reprocess_days: "3",
  // Credit restatement window (days): each incremental run re-credits the conversions dated from this many days before
  // the newest conversion a credit table holds; older conversions keep the credit of the last run that restated them
  // (as GA4's attribution reports do), and --full-refresh re-credits all. "auto" = reprocess_days: the days staging
  // restates for late events, so late data reaches every conversion it can touch (a session only counts for later
  // conversions). What moves outside the window until a full refresh: refits of the data-driven models (Markov,
  // Shapley, ML) and identity stitching that re-assigns old sessions.
  credit_restatement_days: "auto",
  // Conversion window: sessions up to this many days before a transaction share its value.
  lookback_days: "90",
  // One journey per conversion (GA4, DP6 MAM): a journey holds only the sessions after the chain's previous conversion.
  // Default true: the OWOX funnel already ends at each transaction, and without the reset a repeat buyer's earlier
  // touches are credited again for every later purchase (each model counts them once per conversion). "false" keeps
  // overlapping windows (every session in [transaction − lookback_days, transaction]).
  journey_reset_at_conversion: "true",
  // Longest chain of sessions kept per conversion path (older sessions are truncated and counted).
  max_path_length: "50",
  // OWOX: a user id with more sessions than this in one day counts as not logged in.
  max_sessions_per_user_day: "100",
  // Identity horizon (days, or "none"): how far back a login re-keys its client's sessions. "none" (OWOX): every session
  // of a client id takes the user id of the client's last trusted login, however much later it came. A number H: a
  // session takes the user id of the last trusted login on its client that started at most H days after it (later
  // logins do not reach back to it). Sessions after a login take its user id either way. With a number,
  // int_session_identity is incremental: a daily run rebuilds and reads only the days from H days before its window
  // (definitions/README.md, "Identity horizon"); without, every run rebuilds it whole. Measured on the cost plan's
  // property and the 10M sample (bench/horizons.ts): H = 90 changes no session's user, H = 30 0.06-0.20 % of them.
  identity_horizon_days: "none",
  invalid_user_ids: '["undefined","0","","null","(not set)"]',
  // Sessions of these "source / medium" pairs hand their value to the nearest earlier other session.
  excluded_sources: '["(direct) / (none)"]',
  conversion_events: '["purchase"]',
  // Does a GA4 transaction need a completed CRM transaction to be distributed over its journey (OWOX: "in GA but
  // not in the CRM = cancelled")? "auto": only when CRM rows exist for its period (its date lies between the first
  // and last CRM transaction date), so GA4-only setups get funnel credit; "always"; "never". Unconfirmed ones keep
  // 100 % of their value on the converting session. A CRM status other than completed drops a transaction in every mode.
  crm_confirms_transactions: "auto",
  // Funnel steps in order; each matched by event_name, page_path_regex, ecommerce_action or hostname.
  funnel_steps: JSON.stringify([
    { name: "site_visit", match: { non_bounce: true } },
    { name: "view_item", match: { event_name: "view_item" } },
    { name: "add_to_cart", match: { event_name: "add_to_cart" } },
    { name: "begin_checkout", match: { event_name: "begin_checkout" } },
    { name: "purchase", match: { event_name: "purchase" } },
  ]),
  // Channel grouping: first rule whose regexes all match wins; otherwise "source / medium".
  channel_rules: JSON.stringify([
    { channel: "Direct", source: "^\\(direct\\)$", medium: "^(\\(none\\)|\\(not set\\))$" },
    { channel: "Paid Search", medium: "^(cpc|ppc|paidsearch)$" },
    { channel: "Display", medium: "^(display|cpm|banner)$" },
    { channel: "Paid Social", medium: "^(paid_social|paidsocial|social_paid)$" },
    { channel: "Organic Social", medium: "^(social|social-network|sm)$" },
    { channel: "Email", medium: "^(email|e-mail|newsletter)$" },
    { channel: "Affiliates", medium: "^affiliate$" },
    { channel: "Referral", medium: "^referral$" },
    { channel: "Organic Search", medium: "^organic$" },
    { channel: "Offline", medium: "^offline$" },
    { channel: "Call Centre", medium: "^(call|phone)$" },
  ]),
  path_transform: "exposure",
  // Channels "last non-direct" skips (it falls back to the last touch when a path has nothing else).
  non_direct_excluded_channels: '["Direct"]',
  path_remove_channels: "[]",
  // Time-decay heuristic: "continuous" weighs a touch 0.5^(Δt / time_decay_half_life_days); "step" weighs it
  // 0.5^floor(Δt / time_decay_step_days) (DP6 MAM: the weight halves once per whole period), Δt = conversion − touch.
  time_decay_mode: "continuous",
  time_decay_half_life_days: "7",
  time_decay_step_days: "7",
  position_based_weights: "[0.4, 0.2, 0.4]",
  markov_order: "1",
  markov_use_nulls: "true",
  // OWOX funnel model: an event that happened several times in one funnel (identical events) shares its credit among
  // its occurrences by time decay with this half-life (an occurrence this many days before the transaction weighs ½).
  owox_decay_half_life_days: "7",
  owox_reliability_rule: "half_width_95",
  owox_reliability_max_half_width: "0.1",
  // With owox_reliability_rule "min_count": transitions out of a step needed before a level is trusted.
  owox_reliability_min_transitions: "30",
  shapley_max_exact_channels: "15",
  // Excitation linear (definitions/attribution/excitation_linear_touch_credit.sqlx): the window after a session in which
  // the user's next visits count as following it, and the incoming-excitation ratio above which a channel is responsive
  // (its visits follow other channels' touches; it gets no credit). Both read off the benchmark's seed-1 worlds
  // (bench/studies/calib.ts on branch calib), training seeds: 1.10 hurt decay, 1.20 hurt selection_bias.
  excitation_window_days: "3",
  excitation_responsive_ratio: "1.15",
  // Self-controlled (definitions/attribution/self_controlled_channel_credit.sqlx, issue #17): the risk window after a
  // channel's session in which the chain's conversions count as following it, and the incoming-excitation z-score
  // ((observed − expected) / √expected, channel_excitation.incoming_z) above which a channel is responsive (its visits
  // come after other channels' touches more than chance allows; it gets no credit). Both chosen on the benchmark's
  // training seeds 1–3 (bench/studies/selbias.ts; README "Accuracy"). The window: "auto" (a quarter of the data's span,
  // from its first to its last session) or a number of days. 14 days on every span missed selection_bias on short
  // (28-day) data: the baseline spreads each chain's conversion evenly over the span, and the wider the window's share
  // of the span, the more that premise's error (a high-intent chain converts early) moves into the excess
  // (bench/studies/selbias3.ts; issue #16).
  self_controlled_window_days: "auto",
  self_controlled_responsive_z: "3",
  // Shapley value function v(S) (src/models/shapley.ts): "subset_conversions" = conversions of the journeys whose channels
  // all lie in S (Zhao et al. 2018: each converting journey shared equally by its channels); "exact_set_rate" =
  // conversion rate of the journeys with exactly the channels S (Dalessandro et al. 2012; the default before, gives 0 to
  // a channel that only opens journeys when the closing channel alone converts better); "containing_set_rate" =
  // conversion rate of the journeys containing S. Default subset_conversions: it never punishes openers and has no
  // negative marginal contributions to clip.
  shapley_value_function: "subset_conversions",
  // ML attribution refusal rule (src/ml-attribution/validation.ts): publish only when the lower end of the test AUC's
  // 95 % interval (Hanley–McNeil, from the test window's converting and non-converting journeys) reaches this; 0.50 =
  // refuse a model its test window cannot tell from chance, 0 = publish every model. Calibrated on the ground-truth
  // benchmark (README "Accuracy"): a floor on the AUC itself (0.70 before) refused models whose credit was closer to the
  // truth than the best heuristic's, while the models this rule refuses were all further from it.
  ml_min_auc: "0.50",
  // Credit intervals (jobs/credit-intervals.ts): Poisson-bootstrap replicates of channel_paths per model; 0 = no intervals.
  credit_bootstrap_replicates: "100",
  drift_max_auc_drop: "0.10",
  ml_max_channel_share: "1",
  // ML attribution (jobs/ml-attribution.ts). Time split of journey days, in percent: train/validate/test, oldest first.
  ml_split: "70/15/15",
  // Journeys ending in the last N days of the data are left out of fitting and testing (still credited): a
  // non-converting journey that ends near the data's end is still open and may yet convert (right-censoring).
  ml_censor_days: "7",
  // Model-as-value-function Shapley: exact over a journey's channels up to this many, seeded permutation sampling above.
  ml_shapley_max_exact_channels: "8",
  ml_shapley_permutations: "200",
  // Boosting: rounds are an upper bound (early stopping on the validation days keeps the best prefix).
  ml_max_rounds: "300",
  ml_max_depth: "4",
  ml_learning_rate: "0.1",
  ml_early_stopping_rounds: "20",
  ml_seed: "1",
  // Which credit method ml_calibrated_credit calibrates: removal_effect, shapley or treeshap.
  ml_calibrated_method: "shapley",
  // Model families fitted beside XGBoost (which always runs) on the same split and credited by the same methods,
  // written to ml_family_credit: logistic_regression (the interpretable baseline), stacked_ensemble (a logistic
  // meta-model over XGBoost and logistic_regression; needs logistic_regression), causal_dml (double-ML incremental
  // effects, ml_causal_effects), lstm and attention (sequence models over the ordered touches of ml_journey_sequences,
  // credited by removal and Shapley, plus attention weights as a view). With stacked_ensemble and a sequence family on,
  // a second ensemble stacks the sequence families too (family stacked_ensemble_sequences in ml_family_credit; not a
  // registered model). A JSON list; [] fits XGBoost alone. Default: the logistic baseline only — on the
  // accuracy benchmark the other two cost their time (stacked_ensemble's credit runs XGBoost again) without crediting
  // closer to the truth (README "Accuracy").
  ml_families: '["logistic_regression"]',
  // Sequence families (lstm, attention in ml_families): the last touches of a journey they read
  // (ml_journey_sequences keeps the newest ml_sequence_max_touches; fewer = fewer distinct sequences to train on),
  // hidden units, and the most training epochs (early stopping on the validation days stops sooner).
  ml_sequence_max_touches: "12",
  ml_sequence_hidden_units: "16",
  ml_sequence_max_epochs: "30",
  // XGBoost backend of the ML attribution and lead-scoring models: auto (native when it loads, else
  // wasm; native fits 1M rows about twice as fast), wasm (same results on every machine) or native
  // (Debian's libxgboost0 through koffi; fails when it does not load). Recorded on every model: hist
  // binning differs between the two.
  xgboost_backend: "auto",
  // Largest ml_journey_features aggregate the job reads (rows).
  ml_max_feature_rows: "500000",
  bad_row_max_share: "0.05",
  // Custom events quarantined in staging are a warning (dq_custom_events_quarantined, the run summary) only when
  // their share passes this; below it they are counted in the run log as a note. At most bad_row_max_share.
  bad_row_warn_share: "0.01",
  currency: "USD",
  hash_user_ids: "false",
  // Data quality: a larger share of GA4 sessions without any traffic source is reported (direct visits are normal below it).
  max_sessions_without_source_share: "0.5",
  // Where channel_paths comes from: "warehouse" (built from conversion_journeys) or "import" (the
  // channel_paths_import source table, so ChannelAttribution path files can be modelled directly).
  path_source: "warehouse",
  // Data-quality assertions that fail the run (names of definitions/assertions/*); the others only warn.
  failing_assertions: "[]",
  // Smallest acceptable share of sessions whose chain is keyed by a user id (assertion dq_identity_resolved_share).
  min_identity_resolved_share: "0",
  // Window for user properties (OWOX: user type, cross-device and first region look back this many days).
  user_properties_window_days: "365",
  // Lead scoring (definitions/leads, jobs/lead-scoring.ts).
  // Split of labelled leads: "time" (train oldest, validate newer, test newest) or "random" (stratified, seeded; for data without dates).
  lead_split: "time",
  lead_validation_share: "0.15",
  lead_test_share: "0.15",
  lead_split_seed: "42",
  // Score (0–100) at or above which a lead counts as predicted to convert (confusion matrix; segment "hot").
  lead_score_cutoff: "50",
  // Features are computed as of created_at + this many hours (0 = at lead creation); nothing later is read.
  lead_cutoff_hours: "0",
  // Behaviour older than this many days before the cut-off is ignored.
  lead_behaviour_lookback_days: "180",
  // Pages that show buying intent (RE2, matched on page_path) and custom events that count as downloads.
  lead_intent_page_regex: "(?i)(pricing|demo|contact)",
  lead_download_event_regex: "(?i)(download|whitepaper|ebook)",
  // Leads younger than this (at run time) are scored but left out of training and evaluation: their outcome is not known yet.
  lead_label_maturity_days: "30",
  // Lead columns never used as features (e.g. ones that leak the outcome), as a JSON list of snake_case names.
  lead_exclude_columns: "[]",
  // "one_hot" (with a rare-level bucket) or "ordinal" (frequency rank, target-free).
  lead_categorical_encoding: "one_hot",
  // XGBoost parameters (JSON object; names as in src/models/xgboost/params.ts) and the most boosting rounds (early stopping picks fewer).
  // Shallow, regularised trees with row/column subsampling (seeded): small lead tables overfit fast.
  lead_xgb_params: '{"max_depth":3,"eta":0.03,"min_child_weight":10,"lambda":5,"subsample":0.8,"colsample_bytree":0.8}',
  lead_max_rounds: "800",
  // Lead columns that would let the model cheat: one that alone predicts the label with an AUC above lead_leakage_max_auc
  // (recorded after the outcome), or a numeric id unique per lead and in creation-time order. "warn" names them and trains
  // anyway; "refuse" fails the job until they are excluded (lead_exclude_columns, or `import leads --exclude`).
  lead_leakage: "warn",
  lead_leakage_max_auc: "0.95",
  // "always" retrains every run; "if_needed" only when monitoring says so (or no model exists); "never" reuses the saved model.
  lead_retrain: "always",
  // Champion and challenger: a retrained lead-scoring model becomes current only if, on the same newest leads, its ROC AUC
  // is at least the current model's minus this and its log loss at most the current model's plus this; otherwise the
  // current model keeps scoring and the retrained one is kept as a challenger (`funnelcredit models promote` can still use it).
  lead_challenger_tolerance: "0.005",
  // Pipeline credit (jobs/pipeline-credit.ts): open leads' calibrated probability × expected deal value, shared over the
  // sessions before each lead's creation (within lookback_days) by this rule-based model: first_touch, last_touch,
  // last_non_direct, linear, time_decay or position_based (the rules and settings of heuristic_touch_credit).
  pipeline_attribution_model: "position_based",
  // A column of the leads source holding each lead's expected deal value (in vars.currency); "" = none. It is never a feature.
  lead_deal_value_column: "",
  // Expected deal value of a lead without one in lead_deal_value_column. The default 1 counts every deal as 1, so
  // pipeline_value equals expected_conversions until a value is set.
  lead_default_deal_value: "1",
  // L2 penalty of the logistic-regression baseline fitted beside the lead-scoring booster (standardised columns).
  lead_baseline_l2: "1",
  // Lead columns whose levels are monitored as segments (score PSI/KS and AUC per level against its own baseline;
  // a drifted segment asks for retraining), as a JSON list of lead_features columns, e.g. ["lead_source","country"].
  lead_monitor_segments: '["lead_source"]',
  // Population stability index above which a feature or the score counts as drifted.
  lead_psi_max: "0.2",
  // Most rows a job reads from one query (resource bound): past it the job fails, naming this setting, instead of
  // running out of memory. Raise it for bigger aggregates, or narrow them (max_path_length, lookback_days).
  max_job_rows: "1000000",
  // BigQuery: most bytes one job may bill (maximumBytesBilled, 1 TiB); a job that would bill more fails before it
  // runs, naming the action and the bytes. "0" = no cap. `--maximum-bytes-billed` overrides it for one run.
  maximum_bytes_billed: "1099511627776",
  // BigQuery on-demand price per TiB processed, in vars.currency: `run --dry-run` prints each action's and the run's
  // bytes also as cost. 6.25 USD is the list price in the US and EU multi-regions; other regions differ.
  on_demand_price_per_tib: "6.25",
  // What `funnelcredit import` does with a bad row: "quarantine" (set it aside in <base>_meta.import_quarantine,
  // fail only past bad_row_max_share) or "reject" (the first bad row fails the import). --bad-rows overrides.
  import_bad_rows: "quarantine",
  // `push lead-scores`: the longest wait for one CRM request (a hung endpoint is retried, then dead-lettered) and for
  // the whole push (what is not acknowledged by then stays for the next push). The warehouse is not held meanwhile.
  crm_request_timeout_seconds: "30",
  crm_push_timeout_seconds: "900",
  // Custom-event sources besides the built-in `custom_events` table (a JSON list; see docs/custom-events.md), each:
  // {"name": "call_centre", "table": "[project.][dataset.]table" or "model": "<SQLX model in definitions/custom/>",
  //  "columns": {"<contract field>": "column" | {"column": "c", "time_zone": "Europe/London", "scale": 0.01,
  //  "values": {"a": "b"}, "default": "x"} | {"value": "constant"}}, "session_timeout_minutes": 30, "priority": 2,
  //  "conversion_events": ["sale"]}. Contract fields: includes/catalog.js customEventFields (name and time required, and
  // user_id or client_id). A table without a dataset is in sources_dataset. Lower priority wins when two sources report
  // one transaction (the built-in source has priority 1; every custom source beats GA4 and the CRM, as before).
  custom_event_sources: "[]",
  // Cost sources besides the built-in `costs` table, the same way: {"name", "table"|"model", "columns"} with the cost
  // contract (includes/catalog.js costFields), or a "preset": "google_ads_dts" (+ "customer_id", "dataset"),
  // "meta_ads_dts" (+ "dataset") or "csv" (a table loaded with `import costs --source NAME`), "columns" overriding fields.
  cost_sources: "[]",
};

/**
 * Former names of settings, renamed to carry their domain's prefix (ml_, lead_, owox_, …): still accepted,
 * with a warning (parseSettings' `deprecations`), and refused when given together with the new name.
 */
const DEPRECATED_NAMES = {
  psi_max: "lead_psi_max",
  max_channel_share: "ml_max_channel_share",
  reliability_rule: "owox_reliability_rule",
  reliability_max_half_width: "owox_reliability_max_half_width",
  reliability_min_transitions: "owox_reliability_min_transitions",
};

/**
 * The Dataform CLI splits `--vars` on every comma, so funnelcredit passes override values containing
 * commas (JSON lists) as "b64:" + base64url of their UTF-8 text; decoded here. (No Buffer/atob in
 * Dataform's compile sandbox, hence the small decoder.)
 */
function decodeVar(value) {
  if (typeof value !== "string" || !value.startsWith("b64:")) return value;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const bytes = [];
  let bits = 0;
  let acc = 0;
  for (const ch of value.slice(4)) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`a b64: var has the character ${JSON.stringify(ch)}, which is not base64url`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) { bits -= 8; bytes.push((acc >> bits) & 0xff); }
  }
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const n = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    let cp = n === 1 ? b : b & (0xff >> (n + 1));
    for (let k = 1; k < n; k++) cp = (cp << 6) | (bytes[i + k] & 0x3f);
    out += String.fromCodePoint(cp);
    i += n;
  }
  return out;
}

/** Edit distance (Levenshtein), for "did you mean" on a misspelt var. */
function editDistance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The known setting closest to a misspelt name, if it is close enough to be a typo. */
function closestSetting(name) {
  let best;
  let bestDistance = Infinity;
  for (const k of Object.keys(DEFAULTS)) {
    const d = editDistance(name.toLowerCase(), k);
    if (d < bestDistance) { best = k; bestDistance = d; }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/** Custom-event columns a funnel step can match on with "custom_fields" (stg_custom_events names; `source` is the source's name). */
const CUSTOM_STEP_FIELDS = ["source", "event_name", "category", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "geo_region"];

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;
/** [project.][dataset.]table → { database, schema, name }; a bare table is in the sources dataset. */
function tableRef(text, sourcesDataset) {
  const parts = String(text).split(".");
  const okProject = (p) => /^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(p);
  if (parts.length === 1 && IDENT.test(parts[0])) return { schema: sourcesDataset, name: parts[0] };
  if (parts.length === 2 && parts.every((p) => IDENT.test(p))) return { schema: parts[0], name: parts[1] };
  if (parts.length === 3 && okProject(parts[0]) && IDENT.test(parts[1]) && IDENT.test(parts[2])) return { database: parts[0], schema: parts[1], name: parts[2] };
  return undefined;
}

/**
 * One column mapping onto a contract field, normalised: { column } | { value } | { lookup } plus time_zone (time only),
 * scale (numbers only), values/default (text recoding). Returns an error text or the mapping.
 */
function fieldMapping(field, spec) {
  const m = typeof spec === "string" ? { column: spec } : spec;
  if (!m || typeof m !== "object" || Array.isArray(m)) return `${field.name}: expected a column name or an object like {"column": "c"} or {"value": "v"}`;
  const known = ["column", "value", "lookup", "time_zone", "scale", "values", "default"];
  const unknown = Object.keys(m).filter((k) => !known.includes(k));
  if (unknown.length) return `${field.name}: unknown key(s) ${unknown.join(", ")} (known: ${known.join(", ")})`;
  const kinds = ["column", "value", "lookup"].filter((k) => m[k] !== undefined);
  if (kinds.length !== 1) return `${field.name}: give exactly one of "column", "value" or "lookup"`;
  if (m.column !== undefined && !IDENT.test(String(m.column))) return `${field.name}: column ${JSON.stringify(m.column)} is not a column name (letters, digits, underscores)`;
  if (m.lookup !== undefined && !IDENT.test(String(m.lookup))) return `${field.name}: lookup ${JSON.stringify(m.lookup)} is not a column name`;
  if (m.value !== undefined && !["string", "number"].includes(typeof m.value)) return `${field.name}: "value" must be text or a number`;
  if (m.time_zone !== undefined && (field.type !== "TIMESTAMP" || !/^([A-Za-z_]+(\/[A-Za-z0-9_+-]+)*|[+-]\d{2}:\d{2})$/.test(String(m.time_zone)))) {
    return `${field.name}: "time_zone" is for time only, as an IANA name like "Europe/London" or an offset like "+02:00"`;
  }
  if (m.scale !== undefined && (field.type !== "FLOAT64" || typeof m.scale !== "number" || !(m.scale > 0))) return `${field.name}: "scale" is for amounts only, a number above 0 (e.g. 0.01 for cents)`;
  if (m.values !== undefined && (!m.values || typeof m.values !== "object" || Object.values(m.values).some((v) => typeof v !== "string"))) return `${field.name}: "values" must map source text to text`;
  if (m.default !== undefined && typeof m.default !== "string") return `${field.name}: "default" must be text`;
  return { column: m.column, value: m.value === undefined ? undefined : String(m.value), lookup: m.lookup, timeZone: m.time_zone, scale: m.scale, values: m.values, default: m.default };
}

/**
 * custom_event_sources / cost_sources: the built-in table first (every contract field from its own column), then the
 * configured sources, each validated with errors naming the var, the source and the field.
 * @returns {MappedSource[]}
 */
function mappedSources(k, fields, opts) {
  const builtin = {
    name: opts.builtinTable, builtin: true, table: { schema: opts.sourcesDataset, name: opts.builtinTable },
    columns: Object.fromEntries(fields.map((f) => [f.name, { column: f.name }])), priority: 1, sessionTimeoutMinutes: null, conversionEvents: [],
  };
  const list = opts.json(k, (v) => Array.isArray(v), 'a JSON list of sources like [{"name":"call_centre","table":"calls","columns":{...}}]');
  const out = [builtin];
  const names = new Set([opts.builtinTable]);
  (list || []).forEach((raw, i) => {
    const where = `source ${i + 1}${raw && typeof raw.name === "string" ? ` (${raw.name})` : ""}`;
    const fail = (why) => { opts.bad(k, `${where}: ${why}`); };
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) return fail("expected an object");
    if (typeof raw.name !== "string" || !/^[a-z][a-z0-9_]{0,62}$/.test(raw.name)) return fail('"name" must be lower_snake_case');
    if (names.has(raw.name)) return fail(`the name "${raw.name}" is used twice (${opts.builtinTable} is the built-in source)`);
    names.add(raw.name);
    const known = ["name", "table", "model", "columns", "session_timeout_minutes", "priority", "conversion_events", "preset", "customer_id", "dataset"];
    const unknown = Object.keys(raw).filter((x) => !known.includes(x));
    if (unknown.length) return fail(`unknown key(s) ${unknown.join(", ")} (known: ${known.join(", ")})`);
    let preset;
    if (raw.preset !== undefined) {
      preset = opts.presets && opts.presets[raw.preset];
      if (!preset) return fail(`unknown preset ${JSON.stringify(raw.preset)}` + (opts.presets ? ` (known: ${Object.keys(opts.presets).join(", ")})` : " (presets are for cost_sources)"));
      if (preset.table.includes("{customer_id}") && !/^\d{10}$/.test(String(raw.customer_id || "").replace(/-/g, ""))) return fail('preset google_ads_dts needs "customer_id": the 10-digit Google Ads customer id');
    } else if (raw.customer_id !== undefined || raw.dataset !== undefined) {
      return fail('"customer_id" and "dataset" go with a "preset"');
    }
    if (raw.dataset !== undefined && !IDENT.test(String(raw.dataset))) return fail('"dataset" must be a dataset name');
    const fill = (t) => t.replace("{customer_id}", String(raw.customer_id || "").replace(/-/g, "")).replace("{name}", raw.name);
    const presetTable = (t) => (raw.dataset ? `${raw.dataset}.${fill(t)}` : fill(t));
    if ((raw.table !== undefined) + (raw.model !== undefined) > 1) return fail('give "table" or "model", not both');
    let table; let model; let lookup;
    if (raw.model !== undefined) {
      if (!IDENT.test(String(raw.model))) return fail('"model" must be the name of a SQLX model (its file name in definitions/custom/)');
      model = String(raw.model);
    } else {
      const text = raw.table !== undefined ? raw.table : preset ? presetTable(preset.table) : undefined;
      if (text === undefined) return fail('needs "table" ([project.][dataset.]table) or "model" (a SQLX model in definitions/custom/)');
      table = tableRef(text, opts.sourcesDataset);
      if (!table) return fail(`table ${JSON.stringify(text)} is not [project.][dataset.]table`);
    }
    if (preset && preset.lookup) {
      const t = tableRef(presetTable(preset.lookup.table), opts.sourcesDataset);
      lookup = { table: t, key: preset.lookup.key, snapshot: preset.lookup.snapshot };
    }
    // A list names fields a model (or table) already has under the contract's names.
    const given = raw.columns === undefined ? {} : Array.isArray(raw.columns)
      ? Object.fromEntries(raw.columns.map((f) => [String(f), String(f)]))
      : raw.columns;
    if (!given || typeof given !== "object") return fail('"columns" must be an object of contract field → mapping, or a list of contract fields the table has under their own names');
    const specs = Object.assign({}, preset ? preset.columns : {}, given);
    const columns = {};
    for (const [f, spec] of Object.entries(specs)) {
      const field = fields.find((x) => x.name === f);
      if (!field) return fail(`columns: ${f} is not a contract field (${fields.map((x) => x.name).join(", ")})`);
      if (spec === null) continue;
      const m = fieldMapping(field, spec);
      if (typeof m === "string") return fail(`columns.${m}`);
      if (m.lookup && !lookup) return fail(`columns.${f}: "lookup" is only available in a preset with a lookup table`);
      columns[f] = m;
    }
    const missing = fields.filter((f) => f.required && !columns[f.name]).map((f) => f.name);
    if (missing.length) return fail(`columns: map ${missing.join(", ")} (required)`);
    if (fields.some((f) => f.name === "user_id") && !columns.user_id && !columns.client_id) return fail("columns: map user_id or client_id (a custom event needs someone to belong to)");
    let sessionTimeoutMinutes = null;
    if (raw.session_timeout_minutes !== undefined) {
      if (!fields.some((f) => f.name === "user_id")) return fail('"session_timeout_minutes" is for custom-event sources');
      if (!Number.isInteger(raw.session_timeout_minutes) || raw.session_timeout_minutes < 1 || raw.session_timeout_minutes > 1440) return fail('"session_timeout_minutes" must be a whole number from 1 to 1440');
      sessionTimeoutMinutes = raw.session_timeout_minutes;
    }
    const priority = raw.priority === undefined ? 1 : raw.priority;
    if (!Number.isInteger(priority) || priority < 1 || priority > 1000) return fail('"priority" must be a whole number from 1 to 1000 (lower wins)');
    const conversionEvents = raw.conversion_events === undefined ? [] : raw.conversion_events;
    if (!Array.isArray(conversionEvents) || conversionEvents.some((x) => typeof x !== "string")) return fail('"conversion_events" must be a list of event names');
    if (conversionEvents.length && !fields.some((f) => f.name === "transaction_id")) return fail('"conversion_events" is for custom-event sources');
    out.push({ name: raw.name, builtin: false, table, model, lookup, columns, priority, sessionTimeoutMinutes, conversionEvents });
  });
  return out;
}

/**
 * `overridden`: names given on the command line (`--vars`), so an error blames the place the value
 * came from. Every bad var is reported, not just the first (one error per line).
 */
function parseSettings(rawVars, overridden) {
  const decoded = {};
  for (const [k, v] of Object.entries(rawVars || {})) decoded[k] = decodeVar(v);
  rawVars = decoded;
  const fromCli = new Set(overridden || []);
  /** @type {string[]} */
  const deprecations = [];
  const renameErrors = [];
  /** @type {Record<string, string>} */
  const givenAs = {};
  for (const [old, name] of Object.entries(DEPRECATED_NAMES)) {
    if (!(old in rawVars)) continue;
    if (name in rawVars) renameErrors.push(`vars.${old} and vars.${name} are both set: ${old} is the former name of ${name}; keep only ${name}`);
    else deprecations.push(`vars.${old} is deprecated: rename it ${name} (same meaning)`);
    if (!(name in rawVars)) { rawVars[name] = rawVars[old]; givenAs[name] = old; }
    delete rawVars[old];
    if (fromCli.has(old)) fromCli.add(name);
  }
  const vars = Object.assign({}, DEFAULTS, rawVars);
  const errors = renameErrors;
  const origin = (k) => (fromCli.has(k) ? "--vars" : "workflow_settings.yaml vars");
  for (const k of Object.keys(rawVars || {})) {
    if (k in DEFAULTS || k.startsWith("x_")) continue;
    const guess = closestSetting(k);
    errors.push(`${origin(k)}: unknown setting(s) ${k}` + (guess ? ` (did you mean ${guess}?)` : " (every setting is listed with its default in includes/settings.js; names starting with x_ are free for your own models)"));
  }
  // Records the error: parsing goes on so that every bad var is reported at once. Its return value is never
  // read (parseSettings throws when any var was bad), hence typed `never` for the settings' types.
  /** @type {(k: string, why: string) => never} */
  const bad = (k, why) => {
    const name = givenAs[k] ? `${k} (given as its former name ${givenAs[k]})` : k;
    errors.push(fromCli.has(k) ? `vars.${name} = ${JSON.stringify(vars[k])}: ${why} (given with --vars)` : `workflow_settings.yaml vars.${name} = ${JSON.stringify(vars[k])}: ${why}`);
    return /** @type {never} */ (undefined);
  };
  /**
   * One of the allowed words.
   * @template {string} T
   * @param {string} k
   * @param {readonly T[]} allowed
   * @returns {T}
   */
  const oneOf = (k, allowed) => {
    const v = String(vars[k]);
    if (/** @type {readonly string[]} */ (allowed).includes(v)) return /** @type {T} */ (v);
    const quoted = allowed.map((a) => JSON.stringify(a));
    return bad(k, `expected ${quoted.length === 2 ? quoted.join(" or ") : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`}`);
  };
  /** @type {(k: string, min: number, max: number) => number} */
  const int = (k, min, max) => {
    const s = String(vars[k]).trim();
    if (!/^-?\d+$/.test(s)) return bad(k, "expected a whole number");
    const n = Number(s);
    if (n < min || n > max) return bad(k, `expected a number from ${min} to ${max}`);
    return n;
  };
  /** A whole number or the given word (named in the error). @type {(k: string, min: number, max: number, word: string) => number} */
  const intOr = (k, min, max, word) => {
    const s = String(vars[k]).trim();
    if (!/^-?\d+$/.test(s)) return bad(k, `expected ${word} or a whole number`);
    return int(k, min, max);
  };
  /** @type {(k: string, min: number, max: number) => number} */
  const num = (k, min, max) => {
    const n = Number(vars[k]);
    if (!Number.isFinite(n) || String(vars[k]).trim() === "") return bad(k, "expected a number");
    if (n < min || n > max) return bad(k, `expected a number from ${min} to ${max}`);
    return n;
  };
  /** A number, or `word` handled by the caller (like intOr): anything else names both. @type {(k: string, min: number, max: number, word: string) => number} */
  const numOr = (k, min, max, word) => {
    if (!Number.isFinite(Number(vars[k])) || String(vars[k]).trim() === "") return bad(k, `expected ${word} or a number from ${min} to ${max}`);
    return num(k, min, max);
  };
  /** @type {(k: string) => boolean} */
  const bool = (k) => {
    const s = String(vars[k]).trim().toLowerCase();
    if (s !== "true" && s !== "false") return bad(k, 'expected "true" or "false"');
    return s === "true";
  };
  /** @type {(k: string, check: (v: any) => boolean, what: string) => any} */
  const json = (k, check, what) => {
    let v;
    try { v = JSON.parse(vars[k]); } catch (e) { return bad(k, `not valid JSON (${e.message}); write ${what}`); }
    if (!check(v)) return bad(k, `expected ${what}`);
    return v;
  };
  /** @type {(v: unknown) => boolean} */
  const strList = (v) => Array.isArray(v) && v.every((x) => typeof x === "string");
  /** @type {(k: string) => string} */
  const dataset = (k) => {
    const s = String(vars[k]);
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/.test(s)) return bad(k, "expected a dataset name (letters, digits, underscores)");
    return s;
  };
  const GA4_OPTIONAL_COLUMNS = ["collected_traffic_source", "batch_event_index"];
  // "auto" unresolved (compiled without a warehouse) assumes an export from 2023 on: both columns.
  const ga4OptionalColumns = (text) => {
    const t = text.trim();
    const names = t === "auto" ? GA4_OPTIONAL_COLUMNS : t === "none" ? [] : t.split(",").map((x) => x.trim());
    const unknown = names.filter((n) => !GA4_OPTIONAL_COLUMNS.includes(n));
    if (!t || unknown.length) return bad("ga4_optional_columns", `expected "auto", "none" or a comma list of ${GA4_OPTIONAL_COLUMNS.join(", ")}`);
    return { auto: t === "auto", collectedTrafficSource: names.includes("collected_traffic_source"), batchEventIndex: names.includes("batch_event_index") };
  };
  /** @type {(k: string, where: string, pattern: string) => string} */
  const regex = (k, where, pattern) => {
    try { new RegExp(pattern); } catch (e) { return bad(k, `${where}: invalid regular expression ${JSON.stringify(pattern)} (${e.message})`); }
    return pattern;
  };
  const projectDefault = typeof dataform !== "undefined" ? dataform.projectConfig.defaultSchema : "funnelcredit";
  const base = vars.base_dataset ? dataset("base_dataset") : projectDefault;
  const suffix = /^[A-Za-z0-9_]{0,64}$/.test(String(vars.dataset_suffix)) ? (vars.dataset_suffix ? `_${vars.dataset_suffix}` : "")
    : bad("dataset_suffix", "expected letters, digits and underscores (at most 64), e.g. dev") || "";
  if (vars.start_date !== "auto" && !/^\d{8}$/.test(String(vars.start_date))) bad("start_date", 'expected "auto" or a date as YYYYMMDD');

  const steps = json("funnel_steps", (v) => Array.isArray(v) && v.length >= 2, 'a JSON list of at least two steps like [{"name":"view_item","match":{"event_name":"view_item"}}]');
  const stepNames = new Set();
  (steps || []).forEach((s, i) => {
    if (!s || typeof s.name !== "string" || !/^[a-z][a-z0-9_]*$/.test(s.name)) return bad("funnel_steps", `step ${i + 1}: "name" must be lower_snake_case`);
    if (stepNames.has(s.name)) bad("funnel_steps", `step "${s.name}" appears twice`);
    stepNames.add(s.name);
    const m = s.match || {};
    const keys = Object.keys(m);
    const allowed = ["event_name", "page_path_regex", "ecommerce_action", "hostname", "non_bounce", "custom_fields"];
    if (!keys.length || keys.some((k) => !allowed.includes(k))) return bad("funnel_steps", `step "${s.name}": "match" needs one of ${allowed.join(", ")}`);
    if (m.custom_fields !== undefined) {
      const cf = m.custom_fields;
      const fields = CUSTOM_STEP_FIELDS;
      if (!cf || typeof cf !== "object" || Array.isArray(cf) || !Object.keys(cf).length || Object.entries(cf).some(([f, v]) => !fields.includes(f) || typeof v !== "string")) {
        return bad("funnel_steps", `step "${s.name}": "custom_fields" must be an object of field → text, fields from ${fields.join(", ")} (custom events only)`);
      }
    }
    if (m.page_path_regex) regex("funnel_steps", `step "${s.name}"`, m.page_path_regex);
    if (m.hostname) regex("funnel_steps", `step "${s.name}"`, m.hostname);
  });
  const rules = json("channel_rules", (v) => Array.isArray(v) && v.every((r) => r && typeof r.channel === "string"), 'a JSON list like [{"channel":"Paid Search","medium":"^cpc$"}]');
  (rules || []).forEach((r, i) => ["source", "medium", "campaign"].forEach((f) => { if (r[f] !== undefined) regex("channel_rules", `rule ${i + 1} (${r.channel}) ${f}`, r[f]); }));
  const weights = json("position_based_weights", (v) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number" && x >= 0), "[first, middle, last] shares, e.g. [0.4, 0.2, 0.4]");
  if (weights && Math.abs(weights[0] + weights[1] + weights[2] - 1) > 1e-9) bad("position_based_weights", "the three shares must add up to 1");
  /** @type {("logistic_regression" | "stacked_ensemble" | "causal_dml" | "lstm" | "attention")[]} */
  const ML_FAMILIES = ["logistic_regression", "stacked_ensemble", "causal_dml", "lstm", "attention"];
  /** @type {() => typeof ML_FAMILIES} */
  const mlFamilies = () => {
    const what = `a JSON list of ${ML_FAMILIES.join(", ")}, e.g. ${JSON.stringify(ML_FAMILIES)}`;
    const list = json("ml_families", (v) => Array.isArray(v) && v.every((x) => typeof x === "string"), what);
    if (!list) return [];
    const unknown = list.filter((f) => !ML_FAMILIES.includes(f));
    if (unknown.length) return bad("ml_families", `unknown famil${unknown.length > 1 ? "ies" : "y"} ${unknown.map((f) => JSON.stringify(f)).join(", ")}; expected ${what}`);
    if (new Set(list).size !== list.length) return bad("ml_families", "a family is listed twice");
    if (list.includes("stacked_ensemble") && !list.includes("logistic_regression")) return bad("ml_families", "stacked_ensemble combines XGBoost with logistic_regression: list logistic_regression too");
    return ML_FAMILIES.filter((f) => list.includes(f));
  };
  const mlSplit = () => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(String(vars.ml_split));
    if (!m) return bad("ml_split", 'expected "train/validate/test" percentages, e.g. "70/15/15"');
    const parts = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (parts.some((p) => p <= 0)) return bad("ml_split", "every part must be more than 0");
    if (Math.abs(parts[0] + parts[1] + parts[2] - 100) > 1e-9) return bad("ml_split", "the three parts must add up to 100");
    return parts.map((p) => p / 100);
  };

  const sourcesDataset = dataset("sources_dataset");
  const catalogData = typeof catalog !== "undefined" ? catalog : (typeof require !== "undefined" ? require("./catalog") : undefined);
  const customEventSources = mappedSources("custom_event_sources", catalogData.customEventFields, { builtinTable: "custom_events", sourcesDataset, bad, json });
  const costSources = mappedSources("cost_sources", catalogData.costFields, { builtinTable: "costs", sourcesDataset, bad, json, presets: catalogData.costSourcePresets });

  const result = {
    customEventSources,
    costSources,
    datasets: {
      staging: `${base}_staging${suffix}`,
      intermediate: `${base}_intermediate${suffix}`,
      outputs: `${base}${suffix}`,
      models: `${base}_models${suffix}`,
      meta: `${base}_meta${suffix}`,
      reporting: `${base}_reporting${suffix}`,
      ga4: dataset("ga4_dataset"),
      sources: sourcesDataset,
    },
    // GCP project ids: 6–30 lowercase letters, digits and hyphens (optionally "domain.com:" first).
    ga4Project: /^$|^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(String(vars.ga4_project))
      ? String(vars.ga4_project) || undefined
      : bad("ga4_project", 'expected a GCP project id (e.g. "bigquery-public-data") or "" for the default project'),
    ga4OptionalColumns: ga4OptionalColumns(String(vars.ga4_optional_columns)),
    startDate: String(vars.start_date),
    reprocessDays: int("reprocess_days", 0, 365),
    creditRestatementDays: String(vars.credit_restatement_days).trim() === "auto" ? Number(String(vars.reprocess_days).trim()) : intOr("credit_restatement_days", 0, 3650, '"auto"'),
    lookbackDays: int("lookback_days", 1, 3650),
    journeyResetAtConversion: bool("journey_reset_at_conversion"),
    maxPathLength: int("max_path_length", 1, 10000),
    maxSessionsPerUserDay: int("max_sessions_per_user_day", 1, 1000000),
    /** null = none (unbounded). */
    identityHorizonDays: String(vars.identity_horizon_days).trim() === "none" ? null : intOr("identity_horizon_days", 1, 3650, '"none"'),
    invalidUserIds: /** @type {string[]} */ (json("invalid_user_ids", strList, 'a JSON list of strings, e.g. ["undefined","0"]')),
    excludedSources: /** @type {string[]} */ (json("excluded_sources", strList, 'a JSON list of "source / medium" strings')),
    crmConfirmsTransactions: oneOf("crm_confirms_transactions", ["auto", "always", "never"]),
    conversionEvents: /** @type {string[]} */ (json("conversion_events", (v) => strList(v) && v.length > 0, 'a non-empty JSON list of event names, e.g. ["purchase"]')),
    funnelSteps: /** @type {FunnelStep[]} */ ((steps || []).map((/** @type {any} */ s) => ({ name: s.name, match: s.match, enabled: s.enabled !== false }))),
    channelRules: /** @type {ChannelRule[]} */ (rules),
    pathTransform: oneOf("path_transform", ["unique", "exposure", "first", "frequency"]),
    pathRemoveChannels: /** @type {string[]} */ (json("path_remove_channels", strList, "a JSON list of channel names")),
    nonDirectExcludedChannels: /** @type {string[]} */ (json("non_direct_excluded_channels", strList, 'a JSON list of channel names, e.g. ["Direct"]')),
    timeDecayMode: oneOf("time_decay_mode", ["continuous", "step"]),
    timeDecayHalfLifeDays: num("time_decay_half_life_days", 0.001, 3650),
    timeDecayStepDays: num("time_decay_step_days", 0.001, 3650),
    positionBasedWeights: /** @type {[number, number, number]} */ (weights),
    markovOrder: int("markov_order", 1, 4),
    markovUseNulls: bool("markov_use_nulls"),
    owoxDecayHalfLifeDays: num("owox_decay_half_life_days", 0.001, 3650),
    owoxReliabilityRule: oneOf("owox_reliability_rule", ["half_width_95", "min_count"]),
    owoxReliabilityMaxHalfWidth: num("owox_reliability_max_half_width", 0.0001, 1),
    owoxReliabilityMinTransitions: int("owox_reliability_min_transitions", 1, 1000000000),
    shapleyMaxExactChannels: int("shapley_max_exact_channels", 1, 22),
    excitationWindowDays: num("excitation_window_days", 0.01, 365),
    excitationResponsiveRatio: num("excitation_responsive_ratio", 1, 100),
    selfControlledWindowDays: String(vars.self_controlled_window_days).trim() === "auto" ? "auto"
      : numOr("self_controlled_window_days", 0.01, 365, '"auto" (a quarter of the data\'s span)'),
    selfControlledResponsiveZ: num("self_controlled_responsive_z", 0, 1000),
    shapleyValueFunction: oneOf("shapley_value_function", ["subset_conversions", "exact_set_rate", "containing_set_rate"]),
    mlMinAuc: num("ml_min_auc", 0, 1),
    creditBootstrapReplicates: int("credit_bootstrap_replicates", 0, 10000),
    driftMaxAucDrop: num("drift_max_auc_drop", 0, 1),
    mlMaxChannelShare: num("ml_max_channel_share", 0.01, 1),
    mlSplit: /** @type {[number, number, number]} */ (mlSplit()),
    mlCensorDays: int("ml_censor_days", 0, 365),
    mlShapleyMaxExactChannels: int("ml_shapley_max_exact_channels", 1, 16),
    mlShapleyPermutations: int("ml_shapley_permutations", 1, 100000),
    mlMaxRounds: int("ml_max_rounds", 1, 5000),
    mlMaxDepth: int("ml_max_depth", 1, 12),
    mlLearningRate: num("ml_learning_rate", 0.001, 1),
    mlEarlyStoppingRounds: int("ml_early_stopping_rounds", 1, 5000),
    mlSeed: int("ml_seed", 0, 2147483647),
    mlCalibratedMethod: oneOf("ml_calibrated_method", ["removal_effect", "shapley", "treeshap"]),
    mlMaxFeatureRows: int("ml_max_feature_rows", 1, 100000000),
    mlFamilies: mlFamilies(),
    mlSequenceMaxTouches: int("ml_sequence_max_touches", 1, 100),
    mlSequenceHiddenUnits: int("ml_sequence_hidden_units", 1, 256),
    mlSequenceMaxEpochs: int("ml_sequence_max_epochs", 1, 1000),
    xgboostBackend: oneOf("xgboost_backend", ["auto", "wasm", "native"]),
    onDemandPricePerTib: num("on_demand_price_per_tib", 0, 1000000),
    badRowMaxShare: num("bad_row_max_share", 0, 1),
    // Not above bad_row_max_share: past that share the run fails, so a warning threshold above it would never warn.
    badRowWarnShare: ((w) => (w === undefined || !(w > Number(vars.bad_row_max_share)) ? w : bad("bad_row_warn_share", `expected at most bad_row_max_share (${vars.bad_row_max_share})`)))(num("bad_row_warn_share", 0, 1)),
    currency: /^[A-Z]{3}$/.test(vars.currency) ? String(vars.currency) : bad("currency", "expected an ISO 4217 code like USD"),
    hashUserIds: bool("hash_user_ids"),
    maxSessionsWithoutSourceShare: num("max_sessions_without_source_share", 0, 1),
    pathSource: oneOf("path_source", ["warehouse", "import"]),
    failingAssertions: /** @type {string[]} */ (json("failing_assertions", strList, 'a JSON list of assertion names, e.g. ["dq_duplicate_events"]')),
    minIdentityResolvedShare: num("min_identity_resolved_share", 0, 1),
    userPropertiesWindowDays: int("user_properties_window_days", 1, 3650),
    leadSplit: oneOf("lead_split", ["time", "random"]),
    leadValidationShare: num("lead_validation_share", 0.01, 0.5),
    leadTestShare: num("lead_test_share", 0.01, 0.5),
    leadSplitSeed: int("lead_split_seed", 0, 2147483647),
    leadScoreCutoff: int("lead_score_cutoff", 1, 100),
    leadCutoffHours: int("lead_cutoff_hours", 0, 24 * 365),
    leadBehaviourLookbackDays: int("lead_behaviour_lookback_days", 1, 3650),
    leadIntentPageRegex: regex("lead_intent_page_regex", "page regex", String(vars.lead_intent_page_regex).replace(/^\(\?i\)/, "")) && String(vars.lead_intent_page_regex),
    leadDownloadEventRegex: regex("lead_download_event_regex", "event regex", String(vars.lead_download_event_regex).replace(/^\(\?i\)/, "")) && String(vars.lead_download_event_regex),
    leadLabelMaturityDays: int("lead_label_maturity_days", 0, 3650),
    leadExcludeColumns: /** @type {string[]} */ (json("lead_exclude_columns", strList, 'a JSON list of snake_case column names, e.g. ["tags","lead_quality"]')),
    leadCategoricalEncoding: oneOf("lead_categorical_encoding", ["one_hot", "ordinal"]),
    leadXgbParams: /** @type {Record<string, unknown>} */ (json("lead_xgb_params", (v) => v !== null && typeof v === "object" && !Array.isArray(v), 'a JSON object like {"max_depth":4,"eta":0.05}')),
    leadMaxRounds: int("lead_max_rounds", 1, 10000),
    leadLeakage: oneOf("lead_leakage", ["warn", "refuse"]),
    leadLeakageMaxAuc: num("lead_leakage_max_auc", 0.5, 1),
    leadRetrain: oneOf("lead_retrain", ["always", "if_needed", "never"]),
    leadPsiMax: num("lead_psi_max", 0.001, 100),
    leadChallengerTolerance: num("lead_challenger_tolerance", 0, 1),
    pipelineAttributionModel: oneOf("pipeline_attribution_model", ["first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based"]),
    leadDealValueColumn: /^([A-Za-z_][A-Za-z0-9_]{0,299})?$/.test(String(vars.lead_deal_value_column)) ? String(vars.lead_deal_value_column) : bad("lead_deal_value_column", 'expected "" or a snake_case column name of the leads source'),
    leadDefaultDealValue: num("lead_default_deal_value", 0, 1e15),
    leadBaselineL2: num("lead_baseline_l2", 0.000001, 1000000),
    leadMonitorSegments: /** @type {string[]} */ (json("lead_monitor_segments", strList, 'a JSON list of lead_features column names, e.g. ["lead_source","country"]')),
    maxJobRows: int("max_job_rows", 1, 1000000000),
    maximumBytesBilled: int("maximum_bytes_billed", 0, Number.MAX_SAFE_INTEGER),
    importBadRows: oneOf("import_bad_rows", ["quarantine", "reject"]),
    crmRequestTimeoutSeconds: num("crm_request_timeout_seconds", 0.001, 3600),
    crmPushTimeoutSeconds: num("crm_push_timeout_seconds", 0.001, 86400),
    /** Warnings about deprecated setting names used (DEPRECATED_NAMES). */
    deprecations,
  };
  if (errors.length === 1) throw new Error(errors[0]);
  if (errors.length) throw new Error(`${errors.length} settings are invalid:\n  ${errors.join("\n  ")}`);
  return result;
}

/** A GoogleSQL string literal; every setting reaches SQL through this (never spliced raw). */
function sqlString(value) {
  return "'" + String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n").replace(/\r/g, "\\r") + "'";
}

const current = typeof dataform !== "undefined" ? parseSettings(dataform.projectConfig.vars) : {};
module.exports = Object.assign({}, current, { parseSettings, DEFAULTS, DEPRECATED_NAMES, sqlString });
