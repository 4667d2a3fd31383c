/**
 * Edits of an incremental model's SQL that change how its rows are computed, not which rows it builds (a faster plan
 * of the same query, or a check in the query that fails the build rather than build other rows). An incremental table
 * records the fingerprint of the definition that built its days (definitions.ts), and a run under another definition
 * is refused; an edit listed here is not "another definition":
 * a table recorded before it is accepted without `--accept-changed-definitions`, and the run records the new
 * fingerprint. Each edit is shown to build the same rows by a test (test/same-output-edits.test.ts runs the model
 * before and after the edit on DuckDB over the demo sample with added traffic events, full refresh and incremental;
 * the new SQL itself also runs on the strict local BigQuery in the DAG tests) — list an edit here only with that test.
 *
 * An edit is a list of changes, each the SQL it replaced and the SQL that replaced it, comments left out, compared as
 * tokens (normalisedSql): the definition before the edit is the current one with each `after` put back to its
 * `before`, wherever the vars put the rest.
 */
export interface SameOutputEdit {
  /** The model's table name (an incremental action's target.name). */
  table: string;
  /** What changed and why the rows do not. */
  why: string;
  /** The changed pieces of SQL, each found once in the model. */
  changes: readonly { before: string; after: string }[];
  /**
   * The same edit as made in the model file, when part of its SQL comes from an include (a helper's text differs from
   * the call that writes it): the test puts these back to build the model as it was, and checks that undoing `changes`
   * gives that model's fingerprint. Without it, `changes` are the file's text too.
   */
  modelFile?: readonly { before: string; after: string }[];
  /** The vars under which the model is incremental (a form chosen by a var, e.g. identity_horizon_days), for the test. */
  vars?: Record<string, string>;
}

/**
 * The closing SELECT helpers.eachKeyOnce(table, ["session_key"], "built_rows") wrote when the session tables gained their
 * in-query key check: frozen here, since an edit is the text it introduced, whatever the helper writes later.
 */
const sessionKeyCheck = (table: string): string => `SELECT * EXCEPT (rows_with_key)
  FROM (SELECT *, COUNT(*) OVER (PARTITION BY session_key) AS rows_with_key FROM built_rows)
  WHERE IF(rows_with_key > 1, ERROR(CONCAT('${table}: ', CAST(rows_with_key AS STRING), ' rows with ', 'session_key ', IFNULL(CAST(session_key AS STRING), 'NULL'), ' (the unique key: session_key)')), TRUE)`;

export const SAME_OUTPUT_EDITS: readonly SameOutputEdit[] = [
  {
    table: "stg_ga4_sessions",
    why: "the first event carrying traffic taken in the sessions' own aggregation (ARRAY_AGG … ORDER BY event_at, event_name LIMIT 1) instead of a second read of the events with ROW_NUMBER() over the same order, joined back: " +
      "the same event's source, medium and campaign; a session without one has none either way (10M events: 38–45 → 25–31 CPU s, the same 2,025,725 rows)",
    changes: [
      {
        before: `first_traffic_event_per_session AS (
          SELECT session_key, event_source, event_medium, event_campaign
          FROM events_with_traffic_flag
          WHERE has_traffic
          QUALIFY ROW_NUMBER() OVER (PARTITION BY session_key ORDER BY event_at, event_name) = 1
        ),
        sessions_aggregated AS (`,
        after: "sessions_aggregated AS (",
      },
      {
        before: "LOGICAL_OR(NOT is_intraday) AS has_daily_events FROM",
        after: `LOGICAL_OR(NOT is_intraday) AS has_daily_events,
          ARRAY_AGG(IF(has_traffic, STRUCT(event_source, event_medium, event_campaign), NULL) IGNORE NULLS ORDER BY event_at, event_name LIMIT 1)[SAFE_OFFSET(0)] AS traffic
        FROM`,
      },
      {
        before: `IFNULL(t.event_source, '(direct)') AS source,
          IFNULL(t.event_medium, IF(t.event_source IS NULL, '(none)', '(not set)')) AS medium,
          IFNULL(t.event_campaign, '(not set)') AS campaign,
          t.session_key IS NOT NULL AS has_traffic_source,`,
        after: `IFNULL(s.traffic.event_source, '(direct)') AS source,
          IFNULL(s.traffic.event_medium, IF(s.traffic.event_source IS NULL, '(none)', '(not set)')) AS medium,
          IFNULL(s.traffic.event_campaign, '(not set)') AS campaign,
          s.traffic IS NOT NULL AS has_traffic_source,`,
      },
      {
        before: "FROM sessions_aggregated AS s LEFT JOIN first_traffic_event_per_session AS t USING (session_key)",
        after: "FROM sessions_aggregated AS s",
      },
    ],
  },
  {
    table: "stg_ga4_events",
    why: "only the events whose key is read more than once (re-deliveries) go through the window that keeps the first table's row per key; " +
      "the others, alone with their key, are kept as they are with duplicate_count 1, which is what the window gave them (10M events, the action alone: 72.7–76.7 → 64.8–68.4 s, 140–151 → 122–130 CPU s; the same 10,185,668 rows)",
    changes: [
      {
        before: `FROM events_with_traffic
        )
        SELECT
          * EXCEPT (duplicate_rank)`,
        after: `FROM events_with_traffic
        ),
        repeated_event_keys AS (
          SELECT event_key
          FROM events_keyed
          GROUP BY event_key
          HAVING COUNT(*) > 1
        )
        SELECT *, 1 AS duplicate_count
        FROM events_keyed
        WHERE event_key NOT IN (SELECT event_key FROM repeated_event_keys)
        UNION ALL
        SELECT
          * EXCEPT (duplicate_rank)`,
      },
      {
        before: `AS duplicate_rank
          FROM events_keyed
        )`,
        after: `AS duplicate_rank
          FROM events_keyed
          WHERE event_key IN (SELECT event_key FROM repeated_event_keys)
        )`,
      },
    ],
  },
  {
    table: "session_credit",
    why: "the credit summed per (session, model, transaction) first and the session's columns and the conversion date joined to the summed rows, " +
      "instead of grouping the joined rows with ANY_VALUE of each column: one session per key and one conversion per transaction, so the same values " +
      "(10M events, full refresh of the action alone: 13.0–13.3 → 11.0–11.4 s, the statement alone 22.1–25.3 → 13.6–17.9 CPU s; the same keys and columns, " +
      "the credit sums' 9th decimal differing in 10 of 3,499,754 rows where the parallel sum adds in another order, as it does in 6 between two runs of the old statement)",
    changes: [
      {
        before: `FROM fitted_model_credit
        )
        SELECT
          c.session_key,
          c.model,
          c.transaction_id,
          ROUND(SUM(c.conversions), 9) AS conversions,
          ROUND(SUM(c.value), 9) AS value,
          ANY_VALUE(s.channel) AS channel,
          ANY_VALUE(s.session_date) AS session_date,`,
        after: `FROM fitted_model_credit
        ),
        credit_summed AS (
          SELECT
            session_key,
            model,
            transaction_id,
            ROUND(SUM(conversions), 9) AS conversions,
            ROUND(SUM(value), 9) AS value
          FROM all_credit
          WHERE transaction_id IN (SELECT transaction_id FROM restated_conversions)
          GROUP BY 1, 2, 3
        )
        SELECT
          c.session_key,
          c.model,
          c.transaction_id,
          c.conversions,
          c.value,
          s.channel,
          s.session_date,`,
      },
      {
        before: `ANY_VALUE(s.source) AS source,
          ANY_VALUE(s.medium) AS medium,
          ANY_VALUE(s.campaign) AS campaign,
          ANY_VALUE(s.device) AS device,
          ANY_VALUE(s.user_type) AS user_type,
          ANY_VALUE(s.region) AS region,
          ANY_VALUE(r.conversion_date) AS conversion_date
        FROM all_credit AS c`,
        after: `s.source,
          s.medium,
          s.campaign,
          s.device,
          s.user_type,
          s.region,
          r.conversion_date
        FROM credit_summed AS c`,
      },
      {
        before: "AS s USING (session_key) GROUP BY 1, 2, 3",
        after: "AS s USING (session_key)",
      },
    ],
  },
  {
    table: "int_sessions_unioned",
    why: "each session_key once, checked by the query that builds the rows (helpers.eachKeyOnce: the rows counted per key, ERROR on a key with two) " +
      "instead of a Dataform uniqueKey assertion reading every row's key again after the build: the rows the query gives are its rows before, or it fails (a daily run with 395 days held: −1.19 MB)",
    changes: [
      {
        before: "GROUP BY session_key ) SELECT *, DATE(session_start_at) AS session_date FROM ga4_sessions",
        after: "GROUP BY session_key ), built_rows AS ( SELECT *, DATE(session_start_at) AS session_date FROM ga4_sessions",
      },
      {
        before: "SELECT *, DATE(session_start_at) AS session_date FROM custom_sessions",
        after: `SELECT *, DATE(session_start_at) AS session_date FROM custom_sessions
        )
        ${sessionKeyCheck("int_sessions_unioned")}`,
      },
    ],
    modelFile: [
      {
        before: `\${helpers.offlineSessionCtes(ref("stg_crm_transactions"), ref("int_transactions_deduplicated"), ref("stg_custom_events"))}
        SELECT *, DATE(session_start_at) AS session_date FROM ga4_sessions`,
        after: `\${helpers.offlineSessionCtes(ref("stg_crm_transactions"), ref("int_transactions_deduplicated"), ref("stg_custom_events"))},
        built_rows AS (
          SELECT *, DATE(session_start_at) AS session_date FROM ga4_sessions`,
      },
      {
        before: "SELECT *, DATE(session_start_at) AS session_date FROM custom_sessions",
        after: `SELECT *, DATE(session_start_at) AS session_date FROM custom_sessions
        )
        \${helpers.eachKeyOnce("int_sessions_unioned", ["session_key"], "built_rows")}`,
      },
    ],
  },
  {
    table: "int_session_identity",
    vars: { identity_horizon_days: "2" },
    why: "each session_key once, also checked by the query that builds the rows (helpers.eachKeyOnce), the form without a horizon (a table) no longer " +
      "checked by a Dataform uniqueKey assertion reading every row's key again: the rows the query gives are its rows before, or it fails",
    changes: [
      {
        before: "s.session_start_at ) SELECT session_key,",
        after: "s.session_start_at ), built_rows AS ( SELECT session_key,",
      },
      {
        before: "FROM sessions_resolved",
        after: `FROM sessions_resolved
        )
        ${sessionKeyCheck("int_session_identity")}`,
      },
    ],
    modelFile: [
      { before: ")`} SELECT session_key,", after: ")`}, built_rows AS ( SELECT session_key," },
      {
        before: "FROM sessions_resolved",
        after: `FROM sessions_resolved
        )
        \${helpers.eachKeyOnce("int_session_identity", ["session_key"], "built_rows")}`,
      },
    ],
  },
  {
    table: "session_credit",
    why: "the touch-credit tables (heuristic_touch_credit, funnel_event_credit), now partitioned by credit_date (their conversion's date), read " +
      "only from the restatement window's start on (credit_date >= partition_window_start) on an incremental run: the credit of the restated " +
      "conversions only was kept anyway (credit_summed: transaction_id IN restated_conversions, whose transaction_date is that credit_date)",
    changes: [
      {
        before: "WHERE model IN ('first_touch'",
        after: "WHERE credit_date >= partition_window_start AND model IN ('first_touch'",
      },
      {
        before: "UNION ALL SELECT session_key, model, transaction_id, share AS conversions",
        after: "WHERE credit_date >= partition_window_start UNION ALL SELECT session_key, model, transaction_id, share AS conversions",
      },
    ],
    modelFile: [
      {
        before: "${attribution_models.touchCreditSql(ref)}",
        after: '${attribution_models.touchCreditSql(ref, undefined, incremental() ? "credit_date >= partition_window_start" : undefined)}',
      },
    ],
  },
];
