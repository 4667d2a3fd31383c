/**
 * GoogleSQL → DuckDB translation for the DuckDB engine (engine-feasibility.md §2.2).
 *
 * A token-level rewriter, not a parser: the exact GoogleSQL lexer (lexer.ts) feeds a tree of
 * bracketed groups, and a closed list of rewrites turns BigQuery syntax into DuckDB syntax or into
 * calls of the `bq_*` macros in sql/duckdb/bq_macros.sql (installed by compat.ts). Everything not
 * listed passes through unchanged, which is right for the large common subset (SELECT, joins,
 * windows, QUALIFY, CTEs, most functions). Constructs known not to translate throw a
 * TranslationError naming the construct and the portable alternative; they never pass silently.
 *
 * The parts, one concern a file: tree.ts (the bracket tree, context, predicates), statements.ts
 * (scripting, CREATE), expressions.ts (sequences, literals, UNNEST, the GA4 fast path), functions.ts
 * (the function table, CAST, EXTRACT, aggregates), types.ts (GoogleSQL → DuckDB types); this file is
 * the entry point.
 *
 * The list of rewrites, the macros and the residual differences are documented in
 * sql/duckdb/README.md; every one is checked against ZetaSQL's reference evaluator in
 * test/translate.test.ts.
 */
import { duckIdent as quoteIdent, duckString } from "../quote.ts";
import { buildTree, isOp, lex, type Cx, type Node, type TranslateOptions } from "./tree.ts";

export type { TranslateOptions } from "./tree.ts";
import { translateStatement } from "./statements.ts";
import { emitSeq } from "./expressions.ts";

export { TranslationError } from "./errors.ts";



/** `project.dataset.table` → `"dataset"."table"` (the project is dropped); `events_*` keeps its star. */
export function defaultTableMapper(database: string | undefined, schema: string | undefined, name: string): string {
  void database;
  return schema === undefined ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

export default defaultTableMapper;

export { quoteIdent, duckString };

/** Translate GoogleSQL (one statement or a `;`-separated script) to DuckDB SQL. */
export function translateToDuckDB(sql: string, opts: TranslateOptions): string {
  return translateStatements(sql, opts).join(";\n");
}

/** Translate a `;`-separated GoogleSQL script; one DuckDB statement per element (DECLARE may yield several). */
export function translateStatements(sql: string, opts: TranslateOptions): string[] {
  const tokens = lex(sql);
  const tree = buildTree(tokens);
  const cx: Cx = { opts, vars: opts.variables ?? new Set<string>(), uid: 0, emit: (nodes, sopts) => emitSeq(nodes, cx, sopts) };
  const out: string[] = [];
  let current: Node[] = [];
  for (const n of tree) {
    if (isOp(n, ";")) {
      if (current.length) out.push(...translateStatement(current, cx));
      current = [];
    } else current.push(n);
  }
  if (current.length) out.push(...translateStatement(current, cx));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}


export { translateType } from "./types.ts";
