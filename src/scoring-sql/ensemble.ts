/**
 * A tree ensemble with its encoder and calibrator as GoogleSQL statements that build a scored table:
 * rows cleaned → encoded → margins added tree after tree → calibrated probability → output columns.
 * Generic over the model: the lead and journey modules say how rows are encoded and what is output.
 * Pure functions; the statements run unchanged on BigQuery and, through the translator, on DuckDB.
 *
 * Three forms, the first that fits the limits (limits.ts):
 * - `statement`: one CREATE TABLE … AS statement;
 * - `functions`: the trees split into SQL user-defined functions, one per group of trees
 *   (`CREATE TEMP FUNCTION <table>_trees_<a>_to_<b>(margin FLOAT64, feature_j FLOAT64, …) RETURNS FLOAT64`,
 *   https://cloud.google.com/bigquery/docs/user-defined-functions), each taking the margin so far and
 *   returning it with its trees added; the scoring statement calls them one after the other in the same
 *   script, so the sums are XGBoost's, in its order. It keeps every statement (and its nesting) small; the
 *   script is one query job, and BigQuery's query length limit is on the job's text, so this form needs
 *   the whole script under `maxScriptChars`;
 * - `tables`: several jobs, each adding its share of trees to the margin of the previous one (a table per
 *   step, dropped at the end): every job stays under the query length limit.
 */
import type { Forest } from "../models/xgboost/index.ts";
import { float64Literal } from "./numbers.ts";
import { treeSumSql } from "./trees.ts";
import { BIGQUERY_SQL_LIMITS, nestingDepth, ScoringSqlTooLargeError, type SqlLimits } from "./limits.ts";

interface EnsembleSqlSpec {
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

type EnsembleSqlForm = "statement" | "functions" | "tables";

export interface EnsembleSql {
  form: EnsembleSqlForm;
  /** Query jobs to run in order, each a script of statements run together (temporary functions live in their script). */
  jobs: string[][];
  /** Every statement, in order (the text saved beside the model). */
  statements: string[];
  /** Trees per statement, function or step (one entry: everything in one statement). */
  treeGroups: number[];
  /** Longest statement and longest job (the statements joined as a script), characters, and deepest nesting. */
  maxStatementChars: number;
  maxScriptChars: number;
  maxNestingDepth: number;
}

/** Statements as one script, as the BigQuery engine sends them (buildScript joins them with `;\n`). */
const scriptText = (job: string[]): string => job.join(";\n");

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

/** The features (indices) the trees [from, to) split on, ascending. */
function featuresUsed(forest: Forest, from: number, to: number): number[] {
  const used = new Set<number>();
  const end = to < forest.numTrees ? forest.treeStart[to]! : forest.left.length;
  for (let n = forest.treeStart[from]!; n < end; n++) if (forest.left[n]! >= 0) used.add(forest.feature[n]!);
  return [...used].sort((a, b) => a - b);
}

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
  const measure = (form: EnsembleSqlForm, jobs: string[][], trees: number[]): EnsembleSql => {
    const statements = jobs.flat();
    return {
      form, jobs, statements, treeGroups: trees,
      maxStatementChars: Math.max(...statements.map((s) => s.length)),
      maxScriptChars: Math.max(...jobs.map((j) => scriptText(j).length)),
      maxNestingDepth: Math.max(...statements.map(nestingDepth)),
    };
  };
  const fits = (s: string): boolean => s.length <= limits.maxStatementChars && nestingDepth(s) <= limits.maxNestingDepth;
  const tooLarge = (a: number): ScoringSqlTooLargeError =>
    new ScoringSqlTooLargeError(`tree ${a} alone makes a statement of more than ${limits.maxStatementChars} characters or nesting ${limits.maxNestingDepth}: the model is too large to score in SQL; train shallower trees`);

  // One statement.
  const m = marginCtes(spec, keys, "rows_encoded", base, 0, T, limits.maxTreesPerStep);
  const one = head + withCtes([...encodedCtes(spec, keys), ...m.ctes, ...finalSelect(spec, keys, m.last)], finalOut);
  if (fits(one) && one.length <= limits.maxScriptChars) return measure("statement", [[one]], [T]);

  const viaFunctions = functionsScript(spec, keys, target, base, head, finalOut, limits, fits, tooLarge);
  if (viaFunctions && scriptText(viaFunctions.statements).length <= limits.maxScriptChars) return measure("functions", [viaFunctions.statements], viaFunctions.trees);

  const viaTables = tablesJobs(spec, keys, target, base, head, finalOut, limits, fits, tooLarge);
  return measure("tables", viaTables.statements.map((s) => [s]), viaTables.trees);
}

/**
 * The `functions` form: one temporary SQL function per group of at most `maxTreesPerStep` trees (fewer
 * when the function would not fit), taking the margin and the features its trees split on; the scoring
 * statement chains the calls through one CTE each. Undefined when the scoring statement itself does not fit.
 */
function functionsScript(
  spec: EnsembleSqlSpec, keys: string, target: string, base: string, head: string, finalOut: string, limits: SqlLimits,
  fits: (s: string) => boolean, tooLarge: (a: number) => Error,
): { statements: string[]; trees: number[] } | undefined {
  const T = spec.forest.numTrees;
  const table = /([^.`]+)`?$/.exec(target)?.[1] ?? "scores";
  const fnName = (a: number, b: number): string => `${table}_trees_${a}_to_${b - 1}`;
  const fnStatement = (a: number, b: number): string => {
    const params = ["margin FLOAT64", ...featuresUsed(spec.forest, a, b).map((j) => `${featureName(j)} FLOAT64`)];
    return `-- Trees ${a} to ${b - 1} added to a margin, in order (temporary: it exists only in this script)\n`
      + `CREATE TEMP FUNCTION ${fnName(a, b)}(${params.join(", ")})\nRETURNS FLOAT64 AS (\n  ${treeSumSql(spec.forest, "margin", a, b, featureName)}\n)`;
  };
  const statements: string[] = [];
  const groups: [number, number][] = [];
  for (let a = 0; a < T;) {
    let size = Math.min(limits.maxTreesPerStep, T - a);
    while (size > 0 && !fits(fnStatement(a, a + size))) size--;
    if (size === 0) throw tooLarge(a);
    statements.push(fnStatement(a, a + size));
    groups.push([a, a + size]);
    a += size;
  }
  const ctes: string[] = [];
  let prev = "rows_encoded";
  for (const [a, b] of groups) {
    const args = featuresUsed(spec.forest, a, b).map(featureName);
    const name = `margins_through_tree_${b}`;
    const call = `${fnName(a, b)}(${[a === 0 ? base : "margin", ...args].join(", ")})`;
    ctes.push(a === 0 ? `${name} AS (\n  SELECT *, ${call} AS margin\n  FROM ${prev}\n)` : `${name} AS (\n  SELECT * REPLACE (${call} AS margin)\n  FROM ${prev}\n)`);
    prev = name;
  }
  const scoring = head + withCtes([...encodedCtes(spec, keys), ...ctes, ...finalSelect(spec, keys, prev)], finalOut);
  if (!fits(scoring)) return undefined;
  return { statements: [...statements, scoring], trees: groups.map(([a, b]) => b - a) };
}

/** The `tables` form: the largest runs of trees that fit, each a job writing a step table; then the scoring job and the drops. */
function tablesJobs(
  spec: EnsembleSqlSpec, keys: string, target: string, base: string, head: string, finalOut: string, limits: SqlLimits,
  fits: (s: string) => boolean, tooLarge: (a: number) => Error,
): { statements: string[]; trees: number[] } {
  const T = spec.forest.numTrees;
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
    if (!fits(stepStatement(k, a, a + 1))) throw tooLarge(a);
    let hi = 1;
    while (a + hi < T && fits(stepStatement(k, a, a + Math.min(T - a, hi * 2)))) hi = Math.min(T - a, hi * 2);
    let lo = hi;
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
  return { statements, trees };
}
