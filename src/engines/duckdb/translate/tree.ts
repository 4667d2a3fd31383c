/**
 * The GoogleSQL text as a tree of bracketed groups, and what every part of the translator shares:
 * the translation context, token predicates and the error that names a construct.
 */
import { lex as lexGoogleSql, GoogleSqlLexError, GOOGLESQL_RESERVED, type Token } from "../../../googlesql/lexer.ts";
import { TranslationError } from "./errors.ts";

/** What a caller tells the translator. */
export interface TranslateOptions {
  /**
   * The DuckDB table reference for a backtick table name (`project.dataset.table` → database,
   * schema, name; `dataset.table` → undefined, schema, name). Must return quoted SQL text.
   */
  mapTable(database: string | undefined, schema: string | undefined, name: string): string;
  /**
   * Script variables (DECLARE) seen so far, lower-case. Pass the same Set to every statement of one
   * BigQuery script (Dataform preOps + query) so later statements read them with getvariable().
   */
  variables?: Set<string>;
}

/** The neutral GoogleSQL lexer, its errors reported as translation errors (same message as before the move). */
export function lex(sql: string): Token[] {
  try {
    return lexGoogleSql(sql);
  } catch (e) {
    if (e instanceof GoogleSqlLexError) {
      throw new TranslationError({ construct: e.construct, line: e.line, column: e.column, reason: "the text does not lex as GoogleSQL" });
    }
    throw e;
  }
}


export interface Leaf {
  type: "leaf";
  tok: Token;
}
export interface Group {
  type: "group";
  open: Token;
  close: Token;
  items: Node[];
}
export type Node = Leaf | Group;

export interface Cx {
  opts: TranslateOptions;
  vars: Set<string>;
  uid: number;
  /** Translate a sequence of nodes (the translator's emitSeq, handed in so function rules need not import it). */
  emit(nodes: Node[], sopts?: SeqOpts): string;
}

export function buildTree(tokens: Token[]): Node[] {
  const root: Node[] = [];
  const stack: { open: Token; items: Node[] }[] = [];
  let items = root;
  for (const t of tokens) {
    if (t.kind === "eof") break;
    if (t.kind === "op" && (t.text === "(" || t.text === "[")) {
      stack.push({ open: t, items });
      items = [];
      continue;
    }
    if (t.kind === "op" && (t.text === ")" || t.text === "]")) {
      const top = stack.pop();
      const want = top?.open.text === "(" ? ")" : "]";
      if (!top || t.text !== want) throw err(t, `unbalanced "${t.text}"`, "balanced brackets");
      const g: Group = { type: "group", open: top.open, close: t, items };
      items = top.items;
      items.push(g);
      continue;
    }
    items.push({ type: "leaf", tok: t });
  }
  if (stack.length) throw err(stack[stack.length - 1].open, `unclosed "${stack[stack.length - 1].open.text}"`, "balanced brackets");
  return root;
}

export function err(tok: Token | undefined, construct: string, alternative?: string, reason?: string): TranslationError {
  return new TranslationError({ construct, alternative, reason, line: tok?.line, column: tok?.column });
}

export const firstTok = (n: Node): Token => (n.type === "leaf" ? n.tok : n.open);
/** Leading layout of a node: newline, space or nothing, as in the source. */
export const lead = (n: Node | undefined): string => {
  if (!n) return "";
  const t = firstTok(n);
  return t.newlineBefore ? "\n" : t.spaceBefore ? " " : "";
};
export const isOp = (n: Node | undefined, op: string): boolean => !!n && n.type === "leaf" && n.tok.kind === "op" && n.tok.text === op;
export const isKw = (n: Node | undefined, ...words: string[]): boolean =>
  !!n && n.type === "leaf" && n.tok.kind === "ident" && words.includes(n.tok.value.toUpperCase());
export const isIdent = (n: Node | undefined): n is Leaf => !!n && n.type === "leaf" && (n.tok.kind === "ident" || n.tok.kind === "quoted_ident");
export const isGroup = (n: Node | undefined, open?: "(" | "["): n is Group =>
  !!n && n.type === "group" && (open === undefined || n.open.text === open);
export const upper = (n: Node | undefined): string => (n && n.type === "leaf" ? n.tok.value.toUpperCase() : "");

/** GoogleSQL reserved keywords: never names, so never operands or aliases. */
export const RESERVED = GOOGLESQL_RESERVED;
export const isName = (n: Node | undefined): n is Leaf =>
  !!n && n.type === "leaf" && (n.tok.kind === "quoted_ident" || (n.tok.kind === "ident" && !RESERVED.has(n.tok.value.toUpperCase())));

/** Words DuckDB reserves that GoogleSQL does not (and does not use as syntax here): quoted as names. */
export const DUCKDB_ONLY_RESERVED = new Set(
  `ANALYSE ANALYZE ASYMMETRIC BOTH CHECK DEFERRABLE DESCRIBE DO INITIALLY LAMBDA LEADING OFFSET ONLY PIVOT_LONGER
  PIVOT_WIDER PLACING REFERENCES RETURNING SHOW SUMMARIZE SYMMETRIC TRAILING UNIQUE VARIADIC`.split(/\s+/),
);

export const DATE_PARTS = new Set([
  "MICROSECOND",
  "MILLISECOND",
  "SECOND",
  "MINUTE",
  "HOUR",
  "DAY",
  "DAYOFWEEK",
  "DAYOFYEAR",
  "WEEK",
  "ISOWEEK",
  "MONTH",
  "QUARTER",
  "YEAR",
  "ISOYEAR",
  "DATE",
  "TIME",
  "DATETIME",
]);
export const INTERVAL_UNITS = new Set(["MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"]);

/** Split a group's items at top-level commas. */
export function splitArgs(items: Node[]): Node[][] {
  const args: Node[][] = [];
  let cur: Node[] = [];
  // Commas inside a type's angle brackets (`b STRUCT<x INT64, y STRING>`) separate fields, not arguments.
  let typeDepth = 0;
  for (const [k, n] of items.entries()) {
    if (isOp(n, "<") && isKw(items[k - 1], "ARRAY", "STRUCT", "RANGE")) typeDepth++;
    else if (isOp(n, ">") && typeDepth > 0) typeDepth--;
    if (isOp(n, ",") && typeDepth === 0) {
      args.push(cur);
      cur = [];
    } else cur.push(n);
  }
  if (cur.length || args.length) args.push(cur);
  return args;
}

export const indexOfKw = (nodes: Node[], word: string, from = 0): number => {
  for (let k = from; k < nodes.length; k++) if (isKw(nodes[k], word)) return k;
  return -1;
};


export interface SeqOpts {
  /** The sequence starts right after a keyword that is followed by a table name (MERGE, INSERT, DELETE). */
  afterTableKeyword?: boolean;
  /** Leaf ops whose text was pre-rendered (column definitions) are emitted as is. */
  verbatimOps?: boolean;
}
