/**
 * A tree ensemble with its encoder and calibrator as GoogleSQL statements that build a scored table:
 * rows cleaned → encoded → margins added tree after tree → calibrated probability → output columns.
 * Generic over the model: the lead and journey modules say how rows are encoded and what is output.
 * Pure functions; the statements run unchanged on BigQuery and, through the translator, on DuckDB.
 *
 * Size: when one statement would exceed the limits (limits.ts), the trees are split over several
 * statements, each adding its share of trees to the margin of the previous one (a table per step,
 * dropped at the end), so every statement stays under BigQuery's query length and the sums are still
 * added in XGBoost's order.
 */
import type { Forest } from "../models/xgboost/index.ts";
import { float64Literal } from "./numbers.ts";
import { treeSumSql } from "./trees.ts";
import { BIGQUERY_SQL_LIMITS, nestingDepth, ScoringSqlTooLargeError, type SqlLimits } from "./limits.ts";

export interface EnsembleSqlSpec {
  /** First line of the output table's statement: its grain. */
  grain: string;
  /** Backticked source table (`project.dataset.table`). */
  source: string;
  /** Columns carried through unchanged (the row's key), by name. */
  keys: string[];
  /** Cleaned inputs, one expression per source feature over the source's columns (named `input_<i>`). */
  inputs: string[];
  /** Model features, in the model's order, as expressions of `input_<i>` (see {@link inputName}). */
  features: string[];
  forest: Forest;
  /** The probability as an expression of the margin column `margin`. */
  probability: (margin: string) => string;
  /** The final SELECT list over the columns keys, margin, probability. */
  output: string[];
}

export const inputName = (i: number): string => `input_${i}`;
const featureName = (j: number): string => `feature_${j}`;

export interface EnsembleSql {
  /** Statements to run in order; the last ones build the target and drop the step tables. */
  statements: string[];
  /** Trees per statement (one entry: everything fits in one statement). */
  treesPerStatement: number[];
  /** Longest statement, characters, and deepest nesting. */
  maxStatementChars: number;
  maxNestingDepth: number;
}

function encodedCtes(spec: EnsembleSqlSpec, keys: string): string[] {
  return [
    `rows_cleaned AS (\n  SELECT ${keys},\n    ${spec.inputs.map((e, i) => `${e} AS ${inputName(i)}`).join(",\n    ")}\n  FROM ${spec.source}\n)`,
    `rows_encoded AS (\n  SELECT ${keys},\n    ${spec.features.map((e, j) => `${e} AS ${featureName(j)}`).join(",\n    ")}\n  FROM rows_cleaned\n)`,
  ];
}

/** CTEs adding trees [from, to) in steps of maxTreesPerStep to `start` (a column of `from` or a literal). */
function marginCtes(spec: EnsembleSqlSpec, keys: string, fromTable: string, start: string, from: number, to: number, perStep: number): { ctes: string[]; last: string } {
  const ctes: string[] = [];
  let prev = fromTable;
  let first = true;
  for (let a = from; a < to || first; a += perStep) {
    const b = Math.min(to, a + perStep);
    const name = `margins_through_tree_${b}`;
    const sum = treeSumSql(spec.forest, first ? start : "margin", a, b, featureName);
    ctes.push(first && start !== "margin"
      ? `${name} AS (\n  SELECT *, ${sum} AS margin\n  FROM ${prev}\n)`
      : `${name} AS (\n  SELECT * REPLACE (${sum} AS margin)\n  FROM ${prev}\n)`);
    prev = name;
    first = false;
    if (b >= to) break;
  }
  return { ctes, last: prev };
}

function finalSelect(spec: EnsembleSqlSpec, keys: string, from: string): string[] {
  return [
    `rows_scored AS (\n  SELECT ${keys}, margin, ${spec.probability("margin")} AS probability\n  FROM ${from}\n)`,
  ];
}

const withCtes = (ctes: string[], select: string): string => `WITH\n${ctes.join(",\n\n")}\n\n${select}`;

/**
 * The statements that (re)build `target` (backticked) with the scored rows.
 * @throws ScoringSqlTooLargeError when even one tree per statement exceeds the limits.
 */
export function ensembleSql(spec: EnsembleSqlSpec, target: string, limits: SqlLimits = BIGQUERY_SQL_LIMITS): EnsembleSql {
  const keys = spec.keys.map((k) => `\`${k}\``).join(", ");
  const T = spec.forest.numTrees;
  const base = float64Literal(spec.forest.baseMargin);
  const head = `-- ${spec.grain}\nCREATE OR REPLACE TABLE ${target} AS\n`;
  const finalOut = `SELECT\n  ${spec.output.join(",\n  ")}\nFROM rows_scored`;
  const measure = (statements: string[], trees: number[]): EnsembleSql => ({
    statements, treesPerStatement: trees,
    maxStatementChars: Math.max(...statements.map((s) => s.length)),
    maxNestingDepth: Math.max(...statements.map(nestingDepth)),
  });
  const fits = (s: string): boolean => s.length <= limits.maxStatementChars && nestingDepth(s) <= limits.maxNestingDepth;

  // One statement.
  const m = marginCtes(spec, keys, "rows_encoded", base, 0, T, limits.maxTreesPerStep);
  const one = head + withCtes([...encodedCtes(spec, keys), ...m.ctes, ...finalSelect(spec, keys, m.last)], finalOut);
  if (fits(one)) return measure([one], [T]);

  // Split: the largest runs of trees that fit, each a statement writing a step table.
  const stepTable = (k: number): string => target.replace(/`$/, `__margin_step_${k}\``);
  const stepStatement = (k: number, a: number, b: number): string => {
    const start = k === 0 ? base : "margin";
    const from = k === 0 ? "rows_encoded" : "rows_with_margin";
    const prevJoin = k === 0 ? [] : [`rows_with_margin AS (\n  SELECT e.*, p.margin\n  FROM rows_encoded AS e\n  JOIN ${stepTable(k - 1)} AS p USING (${keys})\n)`];
    const mc = marginCtes(spec, keys, from, start, a, b, limits.maxTreesPerStep);
    return `-- Step ${k + 1}: margins after tree ${b} (one row per ${spec.keys.join(", ")})\nCREATE OR REPLACE TABLE ${stepTable(k)} AS\n`
      + withCtes([...encodedCtes(spec, keys), ...prevJoin, ...mc.ctes], `SELECT ${keys}, margin\nFROM ${mc.last}`);
  };
  const statements: string[] = [];
  const trees: number[] = [];
  let a = 0;
  while (a < T) {
    // Grow the run while it fits (doubling, then bisecting): O(log T) renders per statement.
    const k = statements.length;
    if (!fits(stepStatement(k, a, a + 1))) {
      throw new ScoringSqlTooLargeError(`tree ${a} alone makes a statement of more than ${limits.maxStatementChars} characters or nesting ${limits.maxNestingDepth}: the model is too large to score in SQL; train shallower trees`);
    }
    let lo = 1;
    let hi = 1;
    while (a + hi < T && fits(stepStatement(k, a, a + Math.min(T - a, hi * 2)))) hi = Math.min(T - a, hi * 2);
    lo = hi;
    let up = Math.min(T - a, hi * 2);
    while (up - lo > 1) {
      const mid = (lo + up) >> 1;
      if (fits(stepStatement(k, a, a + mid))) lo = mid;
      else up = mid;
    }
    statements.push(stepStatement(k, a, a + lo));
    trees.push(lo);
    a += lo;
  }
  const last = stepTable(statements.length - 1);
  statements.push(head + withCtes([`rows_with_margin AS (\n  SELECT ${keys}, margin\n  FROM ${last}\n)`, ...finalSelect(spec, keys, "rows_with_margin")], finalOut));
  for (let k = 0; k < trees.length; k++) statements.push(`DROP TABLE IF EXISTS ${stepTable(k)}`);
  for (const s of statements) {
    if (!fits(s)) throw new ScoringSqlTooLargeError(`a scoring statement of ${s.length} characters exceeds the limits (${limits.maxStatementChars} characters, nesting ${limits.maxNestingDepth}) even after splitting the trees`);
  }
  return measure(statements, trees);
}
