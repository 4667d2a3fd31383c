/**
 * Size and complexity limits the generated SQL must respect on BigQuery, and how it is measured.
 *
 * From https://cloud.google.com/bigquery/quotas (Query jobs): "Maximum query length: 1,024K characters"
 * for an unresolved GoogleSQL query, and 12 MB for the resolved query (views and routines it references
 * expanded). The scoring statements reference no view or routine, so the unresolved length is the one
 * that binds; it is checked per statement.
 * Nesting: the quotas page limits nested views (16 levels), which the scoring SQL does not use; its own
 * depth is the CASE nesting of the deepest tree plus a few levels, checked against `maxNestingDepth`.
 * A left-deep `a + b + …` is one more level of the resolved expression per term: with 100 trees per sum,
 * ZetaSQL's analysis (BigQuery's front end, in test/support) failed with "maximum nesting depth
 * exceeded"; 8 trees per step (one CTE each) passes with trees of depth 5, so that is the default.
 */

export interface SqlLimits {
  /** Characters per statement; BigQuery: 1,024K (1,048,576). */
  maxStatementChars: number;
  /**
   * Characters per query job: a multi-statement script is one job, whose whole text BigQuery measures
   * against the query length limit, so temporary functions (which live in the script) do not lift it.
   * BigQuery: 1,024K, as for one statement.
   */
  maxScriptChars: number;
  /** Deepest bracket / CASE nesting allowed in a statement. */
  maxNestingDepth: number;
  /** Trees added in one step (one CTE): bounds the left-deep addition chain. */
  maxTreesPerStep: number;
}

export const BIGQUERY_SQL_LIMITS: SqlLimits = {
  maxStatementChars: 1024 * 1024,
  maxScriptChars: 1024 * 1024,
  maxNestingDepth: 64,
  maxTreesPerStep: 8,
};

/**
 * Deepest nesting of a SQL text: `(`/`[` and `CASE` open a level, `)`/`]` and `END` close it; string
 * literals and backtick names are skipped. O(length).
 */
export function nestingDepth(sql: string): number {
  let depth = 0;
  let max = 0;
  const re = /'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|\bCASE\b|\bEND\b|[()[\]]/g;
  for (const m of sql.matchAll(re)) {
    const t = m[0];
    if (t === "(" || t === "[" || t === "CASE") max = Math.max(max, ++depth);
    else if (t === ")" || t === "]" || t === "END") depth--;
  }
  return max;
}

export class ScoringSqlTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScoringSqlTooLargeError";
  }
}
