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
 * int_value), so reading only double_value loses it. Three ga4Param lookups rather than one
 * `SELECT COALESCE(…) FROM UNNEST(event_params)`: only the plain idiom takes the DuckDB translator's fast
 * path; the COALESCE subquery ran as a correlated subquery (stg_ga4_events: 3× slower, 2× the memory).
 */
function ga4NumberParam(key) {
  return `COALESCE(${ga4Param(key, "double_value")}, ${ga4Param(key, "float_value")}, CAST(${ga4Param(key, "int_value")} AS FLOAT64))`;
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

/**
 * `expr` (default: the column `column`) of a table rebuilt whole, refused when NULL by the query that builds it: ERROR()
 * names the table, the column and the row's key, so the build fails and the table stays as it was (its CREATE OR
 * REPLACE never commits). In place of Dataform's `assertions: { nonNull }`, a query run after the build that reads the
 * columns of every row again — on BigQuery billed on every run: 7 % of a daily run with 395 days held (README,
 * "Measured"). Incremental models check the partitions they rebuilt instead (partitions.checks).
 */
function required(table, column, key, expr) {
  const e = expr || column;
  return `IF(${e} IS NULL, ERROR(CONCAT('${table}: ${column} is NULL on the row with ${key.replace(/^\w+\./, "")} ', IFNULL(CAST(${key} AS STRING), 'NULL'))), ${e})`;
}

/**
 * The closing SELECT of a table rebuilt whole whose rows are the CTE `rows`: each value of `key` (column names) on one
 * row, checked by the query that builds the table. A key on several rows fails the build with ERROR() naming the table,
 * the key's value and how many rows carry it, so the table stays as it was (its CREATE OR REPLACE never commits). In
 * place of Dataform's `assertions: { uniqueKey }`, a query run after the build that reads the key columns of every row
 * again — on BigQuery billed on every run (README, "Measured"); the count here is a window over rows the query already
 * holds, so it reads nothing more. NULL keys count as one value, as in the assertion's GROUP BY. In an incremental
 * model it checks the rows the run writes: enough for the whole table only when the key determines the partition (the
 * model says why: int_sessions_unioned, int_session_identity); other incremental models check the partitions they
 * rebuilt (partitions.checks).
 */
function eachKeyOnce(table, key, rows) {
  const shown = key.map((k, i) => `${i ? "', " : "'"}${k} ', IFNULL(CAST(${k} AS STRING), 'NULL')`).join(", ");
  return `SELECT * EXCEPT (rows_with_key)
FROM (SELECT *, COUNT(*) OVER (PARTITION BY ${key.join(", ")}) AS rows_with_key FROM ${rows})
WHERE IF(rows_with_key > 1, ERROR(CONCAT('${table}: ', CAST(rows_with_key AS STRING), ' rows with ', ${shown}, ' (the unique key: ${key.join(", ")})')), TRUE)`;
}

/**
 * The CRM and custom-event sessions (int_sessions_unioned's rows of the other systems), as two CTEs
 * `crm_offline_sessions` and `custom_sessions` with int_sessions_unioned's columns. A CRM transaction gets an offline
 * session only when CRM is the winning source of that transaction. Built from sources read whole (sized by CRM orders
 * and custom events, not by GA4 traffic), so int_offline_sessions can hold them apart: int_session_identity compares
 * them with those it was built from without reading the session tables' whole columns.
 */
function offlineSessionCtes(crmTransactions, transactions, customEvents) {
  return `crm_offline_sessions AS (
  SELECT
    crm.session_key, 'crm' AS source_system, crm.client_id, crm.user_id, crm.transaction_at AS session_start_at,
    'crm' AS source, 'offline' AS medium, '(not set)' AS campaign, CAST(NULL AS STRING) AS device, crm.region,
    FALSE AS is_engaged, 1 AS event_count, CAST(NULL AS BOOL) AS has_daily_events
  FROM ${crmTransactions} AS crm
  JOIN ${transactions} AS t
    ON t.transaction_id = crm.transaction_id AND t.source_system = 'crm'
),

-- An analyst-written session is a visit (counts as non-bounce).
custom_sessions AS (
  SELECT
    session_key, 'custom' AS source_system,
    MIN(client_id) AS client_id,
    ARRAY_AGG(user_id IGNORE NULLS ORDER BY event_at DESC LIMIT 1)[SAFE_OFFSET(0)] AS user_id,
    MIN(event_at) AS session_start_at,
    IFNULL(MIN(utm_source), '(direct)') AS source,
    IFNULL(MIN(utm_medium), IF(MIN(utm_source) IS NULL, '(none)', '(not set)')) AS medium,
    IFNULL(MIN(utm_campaign), '(not set)') AS campaign,
    CAST(NULL AS STRING) AS device,
    MIN(geo_region) AS region,
    TRUE AS is_engaged,
    COUNT(*) AS event_count,
    CAST(NULL AS BOOL) AS has_daily_events
  FROM ${customEvents}
  GROUP BY session_key
)`;
}

/**
 * A lead's cut-off (TIMESTAMP) from its created_at expression: created_at + vars.lead_cutoff_hours. Lead features read
 * nothing at or after it; lead_user_clients, lead_web_behaviour and lead_features all take it from here.
 */
function leadCutoffAt(createdAt) {
  return `TIMESTAMP_ADD(${createdAt}, INTERVAL ${settings.leadCutoffHours} HOUR)`;
}

/**
 * The leads that have a cut-off (an id and a created_at), as `lead_id, user_id, client_id, cutoff_at` from the leads
 * table `leads`: the rows lead_web_behaviour keeps (a lead without a created_at has no cut-off, so nothing of the web is
 * before it) and lead_user_clients links.
 */
function leadsWithCutoff(leads) {
  return `SELECT lead_id, user_id, client_id, ${leadCutoffAt("created_at")} AS cutoff_at
  FROM ${leads}
  WHERE lead_id IS NOT NULL AND created_at IS NOT NULL`;
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

/** Named options of a SQL helper: a plain object with exactly these keys (SQL expressions), else an error naming the helper. */
function named(helper, opts, keys, optional = []) {
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new Error(`helpers.${helper} takes named SQL expressions { ${[...keys, ...optional.map((k) => k + "?")].join(", ")} }, got ${JSON.stringify(opts)}`);
  }
  const unknown = Object.keys(opts).filter((k) => !keys.includes(k) && !optional.includes(k));
  const missing = keys.filter((k) => typeof opts[k] !== "string");
  if (unknown.length || missing.length) {
    throw new Error(`helpers.${helper}: ${[missing.length ? `missing ${missing.join(", ")}` : "", unknown.length ? `unknown ${unknown.join(", ")}` : ""].filter(Boolean).join("; ")}`);
  }
  return opts;
}

/**
 * Channel grouping: settings.channelRules as a CASE, first matching rule wins, else "source / medium".
 * `channelCase({ source: "s.source", medium: "s.medium", campaign: "s.campaign" })`.
 */
function channelCase(opts) {
  const cols = named("channelCase", opts, ["source", "medium", "campaign"]);
  const { source, medium } = cols;
  const whens = settings.channelRules.map((rule) => {
    const conds = ["source", "medium", "campaign"]
      .filter((f) => rule[f] !== undefined)
      .map((f) => `REGEXP_CONTAINS(IFNULL(${cols[f]}, ''), ${settings.sqlString(rule[f])})`);
    return `WHEN ${conds.length ? conds.join(" AND ") : "TRUE"} THEN ${settings.sqlString(rule.channel)}`;
  });
  return `CASE ${whens.join(" ")} ELSE CONCAT(IFNULL(${source}, '(not set)'), ' / ', IFNULL(${medium}, '(not set)')) END`;
}

/** Whether "source / medium" is one of settings.excludedSources: `isExcludedSource({ source, medium })`. */
function isExcludedSource(opts) {
  const { source, medium } = named("isExcludedSource", opts, ["source", "medium"]);
  return inList(`CONCAT(IFNULL(${source}, ''), ' / ', IFNULL(${medium}, ''))`, settings.excludedSources);
}

/** Enabled funnel steps with their 1-based index in the configured order (disabled steps: no events, no value). */
function funnelSteps() {
  return settings.funnelSteps.map((s, i) => Object.assign({}, s, { index: i + 1 })).filter((s) => s.enabled);
}

/**
 * The funnel step of an event (first matching enabled step in configured order, NULL if none).
 * Session-level steps (non_bounce) are not event matches: see funnel_event_occurrences.
 * `stepCase({ eventName, pagePath?, hostname?, customFields? })`: SQL expressions; a missing page path or hostname is
 * NULL (steps matching on it never match), missing custom fields make custom-field steps never match.
 */
function stepCase(opts) {
  named("stepCase", opts, ["eventName"], ["pagePath", "hostname", "customFields"]);
  const { eventName, pagePath = "CAST(NULL AS STRING)", hostname = "CAST(NULL AS STRING)", customFields } = opts;
  const whens = funnelSteps()
    .filter((s) => !s.match.non_bounce)
    .map((s) => {
      const m = s.match;
      const conds = [];
      // Custom-event fields (and the source's name) exist only on custom events: elsewhere such a step never matches.
      if (m.custom_fields !== undefined) {
        for (const [f, v] of Object.entries(m.custom_fields)) conds.push(customFields ? `${customFields[f]} = ${settings.sqlString(v)}` : "FALSE");
      }
      if (m.event_name !== undefined) conds.push(`${eventName} = ${settings.sqlString(m.event_name)}`);
      if (m.ecommerce_action !== undefined) conds.push(`${eventName} = ${settings.sqlString(m.ecommerce_action)}`);
      if (m.page_path_regex !== undefined) conds.push(`REGEXP_CONTAINS(IFNULL(${pagePath}, ''), ${settings.sqlString(m.page_path_regex)})`);
      if (m.hostname !== undefined) conds.push(`REGEXP_CONTAINS(IFNULL(${hostname}, ''), ${settings.sqlString(m.hostname)})`);
      return `WHEN ${conds.join(" AND ")} THEN ${settings.sqlString(s.name)}`;
    });
  return whens.length ? `CASE ${whens.join(" ")} END` : "CAST(NULL AS STRING)";
}

/** stg_custom_events' columns a step's custom_fields match (settings.js CUSTOM_STEP_FIELDS): text compared as given, NULL as ''. */
function customStepFields() {
  const cols = ["source", "event_name", "category", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "geo_region"];
  return Object.fromEntries(cols.map((c) => [c, `IFNULL(${c}, '')`]));
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

/**
 * Whether an imported ChannelAttribution path is already written as channel_paths writes it: names that
 * begin and end with printable ASCII other than a space, '%' and '>', hold no '%' or '>', and are joined by
 * exactly ' > '. Splitting such a path on '>', trimming and escaping the names (pathChannel) gives back
 * the same text on every engine (TRIM has nothing to remove at those ends). NULL for a NULL path.
 */
function isNormalImportedPath(expr) {
  const end = "[!-$&-=?-~]";
  const name = `${end}(?:[^%>]*${end})?`;
  return `REGEXP_CONTAINS(${expr}, '^${name}(?: > ${name})*$')`;
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

/** A quoted column of a source table (names validated by settings.js: letters, digits, underscores). */
function sourceColumn(alias, column) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(column)) throw new Error(`sourceColumn: bad column ${column}`);
  return `${alias}.\`${column}\``;
}

/**
 * A source's mapping of one contract field (settings.js fieldMapping) as text: its column cast to STRING (src; the
 * preset's lookup table: lkp), a constant, NULL when unmapped; `values` recodes (others → `default`, else kept).
 */
function mappedText(m) {
  if (!m) return "CAST(NULL AS STRING)";
  let e = m.value !== undefined ? settings.sqlString(m.value)
    : m.lookup !== undefined ? `CAST(${sourceColumn("lkp", m.lookup)} AS STRING)`
    : `CAST(${sourceColumn("src", m.column)} AS STRING)`;
  if (m.values) {
    const whens = Object.entries(m.values).map(([from, to]) => `WHEN ${settings.sqlString(from)} THEN ${settings.sqlString(to)}`).join(" ");
    e = `CASE TRIM(${e}) ${whens} ELSE ${m.default !== undefined ? settings.sqlString(m.default) : e} END`;
  } else if (m.default !== undefined) {
    e = `IFNULL(NULLIF(TRIM(${e}), ''), ${settings.sqlString(m.default)})`;
  }
  return e;
}

/** The text of an amount parsed as FLOAT64 (NULL when it does not parse), times the source's scale (cents → units). */
function mappedAmount(text, m) {
  const parsed = `SAFE_CAST(TRIM(${text}) AS FLOAT64)`;
  return m && m.scale !== undefined && m.scale !== 1 ? `${parsed} * ${Number(m.scale)}` : parsed;
}

/**
 * A time's text as TIMESTAMP (NULL when it does not parse). With a time_zone, a time without an offset is local time
 * there (TIMESTAMP(DATETIME, zone) follows daylight saving); a time with an offset keeps it.
 */
function mappedTime(text, m) {
  const utc = `SAFE_CAST(TRIM(${text}) AS TIMESTAMP)`;
  if (!m || !m.timeZone) return utc;
  return `COALESCE(TIMESTAMP(SAFE_CAST(TRIM(${text}) AS DATETIME), ${settings.sqlString(m.timeZone)}), ${utc})`;
}

/** Where a source's rows come from: its table (declared by definitions/sources/sources.js) or its SQLX model. */
function sourceFrom(ref, source) {
  const from = source.model ? ref(source.model) : ref(Object.assign({}, source.table));
  if (!source.lookup) return `${from} AS src`;
  // A preset's lookup (Google Ads campaign names): one name per key from the table's current snapshot.
  const lookupColumns = Array.from(new Set(Object.values(source.columns).filter((m) => m.lookup).map((m) => m.lookup)));
  const key = sourceColumn("l", source.lookup.key);
  return `${from} AS src
  LEFT JOIN (
    SELECT ${key} AS lookup_key, ${lookupColumns.map((c) => `MAX(${sourceColumn("l", c)}) AS \`${c}\``).join(", ")}
    FROM ${ref(Object.assign({}, source.lookup.table))} AS l
    WHERE ${source.lookup.snapshot.replace(/\b(_[A-Z_]+)\b/g, (x) => sourceColumn("l", x))}
    GROUP BY 1
  ) AS lkp ON lkp.lookup_key = ${sourceColumn("src", source.lookup.key)}`;
}

const CUSTOM_TEXT_FIELDS = ["name", "category", "time", "user_id", "client_id", "transaction_id", "revenue", "cost",
  "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "geo_region"];

/**
 * Every custom-event source's rows in the contract's shape (stg_custom_events_checked): source, source_priority,
 * session_timeout_minutes, the contract fields as text (as loaded: quarantine shows them), parsed_at, parsed_revenue,
 * parsed_cost and is_conversion_event (its name is one of the source's conversion_events). One SELECT per source.
 */
function customEventRows(ref) {
  return settings.customEventSources.map((source) => {
    const c = source.columns;
    const text = CUSTOM_TEXT_FIELDS.map((f) => `${mappedText(c[f])} AS ${f}`);
    return `SELECT
    ${settings.sqlString(source.name)} AS source,
    ${source.priority} AS source_priority,
    ${source.sessionTimeoutMinutes === null ? "CAST(NULL AS INT64)" : source.sessionTimeoutMinutes} AS session_timeout_minutes,
    ${text.join(",\n    ")},
    ${mappedTime(mappedText(c.time), c.time)} AS parsed_at,
    ${mappedAmount(mappedText(c.revenue), c.revenue)} AS parsed_revenue,
    ${mappedAmount(mappedText(c.cost), c.cost)} AS parsed_cost,
    ${inList(`TRIM(${mappedText(c.name)})`, source.conversionEvents)} AS is_conversion_event
  FROM ${sourceFrom(ref, source)}`;
  }).join("\n  UNION ALL\n  ");
}

/**
 * Every configured cost source's rows (stg_cost_sources_checked; the built-in `costs` table is typed and read by
 * stg_costs itself): cost_source, the contract fields as text, and parsed_date/parsed_cost/parsed_clicks/parsed_impressions.
 * Without configured sources: no rows, same columns.
 */
function costSourceRows(ref) {
  const configured = settings.costSources.filter((s) => !s.builtin);
  const fields = ["date", "source", "medium", "campaign", "cost", "clicks", "impressions"];
  const select = (source) => {
    const c = source ? source.columns : {};
    return `SELECT
    ${source ? settings.sqlString(source.name) : "CAST(NULL AS STRING)"} AS cost_source,
    ${fields.map((f) => `${mappedText(c[f])} AS ${f}`).join(",\n    ")},
    SAFE_CAST(TRIM(${mappedText(c.date)}) AS DATE) AS parsed_date,
    ${mappedAmount(mappedText(c.cost), c.cost)} AS parsed_cost,
    SAFE_CAST(SAFE_CAST(TRIM(${mappedText(c.clicks)}) AS FLOAT64) AS INT64) AS parsed_clicks,
    SAFE_CAST(SAFE_CAST(TRIM(${mappedText(c.impressions)}) AS FLOAT64) AS INT64) AS parsed_impressions`;
  };
  if (!configured.length) return `${select(null)}\n  FROM UNNEST([1]) AS no_cost_source\n  WHERE FALSE`;
  return configured.map((source) => `${select(source)}\n  FROM ${sourceFrom(ref, source)}`).join("\n  UNION ALL\n  ");
}

module.exports = { required, eachKeyOnce, offlineSessionCtes, customEventRows, costSourceRows, customStepFields, amountIssue, ga4FirstRunDay, leadCutoffAt, leadsWithCutoff, ga4Param, ga4NumberParam, inList, cleanUserId, channelCase, isExcludedSource, funnelSteps, stepCase, stepIndexCase, nonBounceStep, dqTags, pathChannel, pathChannelDecoded, isNormalImportedPath };
