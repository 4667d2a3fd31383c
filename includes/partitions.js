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
 * which BigQuery needs first in a script.
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
    `DELETE FROM ${self} WHERE ${partitionColumn} >= partition_window_start;`,
  ].filter(Boolean).join("\n");
}

/**
 * The rows an incremental run needs: `column >= partition_window_start − extraDays` (extraDays: history before the
 * window that the rebuilt days read, e.g. a session's events of the day before). TRUE on a full refresh.
 */
function since(isIncremental, column, extraDays) {
  if (!isIncremental) return "TRUE";
  const extra = Number(extraDays || 0);
  if (!Number.isInteger(extra) || extra < 0) throw new Error(`partitions.since: extraDays must be a whole number ≥ 0, got ${extraDays}`);
  return extra ? `${column} >= DATE_SUB(partition_window_start, INTERVAL ${extra} DAY)` : `${column} >= partition_window_start`;
}

module.exports = { incrementalTable, rebuildWindow, since };
