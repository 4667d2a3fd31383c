/**
 * SQL fragments shared by the models, built from settings. Every setting value reaches SQL through
 * settings.sqlString (never spliced raw). Read `settings` lazily: Dataform evaluates includes in order.
 */

/** GA4 event parameter, in exactly the idiom the DuckDB translator fast-paths (engine-feasibility.md §2.2). */
function ga4Param(key, valueType) {
  if (!/^[a-z_]+$/.test(valueType)) throw new Error(`ga4Param: bad value type ${valueType}`);
  return `(SELECT value.${valueType} FROM UNNEST(event_params) WHERE key = ${settings.sqlString(key)})`;
}

/**
 * A numeric event parameter from whichever field GA4 put it in: the export stores a number in
 * int_value, float_value or double_value depending on how it was sent (e.g. `value: 120` lands in
 * int_value), so reading only double_value loses it.
 */
function ga4NumberParam(key) {
  return `(SELECT COALESCE(value.double_value, value.float_value, CAST(value.int_value AS FLOAT64)) FROM UNNEST(event_params) WHERE key = ${settings.sqlString(key)})`;
}

/**
 * The first GA4 day a first run (or a full refresh) stages, as a DATE: vars.start_date, or with "auto"
 * lookback_days + reprocess_days before the newest export day (daily or intraday), so a first run reads what the
 * journeys of the newest days need and not the whole export. The newest day comes from the table names alone
 * (_TABLE_SUFFIX), which BigQuery bills nothing for; no export day at all → 1900-01-01 (nothing to read anyway).
 */
function ga4FirstRunDay(eventsWildcard) {
  if (settings.startDate !== "auto") return `PARSE_DATE('%Y%m%d', ${settings.sqlString(settings.startDate)})`;
  const newest = `(SELECT MAX(SAFE.PARSE_DATE('%Y%m%d', REGEXP_EXTRACT(_TABLE_SUFFIX, r'^(?:intraday_)?([0-9]{8})$'))) FROM ${eventsWildcard})`;
  return `IFNULL(DATE_SUB(${newest}, INTERVAL ${settings.lookbackDays + settings.reprocessDays} DAY), DATE '1900-01-01')`;
}

/** `expr IN ('a', 'b')`, or FALSE for an empty list (GoogleSQL has no empty IN list). */
function inList(expr, values) {
  if (!values.length) return "FALSE";
  return `${expr} IN (${values.map(settings.sqlString).join(", ")})`;
}

/** NULL for ids that mean "not logged in" (OWOX: 'undefined', '0', empty, configured list). */
function cleanUserId(expr) {
  const invalid = Array.from(new Set(["", ...settings.invalidUserIds.map((v) => v.trim())]));
  return `IF(${expr} IS NULL OR ${inList(`TRIM(${expr})`, invalid)}, NULL, TRIM(${expr}))`;
}

/** Channel grouping: settings.channelRules as a CASE, first matching rule wins, else "source / medium". */
function channelCase(source, medium, campaign) {
  const cols = { source, medium, campaign };
  const whens = settings.channelRules.map((rule) => {
    const conds = ["source", "medium", "campaign"]
      .filter((f) => rule[f] !== undefined)
      .map((f) => `REGEXP_CONTAINS(IFNULL(${cols[f]}, ''), ${settings.sqlString(rule[f])})`);
    return `WHEN ${conds.length ? conds.join(" AND ") : "TRUE"} THEN ${settings.sqlString(rule.channel)}`;
  });
  return `CASE ${whens.join(" ")} ELSE CONCAT(IFNULL(${source}, '(not set)'), ' / ', IFNULL(${medium}, '(not set)')) END`;
}

/** Whether "source / medium" is one of settings.excludedSources. */
function isExcludedSource(source, medium) {
  return inList(`CONCAT(IFNULL(${source}, ''), ' / ', IFNULL(${medium}, ''))`, settings.excludedSources);
}

/** Enabled funnel steps with their 1-based index in the configured order (disabled steps: no events, no value). */
function funnelSteps() {
  return settings.funnelSteps.map((s, i) => Object.assign({}, s, { index: i + 1 })).filter((s) => s.enabled);
}

/**
 * The funnel step of an event (first matching enabled step in configured order, NULL if none).
 * Session-level steps (non_bounce) are not event matches: see funnel_events.
 */
function stepCase(eventName, pagePath, hostname) {
  const whens = funnelSteps()
    .filter((s) => !s.match.non_bounce)
    .map((s) => {
      const m = s.match;
      const conds = [];
      if (m.event_name !== undefined) conds.push(`${eventName} = ${settings.sqlString(m.event_name)}`);
      if (m.ecommerce_action !== undefined) conds.push(`${eventName} = ${settings.sqlString(m.ecommerce_action)}`);
      if (m.page_path_regex !== undefined) conds.push(`REGEXP_CONTAINS(IFNULL(${pagePath}, ''), ${settings.sqlString(m.page_path_regex)})`);
      if (m.hostname !== undefined) conds.push(`REGEXP_CONTAINS(IFNULL(${hostname}, ''), ${settings.sqlString(m.hostname)})`);
      return `WHEN ${conds.join(" AND ")} THEN ${settings.sqlString(s.name)}`;
    });
  return whens.length ? `CASE ${whens.join(" ")} END` : "CAST(NULL AS STRING)";
}

/** The configured 1-based index of a step name. */
function stepIndexCase(step) {
  return `CASE ${settings.funnelSteps.map((s, i) => `WHEN ${step} = ${settings.sqlString(s.name)} THEN ${i + 1}`).join(" ")} END`;
}

/** Name of the step an enabled non-bounce step has, or null. */
function nonBounceStep() {
  return funnelSteps().find((s) => s.match.non_bounce) || null;
}

/** Tags of a data-quality assertion: "warning" unless listed in settings.failingAssertions. */
function dqTags(name) {
  return settings.failingAssertions.includes(name) ? ["data_quality"] : ["data_quality", "warning"];
}

/**
 * A channel name escaped for a path (channel_paths, path_features, ml_journey_features): '%' → '%25', then
 * '>' → '%3E', so the ' > ' separator never appears inside a name (a channel rule "Search > Paid", GA4's
 * "<Other>"). Names without '%' and '>' are unchanged (ChannelAttribution's format). TS side: src/models/paths.ts.
 */
function pathChannel(expr) {
  return `REPLACE(REPLACE(${expr}, '%', '%25'), '>', '%3E')`;
}

/** Undo pathChannel: '%3E' → '>', then '%25' → '%' (every '%' of an escaped name starts one of the two). */
function pathChannelDecoded(expr) {
  return `REPLACE(REPLACE(${expr}, '%3E', '>'), '%25', '%')`;
}

/**
 * Why an amount (FLOAT64) cannot be used, or NULL when it can (NULL amounts too): 'NaN amount',
 * 'infinite amount' (±inf; '1e309' parses as inf) or 'negative amount'. Written without IS_NAN/IS_INF and
 * without NaN = NaN, whose answers differ between BigQuery and DuckDB: a range test is FALSE for NaN and
 * for ±inf on both (checked against ZetaSQL's reference evaluator).
 */
function amountIssue(expr) {
  const max = "1.7976931348623157e308";
  return `CASE
      WHEN ${expr} IS NULL OR ${expr} BETWEEN 0 AND ${max} THEN CAST(NULL AS STRING)
      WHEN ${expr} BETWEEN -${max} AND 0 THEN 'negative amount'
      WHEN ABS(${expr}) = CAST('inf' AS FLOAT64) THEN 'infinite amount'
      ELSE 'NaN amount'
    END`;
}

module.exports = { amountIssue, ga4FirstRunDay, ga4Param, ga4NumberParam, inList, cleanUserId, channelCase, isExcludedSource, funnelSteps, stepCase, stepIndexCase, nonBounceStep, dqTags, pathChannel, pathChannelDecoded };
