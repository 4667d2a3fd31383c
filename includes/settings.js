/**
 * Every funnelcredit setting, read from workflow_settings.yaml `vars` (Dataform vars are strings:
 * lists and rules are JSON strings). The one place that holds defaults and validates; Dataform models
 * read `settings.*`, and the TypeScript runner loads this same file (src/config/settings.ts), so both
 * sides always agree. A bad var throws an error that names it.
 */
const DEFAULTS = {
  // Dataset of the outputs; the layers get suffixes (staging, intermediate, models, meta, reporting).
  base_dataset: "",
  ga4_dataset: "ga4_export",
  // Project of the GA4 export ("" = the default project), e.g. "bigquery-public-data" for the public sample
  // ga4_obfuscated_sample_ecommerce. The embedded DuckDB warehouse has one project and ignores it.
  ga4_project: "",
  // Columns of the GA4 export that older exports lack (collected_traffic_source and batch_event_index came in 2023):
  // "auto" (the runner reads the newest events_ table's schema before compiling and passes the list found; compiled
  // without a warehouse, both are assumed), "none", or a comma list of collected_traffic_source, batch_event_index.
  ga4_optional_columns: "auto",
  sources_dataset: "funnelcredit_sources",
  // First day of data to read on a full refresh (YYYYMMDD) and days re-processed on each incremental run (late GA4 data).
  start_date: "20000101",
  reprocess_days: "3",
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
  reliability_rule: "half_width_95",
  reliability_max_half_width: "0.1",
  // With reliability_rule "min_count": transitions out of a step needed before a level is trusted.
  reliability_min_transitions: "30",
  shapley_max_exact_channels: "15",
  // Shapley value function v(S) (src/models/shapley.ts): "subset_conversions" = conversions of the journeys whose channels
  // all lie in S (Zhao et al. 2018: each converting journey shared equally by its channels); "exact_set_rate" =
  // conversion rate of the journeys with exactly the channels S (Dalessandro et al. 2012; the default before, gives 0 to
  // a channel that only opens journeys when the closing channel alone converts better); "containing_set_rate" =
  // conversion rate of the journeys containing S. Default subset_conversions: it never punishes openers and has no
  // negative marginal contributions to clip.
  shapley_value_function: "subset_conversions",
  ml_min_auc: "0.70",
  drift_max_auc_drop: "0.10",
  max_channel_share: "1",
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
  // XGBoost backend of the ML attribution and lead-scoring models: auto (native when it loads, else
  // wasm; native fits 1M rows about twice as fast), wasm (same results on every machine) or native
  // (Debian's libxgboost0 through koffi; fails when it does not load). Recorded on every model: hist
  // binning differs between the two.
  xgboost_backend: "auto",
  // Largest ml_journey_features aggregate the job reads (rows).
  ml_max_feature_rows: "500000",
  bad_row_max_share: "0.05",
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
  // Population stability index above which a feature or the score counts as drifted.
  psi_max: "0.2",
  // Most rows a job reads from one query (resource bound): past it the job fails, naming this setting, instead of
  // running out of memory. Raise it for bigger aggregates, or narrow them (max_path_length, lookback_days).
  max_job_rows: "1000000",
  // BigQuery: most bytes one job may bill (maximumBytesBilled, 1 TiB); a job that would bill more fails before it
  // runs, naming the action and the bytes. "0" = no cap. `--maximum-bytes-billed` overrides it for one run.
  maximum_bytes_billed: "1099511627776",
  // What `funnelcredit import` does with a bad row: "quarantine" (set it aside in <base>_meta.import_quarantine,
  // fail only past bad_row_max_share) or "reject" (the first bad row fails the import). --bad-rows overrides.
  import_bad_rows: "quarantine",
  // `push lead-scores`: the longest wait for one CRM request (a hung endpoint is retried, then dead-lettered) and for
  // the whole push (what is not acknowledged by then stays for the next push). The warehouse is not held meanwhile.
  crm_request_timeout_seconds: "30",
  crm_push_timeout_seconds: "900",
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

/**
 * `overridden`: names given on the command line (`--vars`), so an error blames the place the value
 * came from. Every bad var is reported, not just the first (one error per line).
 */
function parseSettings(rawVars, overridden) {
  const decoded = {};
  for (const [k, v] of Object.entries(rawVars || {})) decoded[k] = decodeVar(v);
  rawVars = decoded;
  const fromCli = new Set(overridden || []);
  const vars = Object.assign({}, DEFAULTS, rawVars);
  const errors = [];
  const origin = (k) => (fromCli.has(k) ? "--vars" : "workflow_settings.yaml vars");
  for (const k of Object.keys(rawVars || {})) {
    if (k in DEFAULTS || k.startsWith("x_")) continue;
    const guess = closestSetting(k);
    errors.push(`${origin(k)}: unknown setting(s) ${k}` + (guess ? ` (did you mean ${guess}?)` : " (every setting is listed with its default in includes/settings.js; names starting with x_ are free for your own models)"));
  }
  // Records the error and returns undefined: parsing goes on so that every bad var is reported at once.
  const bad = (k, why) => {
    errors.push(fromCli.has(k) ? `vars.${k} = ${JSON.stringify(vars[k])}: ${why} (given with --vars)` : `workflow_settings.yaml vars.${k} = ${JSON.stringify(vars[k])}: ${why}`);
    return undefined;
  };
  const int = (k, min, max) => {
    const s = String(vars[k]).trim();
    if (!/^-?\d+$/.test(s)) return bad(k, "expected a whole number");
    const n = Number(s);
    if (n < min || n > max) return bad(k, `expected a number from ${min} to ${max}`);
    return n;
  };
  const num = (k, min, max) => {
    const n = Number(vars[k]);
    if (!Number.isFinite(n) || String(vars[k]).trim() === "") return bad(k, "expected a number");
    if (n < min || n > max) return bad(k, `expected a number from ${min} to ${max}`);
    return n;
  };
  const bool = (k) => {
    const s = String(vars[k]).trim().toLowerCase();
    if (s !== "true" && s !== "false") return bad(k, 'expected "true" or "false"');
    return s === "true";
  };
  const json = (k, check, what) => {
    let v;
    try { v = JSON.parse(vars[k]); } catch (e) { return bad(k, `not valid JSON (${e.message}); write ${what}`); }
    if (!check(v)) return bad(k, `expected ${what}`);
    return v;
  };
  const strList = (v) => Array.isArray(v) && v.every((x) => typeof x === "string");
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
  const regex = (k, where, pattern) => {
    try { new RegExp(pattern); } catch (e) { return bad(k, `${where}: invalid regular expression ${JSON.stringify(pattern)} (${e.message})`); }
    return pattern;
  };
  const projectDefault = typeof dataform !== "undefined" ? dataform.projectConfig.defaultSchema : "funnelcredit";
  const base = vars.base_dataset ? dataset("base_dataset") : projectDefault;
  if (!/^\d{8}$/.test(String(vars.start_date))) bad("start_date", "expected a date as YYYYMMDD");

  const steps = json("funnel_steps", (v) => Array.isArray(v) && v.length >= 2, 'a JSON list of at least two steps like [{"name":"view_item","match":{"event_name":"view_item"}}]');
  const stepNames = new Set();
  (steps || []).forEach((s, i) => {
    if (!s || typeof s.name !== "string" || !/^[a-z][a-z0-9_]*$/.test(s.name)) return bad("funnel_steps", `step ${i + 1}: "name" must be lower_snake_case`);
    if (stepNames.has(s.name)) bad("funnel_steps", `step "${s.name}" appears twice`);
    stepNames.add(s.name);
    const m = s.match || {};
    const keys = Object.keys(m);
    const allowed = ["event_name", "page_path_regex", "ecommerce_action", "hostname", "non_bounce"];
    if (!keys.length || keys.some((k) => !allowed.includes(k))) return bad("funnel_steps", `step "${s.name}": "match" needs one of ${allowed.join(", ")}`);
    if (m.page_path_regex) regex("funnel_steps", `step "${s.name}"`, m.page_path_regex);
    if (m.hostname) regex("funnel_steps", `step "${s.name}"`, m.hostname);
  });
  const rules = json("channel_rules", (v) => Array.isArray(v) && v.every((r) => r && typeof r.channel === "string"), 'a JSON list like [{"channel":"Paid Search","medium":"^cpc$"}]');
  (rules || []).forEach((r, i) => ["source", "medium", "campaign"].forEach((f) => { if (r[f] !== undefined) regex("channel_rules", `rule ${i + 1} (${r.channel}) ${f}`, r[f]); }));
  const transforms = ["unique", "exposure", "first", "frequency"];
  if (!transforms.includes(vars.path_transform)) bad("path_transform", `expected one of ${transforms.join(", ")}`);
  const weights = json("position_based_weights", (v) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number" && x >= 0), "[first, middle, last] shares, e.g. [0.4, 0.2, 0.4]");
  if (weights && Math.abs(weights[0] + weights[1] + weights[2] - 1) > 1e-9) bad("position_based_weights", "the three shares must add up to 1");
  if (!["half_width_95", "min_count"].includes(vars.reliability_rule)) bad("reliability_rule", 'expected "half_width_95" or "min_count"');
  const mlSplit = () => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(String(vars.ml_split));
    if (!m) return bad("ml_split", 'expected "train/validate/test" percentages, e.g. "70/15/15"');
    const parts = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (parts.some((p) => p <= 0)) return bad("ml_split", "every part must be more than 0");
    if (Math.abs(parts[0] + parts[1] + parts[2] - 100) > 1e-9) return bad("ml_split", "the three parts must add up to 100");
    return parts.map((p) => p / 100);
  };

  const result = {
    datasets: {
      staging: `${base}_staging`,
      intermediate: `${base}_intermediate`,
      outputs: base,
      models: `${base}_models`,
      meta: `${base}_meta`,
      reporting: `${base}_reporting`,
      ga4: dataset("ga4_dataset"),
      sources: dataset("sources_dataset"),
    },
    // GCP project ids: 6–30 lowercase letters, digits and hyphens (optionally "domain.com:" first).
    ga4Project: /^$|^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(String(vars.ga4_project))
      ? String(vars.ga4_project) || undefined
      : bad("ga4_project", 'expected a GCP project id (e.g. "bigquery-public-data") or "" for the default project'),
    ga4OptionalColumns: ga4OptionalColumns(String(vars.ga4_optional_columns)),
    startDate: String(vars.start_date),
    reprocessDays: int("reprocess_days", 0, 365),
    lookbackDays: int("lookback_days", 1, 3650),
    journeyResetAtConversion: bool("journey_reset_at_conversion"),
    maxPathLength: int("max_path_length", 1, 10000),
    maxSessionsPerUserDay: int("max_sessions_per_user_day", 1, 1000000),
    invalidUserIds: json("invalid_user_ids", strList, 'a JSON list of strings, e.g. ["undefined","0"]'),
    excludedSources: json("excluded_sources", strList, 'a JSON list of "source / medium" strings'),
    crmConfirmsTransactions: ["auto", "always", "never"].includes(vars.crm_confirms_transactions) ? vars.crm_confirms_transactions : bad("crm_confirms_transactions", 'expected "auto", "always" or "never"'),
    conversionEvents: json("conversion_events", (v) => strList(v) && v.length > 0, 'a non-empty JSON list of event names, e.g. ["purchase"]'),
    funnelSteps: (steps || []).map((s) => ({ name: s.name, match: s.match, enabled: s.enabled !== false })),
    channelRules: rules,
    pathTransform: vars.path_transform,
    pathRemoveChannels: json("path_remove_channels", strList, "a JSON list of channel names"),
    nonDirectExcludedChannels: json("non_direct_excluded_channels", strList, 'a JSON list of channel names, e.g. ["Direct"]'),
    timeDecayMode: ["continuous", "step"].includes(vars.time_decay_mode) ? vars.time_decay_mode : bad("time_decay_mode", 'expected "continuous" or "step"'),
    timeDecayHalfLifeDays: num("time_decay_half_life_days", 0.001, 3650),
    timeDecayStepDays: num("time_decay_step_days", 0.001, 3650),
    positionBasedWeights: weights,
    markovOrder: int("markov_order", 1, 4),
    markovUseNulls: bool("markov_use_nulls"),
    owoxDecayHalfLifeDays: num("owox_decay_half_life_days", 0.001, 3650),
    reliabilityRule: vars.reliability_rule,
    reliabilityMaxHalfWidth: num("reliability_max_half_width", 0.0001, 1),
    reliabilityMinTransitions: int("reliability_min_transitions", 1, 1000000000),
    shapleyMaxExactChannels: int("shapley_max_exact_channels", 1, 22),
    shapleyValueFunction: ["subset_conversions", "exact_set_rate", "containing_set_rate"].includes(vars.shapley_value_function) ? vars.shapley_value_function : bad("shapley_value_function", 'expected "subset_conversions", "exact_set_rate" or "containing_set_rate"'),
    mlMinAuc: num("ml_min_auc", 0, 1),
    driftMaxAucDrop: num("drift_max_auc_drop", 0, 1),
    maxChannelShare: num("max_channel_share", 0.01, 1),
    mlSplit: mlSplit(),
    mlCensorDays: int("ml_censor_days", 0, 365),
    mlShapleyMaxExactChannels: int("ml_shapley_max_exact_channels", 1, 16),
    mlShapleyPermutations: int("ml_shapley_permutations", 1, 100000),
    mlMaxRounds: int("ml_max_rounds", 1, 5000),
    mlMaxDepth: int("ml_max_depth", 1, 12),
    mlLearningRate: num("ml_learning_rate", 0.001, 1),
    mlEarlyStoppingRounds: int("ml_early_stopping_rounds", 1, 5000),
    mlSeed: int("ml_seed", 0, 2147483647),
    mlCalibratedMethod: ["removal_effect", "shapley", "treeshap"].includes(vars.ml_calibrated_method) ? vars.ml_calibrated_method : bad("ml_calibrated_method", 'expected "removal_effect", "shapley" or "treeshap"'),
    mlMaxFeatureRows: int("ml_max_feature_rows", 1, 100000000),
    xgboostBackend: ["auto", "wasm", "native"].includes(vars.xgboost_backend) ? vars.xgboost_backend : bad("xgboost_backend", 'expected "auto", "wasm" or "native"'),
    badRowMaxShare: num("bad_row_max_share", 0, 1),
    currency: /^[A-Z]{3}$/.test(vars.currency) ? vars.currency : bad("currency", "expected an ISO 4217 code like USD"),
    hashUserIds: bool("hash_user_ids"),
    maxSessionsWithoutSourceShare: num("max_sessions_without_source_share", 0, 1),
    pathSource: ["warehouse", "import"].includes(vars.path_source) ? vars.path_source : bad("path_source", 'expected "warehouse" or "import"'),
    failingAssertions: json("failing_assertions", strList, 'a JSON list of assertion names, e.g. ["dq_duplicate_events"]'),
    minIdentityResolvedShare: num("min_identity_resolved_share", 0, 1),
    userPropertiesWindowDays: int("user_properties_window_days", 1, 3650),
    leadSplit: ["time", "random"].includes(vars.lead_split) ? vars.lead_split : bad("lead_split", 'expected "time" or "random"'),
    leadValidationShare: num("lead_validation_share", 0.01, 0.5),
    leadTestShare: num("lead_test_share", 0.01, 0.5),
    leadSplitSeed: int("lead_split_seed", 0, 2147483647),
    leadScoreCutoff: int("lead_score_cutoff", 1, 100),
    leadCutoffHours: int("lead_cutoff_hours", 0, 24 * 365),
    leadBehaviourLookbackDays: int("lead_behaviour_lookback_days", 1, 3650),
    leadIntentPageRegex: regex("lead_intent_page_regex", "page regex", String(vars.lead_intent_page_regex).replace(/^\(\?i\)/, "")) && String(vars.lead_intent_page_regex),
    leadDownloadEventRegex: regex("lead_download_event_regex", "event regex", String(vars.lead_download_event_regex).replace(/^\(\?i\)/, "")) && String(vars.lead_download_event_regex),
    leadLabelMaturityDays: int("lead_label_maturity_days", 0, 3650),
    leadExcludeColumns: json("lead_exclude_columns", strList, 'a JSON list of snake_case column names, e.g. ["tags","lead_quality"]'),
    leadCategoricalEncoding: ["one_hot", "ordinal"].includes(vars.lead_categorical_encoding) ? vars.lead_categorical_encoding : bad("lead_categorical_encoding", 'expected "one_hot" or "ordinal"'),
    leadXgbParams: json("lead_xgb_params", (v) => v !== null && typeof v === "object" && !Array.isArray(v), 'a JSON object like {"max_depth":4,"eta":0.05}'),
    leadMaxRounds: int("lead_max_rounds", 1, 10000),
    leadLeakage: ["warn", "refuse"].includes(vars.lead_leakage) ? vars.lead_leakage : bad("lead_leakage", 'expected "warn" or "refuse"'),
    leadLeakageMaxAuc: num("lead_leakage_max_auc", 0.5, 1),
    leadRetrain: ["always", "if_needed", "never"].includes(vars.lead_retrain) ? vars.lead_retrain : bad("lead_retrain", 'expected "always", "if_needed" or "never"'),
    psiMax: num("psi_max", 0.001, 100),
    maxJobRows: int("max_job_rows", 1, 1000000000),
    maximumBytesBilled: int("maximum_bytes_billed", 0, Number.MAX_SAFE_INTEGER),
    importBadRows: ["quarantine", "reject"].includes(vars.import_bad_rows) ? vars.import_bad_rows : bad("import_bad_rows", 'expected "quarantine" or "reject"'),
    crmRequestTimeoutSeconds: num("crm_request_timeout_seconds", 0.001, 3600),
    crmPushTimeoutSeconds: num("crm_push_timeout_seconds", 0.001, 86400),
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
module.exports = Object.assign({}, current, { parseSettings, DEFAULTS, sqlString });
