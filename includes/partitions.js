/**
 * Date-partitioned incremental models: a run rebuilds only the partitions from a window start on (the days it
 * touches), a full refresh (`--full-refresh`) rebuilds the whole table. What a model writes (definitions/README.md,
 * "Incremental models"):
 *
 *   config { ...partitions.incrementalTable("session_date", ["session_key"]), schema: …, … }
 *   pre_operations { ${partitions.rebuildWindow(incremental(), self(), "session_date")} }
 *   … FROM input WHERE ${partitions.since(incremental(), "event_date", 1)}   -- inputs the rebuilt days need
 *   … WHERE ${partitions.since(incremental(), "session_date")}               -- the rebuilt days only
 *
 * On an incremental run the pre-operations declare `partition_window_start` (a DATE) and delete the target's
 * partitions from it on; the query then inserts those partitions again (Dataform's incremental form without a
 * uniqueKey is exactly pre-operations + INSERT, so plain `dataform run` gives the same rows as funnelcredit). The
 * filters compare a partition column with a script variable, never with a subquery, so BigQuery prunes partitions
 * before it reads them. Both engines run the DELETE and the INSERT in one transaction: a failed run changes nothing,
 * and its re-run computes the same window from the same state.
 *
 * The window starts reprocess_days (+ marginDays) before the newest partition the target holds, so a run after a
 * failed one (target older than its inputs) starts earlier, never later: it can rebuild more, never less.
 */

/** Earliest window start: an empty target (or one whose rows carry no date) is rebuilt whole. */
const EMPTY_TARGET_START = "DATE '1900-01-01'";

/** Config of a date-partitioned incremental table: spread it into a model's `config { … }`. */
function incrementalTable(partitionColumn, clusterBy) {
  if (!/^[a-z_][a-z0-9_]*$/.test(partitionColumn)) throw new Error(`partitions.incrementalTable: "${partitionColumn}" is not a DATE column name`);
  return { type: "incremental", bigquery: { partitionBy: partitionColumn, clusterBy: clusterBy || [] } };
}

/**
 * Pre-operations of an incremental run: declare partition_window_start and delete the target's partitions from it
 * on. Nothing on a full refresh (the table is created whole). `opts.start`: a DATE expression (may read `self`,
 * evaluated once before the DELETE) for the window start instead of the default
 * `MAX(partitionColumn) − (reprocess_days + opts.marginDays)`; `opts.declarationsBefore`: the model's own DECLAREs,
 * which BigQuery needs first in a script; `opts.declarationsAfter`: DECLAREs that read partition_window_start.
 */
function rebuildWindow(isIncremental, self, partitionColumn, opts) {
  const o = opts || {};
  if (!isIncremental) return o.declarationsBefore || "";
  const margin = Number(o.marginDays || 0);
  if (!Number.isInteger(margin) || margin < 0) throw new Error(`partitions.rebuildWindow: marginDays must be a whole number ≥ 0, got ${o.marginDays}`);
  const start = o.start || `(SELECT DATE_SUB(MAX(${partitionColumn}), INTERVAL ${settings.reprocessDays + margin} DAY) FROM ${self})`;
  return [
    o.declarationsBefore || "",
    `DECLARE partition_window_start DATE DEFAULT IFNULL(${start}, ${EMPTY_TARGET_START});`,
    o.declarationsAfter || "",
    `DELETE FROM ${self} WHERE ${partitionColumn} >= partition_window_start;`,
  ].filter(Boolean).join("\n");
}

/**
 * Days of the newest transactions before which a credit table's newest credited day is not looked for (see
 * restatementWindow): a week of transaction days the credit tables may fall behind (missed or failed runs) before a run
 * restates every day instead.
 */
const RESTATEMENT_LOOKUP_MARGIN_DAYS = 7;

/**
 * Pre-operations of a credit table (partitioned by `partitionColumn`, a conversion day) on an incremental run: the
 * restatement window starts vars.credit_restatement_days before the newest conversion day the table holds.
 * `conversionDay`: the expression that is that day on a row with conversion credit and NULL otherwise (a performance
 * table also has cost-only days, which may be newer). Every credit table counts from its own newest credited day, which
 * is session_credit's newest conversion day as of the last run that built it: they restate the same days, and a table
 * whose previous run failed starts earlier, never later.
 *
 * The newest credited day is looked for only in the partitions from `restatement_lookup_from` on: the newest
 * transaction day (`transactions`: the transactions table, its transaction_date) − credit_restatement_days −
 * RESTATEMENT_LOOKUP_MARGIN_DAYS, a script variable, so BigQuery prunes the older partitions instead of reading the
 * table's whole date column every run. After a run the table's newest credited day is the newest transaction day, so
 * a daily run finds it there. A table whose newest credited day is older than that (no credit yet, or it fell behind by
 * more than the margin) finds none and restates every day, as an empty table does: more, never less.
 */
function restatementWindow(isIncremental, self, partitionColumn, conversionDay, transactions) {
  return rebuildWindow(isIncremental, self, partitionColumn, {
    declarationsBefore: isIncremental
      ? `DECLARE restatement_lookup_from DATE DEFAULT (SELECT DATE_SUB(MAX(transaction_date), INTERVAL ${settings.creditRestatementDays + RESTATEMENT_LOOKUP_MARGIN_DAYS} DAY) FROM ${transactions});`
      : "",
    start: `(SELECT DATE_SUB(MAX(${conversionDay}), INTERVAL ${settings.creditRestatementDays} DAY) FROM ${self} WHERE ${partitionColumn} >= restatement_lookup_from)`,
  });
}

/**
 * Pre-operations of a day-local extract of stg_ga4_events: a table partitioned by `event_date` whose rows of a day are
 * a function of stg_ga4_events' rows of that day alone (a filter and per-event columns), carrying `is_intraday`. Its
 * window is stg_ga4_events' own, computed the same way from the extract's rows: from the last *daily* day −
 * reprocess_days + 1, never before the first-run start (`firstRunDay`: helpers.ga4FirstRunDay, which stg_ga4_events
 * never re-stages before), looked for only from that day on (a script variable: BigQuery prunes). The extract's newest
 * daily day is never newer than stg_ga4_events' was before this run (its rows are a subset of what stg_ga4_events held
 * when the extract last ran), so its window starts at or before the days stg_ga4_events re-staged: every changed day
 * is rebuilt (a sparse extract, or one whose last run failed, rebuilds a few more). Consumers then read the extract
 * (a few columns of the events they need) instead of the event table's whole history.
 */
function eventExtractWindow(isIncremental, self, firstRunDay) {
  return rebuildWindow(isIncremental, self, "event_date", {
    declarationsBefore: isIncremental ? `DECLARE first_run_day DATE DEFAULT ${firstRunDay};` : "",
    start: stagedDaysStart(self),
  });
}

/**
 * The first GA4 day an incremental run re-stages, from a table of staged events (`self`: stg_ga4_events, or an extract
 * of it) with `event_date` and `is_intraday`: its last *daily* day − reprocess_days + 1, never before the script
 * variable `first_run_day` (nothing daily staged yet: first_run_day), looked for only from first_run_day on (BigQuery
 * prunes the older partitions).
 */
function stagedDaysStart(self) {
  return `(SELECT GREATEST(IFNULL(DATE_ADD(DATE_SUB(MAX(IF(is_intraday, NULL, event_date)), INTERVAL ${settings.reprocessDays} DAY), INTERVAL 1 DAY), first_run_day), first_run_day)
      FROM ${self}
      WHERE event_date >= first_run_day)`;
}

/**
 * The first session day stg_ga4_sessions rebuilds on its next run, from a table of sessions (`table`) with
 * `session_date` and `has_daily_events`: its newest session with events of a daily export table − reprocess_days − 2
 * (a re-staged event's session starts at most 2 UTC days earlier), never before first_run_day − 2 (the script
 * variable: staging never re-stages before the first-run start), looked for only from that day on (BigQuery prunes the
 * older partitions). `where`: a further condition on the table's rows. NULL when no such session (rebuild everything).
 * stg_ga4_sessions' own window (over itself), int_sessions_unioned's (its GA4 rows, copies of staging's) and the bound
 * of lead_web_behaviour's final rows (over stg_ga4_sessions, after this run's staging).
 */
function sessionDaysStart(table, where) {
  return `(SELECT GREATEST(DATE_SUB(MAX(IF(has_daily_events, session_date, NULL)), INTERVAL ${settings.reprocessDays + 2} DAY), DATE_SUB(first_run_day, INTERVAL 2 DAY))
      FROM ${table}
      WHERE session_date >= DATE_SUB(first_run_day, INTERVAL 2 DAY)${where ? ` AND ${where}` : ""})`;
}

/** extraDays of since / sinceTimestamp: a whole number ≥ 0 (0 when not given). */
function wholeDays(helper, extraDays) {
  const extra = Number(extraDays || 0);
  if (!Number.isInteger(extra) || extra < 0) throw new Error(`partitions.${helper}: extraDays must be a whole number ≥ 0, got ${extraDays}`);
  return extra;
}

/**
 * The rows an incremental run needs: `column >= partition_window_start − extraDays` (extraDays: history before the
 * window that the rebuilt days read, e.g. a session's events of the day before). TRUE on a full refresh.
 */
function since(isIncremental, column, extraDays) {
  if (!isIncremental) return "TRUE";
  const extra = wholeDays("since", extraDays);
  return extra ? `${column} >= DATE_SUB(partition_window_start, INTERVAL ${extra} DAY)` : `${column} >= partition_window_start`;
}

/**
 * `since` for a TIMESTAMP column of a table partitioned by its DATE (`partitionBy: "DATE(column)"`): the rows of the
 * days from partition_window_start (− extraDays) on, as `column >= TIMESTAMP(partition_window_start)`, the
 * partitioning column alone against a script variable (BigQuery's pruning rule: filter the partitioning column itself,
 * https://cloud.google.com/bigquery/docs/querying-partitioned-tables). TRUE on a full refresh.
 */
function sinceTimestamp(isIncremental, column, extraDays) {
  if (!isIncremental) return "TRUE";
  const extra = wholeDays("sinceTimestamp", extraDays);
  return extra ? `${column} >= TIMESTAMP(DATE_SUB(partition_window_start, INTERVAL ${extra} DAY))` : `${column} >= TIMESTAMP(partition_window_start)`;
}

/**
 * The checks of a date-partitioned incremental table, over the partitions the run wrote: a post-operation
 * (`post_operations { ${partitions.checks(incremental(), self(), "session_date", { uniqueKey: [...], nonNull: [...] })} }`)
 * in place of Dataform's `assertions:` config, which reads the whole table on every run. On an incremental run it reads
 * only `partitionColumn >= partition_window_start` (a script variable, so BigQuery prunes before reading); on a full
 * refresh every partition. A violation fails the action with ERROR(), naming the table, the check and the number of
 * rows: inside the run's DELETE + INSERT transaction, so the partitions are left as they were before the run.
 *
 * Checking the window is complete for row conditions (nonNull, rowConditions: only the rows the run wrote can have
 * changed) and for a uniqueKey that determines the partition: two rows with one key then share a partition, so a
 * duplicate the run creates lies inside the window. A key that does not determine the partition date would need a
 * check across all partitions (the window's keys against the whole table), which this does not do: the model's
 * comment must say why its key determines the date.
 *
 * opts: `uniqueKey` (column names), `nonNull` (column names), `rowConditions` (boolean SQL expressions).
 */
function checks(isIncremental, self, partitionColumn, opts) {
  const o = opts || {};
  const name = String(self).replace(/`/g, "").split(".").pop();
  const where = since(isIncremental, partitionColumn);
  const scope = isIncremental ? `${partitionColumn} >= ', CAST(partition_window_start AS STRING), '` : `every ${partitionColumn}`;
  // An incremental run's DELETE + INSERT and these checks commit together: a failed check leaves the old partitions.
  const outcome = isIncremental ? "; the changes of this run were rolled back" : "";
  const text = (s) => `'${String(s).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const statements = [];
  const key = o.uniqueKey || [];
  if (key.length) {
    statements.push(`-- ${name}: every ${key.join(" + ")} once in the partitions this run wrote.
SELECT IF(COUNT(*) = 0, 0, ERROR(CONCAT('${name}: ', CAST(COUNT(*) AS STRING), ' value(s) of the unique key (${key.join(", ")}) are on more than one row of the partitions this run wrote (${scope})${outcome}')))
FROM (
  SELECT ${key.join(", ")}
  FROM ${self}
  WHERE ${where}
  GROUP BY ${key.join(", ")}
  HAVING COUNT(*) > 1
) AS duplicate_keys`);
  }
  const conditions = [...(o.nonNull || []).map((c) => `${c} IS NOT NULL`), ...(o.rowConditions || [])];
  if (conditions.length) {
    statements.push(`-- ${name}: the row conditions, on the rows this run wrote.
SELECT IF(COUNT(*) = 0, 0, ERROR(CONCAT('${name}: rows of the partitions this run wrote (${scope}) fail ', STRING_AGG(CONCAT(failing_row_condition, ' (', CAST(row_count AS STRING), ' rows)'), ', ' ORDER BY failing_row_condition), '${outcome}')))
FROM (
  ${conditions.map((c) => `SELECT ${text(c)} AS failing_row_condition, COUNTIF(NOT (${c})) AS row_count FROM ${self} WHERE ${where}`).join("\n  UNION ALL\n  ")}
) AS failing_conditions
WHERE row_count > 0`);
  }
  return statements.join(";\n");
}

module.exports = { incrementalTable, rebuildWindow, eventExtractWindow, stagedDaysStart, sessionDaysStart, restatementWindow, RESTATEMENT_LOOKUP_MARGIN_DAYS, since, sinceTimestamp, checks };
