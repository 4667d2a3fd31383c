/**
 * A parsed XGBoost forest (src/models/xgboost/forest.ts) as GoogleSQL: one nested CASE per tree,
 * summed in XGBoost's order. Pure functions, no I/O.
 *
 * Semantics kept from XGBoost (notes: XGBoost model format, "left iff x < split_cond; missing → the
 * default side"):
 * - thresholds are float32 and features are rounded to float32 before the test: the SQL compares the
 *   FLOAT64 feature with {@link float32LessThanBound} of the threshold, which gives the same branch;
 * - a missing feature is SQL NULL (the encoders map NaN and ±∞ to NULL): a default-right node is
 *   `CASE WHEN x < B THEN left ELSE right END` (NULL < B is not true → right), a default-left node is
 *   `CASE WHEN x >= B THEN right ELSE left END` (NULL → left);
 * - the margin is base_margin (the logit of base_score, as stored) plus the leaves, added one tree after
 *   the other like the TypeScript predictor, so the FLOAT64 sums are the same operations.
 */
import type { Forest } from "../models/xgboost/index.ts";
import { float32LessThanBound, float64Literal } from "./numbers.ts";

/** SQL text of tree `t`, reading feature j through `feature(j)` (a column name or expression). */
function treeSql(forest: Forest, t: number, feature: (j: number) => string): string {
  const { left, right, threshold, defaultLeft, leafValue } = forest;
  const node = (n: number): string => {
    const l = left[n]!;
    if (l < 0) return float64Literal(leafValue[n]!);
    const x = feature(forest.feature[n]!);
    const bound = float64Literal(float32LessThanBound(threshold[n]!));
    return defaultLeft[n]
      ? `CASE WHEN ${x} >= ${bound} THEN ${node(right[n]!)} ELSE ${node(l)} END`
      : `CASE WHEN ${x} < ${bound} THEN ${node(l)} ELSE ${node(right[n]!)} END`;
  };
  return node(forest.treeStart[t]!);
}

/** Trees `from` … `to - 1` added to `start` (a column or the base margin literal), in order. */
export function treeSumSql(forest: Forest, start: string, from: number, to: number, feature: (j: number) => string): string {
  const terms = [start];
  for (let t = from; t < to; t++) terms.push(`(${treeSql(forest, t, feature)})`);
  return terms.join("\n    + ");
}
