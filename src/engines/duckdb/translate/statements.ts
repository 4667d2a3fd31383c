/** Statements: BigQuery scripting (DECLARE/SET), CREATE with column definitions and options. */
import { duckIdent as quoteIdent } from "../quote.ts";
import { type Leaf, type Group, type Node, type Cx, err, firstTok, lead, isOp, isKw, isIdent, isGroup, upper, splitArgs, indexOfKw } from "./tree.ts";
import { parseType } from "./types.ts";
import { emitSeq } from "./expressions.ts";


const SCRIPTING = new Set([
  "IF",
  "LOOP",
  "WHILE",
  "REPEAT",
  "FOR",
  "CALL",
  "EXECUTE",
  "RAISE",
  "RETURN",
  "BREAK",
  "CONTINUE",
  "LEAVE",
  "ITERATE",
  "END",
  "EXCEPTION",
  "ASSERT",
  "EXPORT",
  "LOAD",
]);

export function translateStatement(nodes: Node[], cx: Cx): string[] {
  const head = upper(nodes[0]);
  const t0 = firstTok(nodes[0]);
  if (SCRIPTING.has(head) || (head === "BEGIN" && !isKw(nodes[1], "TRANSACTION"))) {
    throw err(
      t0,
      `BigQuery scripting (${head}${head === "BEGIN" ? " … END" : ""})`,
      "plain SQL in the model (a CASE or WHERE instead of IF, one statement per action; Dataform pre_operations for DECLARE)",
    );
  }
  if (head === "DECLARE") return [translateDeclare(nodes, cx)];
  if (head === "SET") {
    if (nodes[1] && nodes[1].type === "leaf" && nodes[1].tok.kind === "param")
      throw err(t0, "SET @@system_variable", "no system variables in models");
    if (!isIdent(nodes[1]) || !isOp(nodes[2], "="))
      throw err(t0, "SET of several variables", "one SET per variable: SET x = (SELECT …)");
    const name = nodes[1].tok.value;
    if (!cx.vars.has(name.toLowerCase())) cx.vars.add(name.toLowerCase());
    return [`SET VARIABLE ${quoteIdent(name)} = ${emitSeq(nodes.slice(3), cx).trim()}`];
  }
  if (head === "CREATE") return [translateCreate(nodes, cx)];
  if (head === "MERGE" && !isKw(nodes[1], "INTO")) return [`MERGE INTO${emitSeq(nodes.slice(1), cx, { afterTableKeyword: true })}`];
  if (head === "INSERT" && !isKw(nodes[1], "INTO")) return [`INSERT INTO${emitSeq(nodes.slice(1), cx, { afterTableKeyword: true })}`];
  if (head === "DELETE" && !isKw(nodes[1], "FROM")) return [`DELETE FROM${emitSeq(nodes.slice(1), cx, { afterTableKeyword: true })}`];
  return [emitSeq(nodes, cx)];
}

/** `DECLARE a[, b] [type] [DEFAULT expr]` → `SET VARIABLE a = CAST(expr AS type)` (one per name). */
function translateDeclare(nodes: Node[], cx: Cx): string {
  const names: string[] = [];
  let k = 1;
  for (;;) {
    const n = nodes[k];
    if (!isIdent(n)) throw err(firstTok(nodes[0]), "DECLARE without a variable name", "DECLARE name TYPE DEFAULT expr");
    names.push(n.tok.value);
    k++;
    if (isOp(nodes[k], ",")) k++;
    else break;
  }
  const def = indexOfKw(nodes, "DEFAULT", k);
  const typeNodes = nodes.slice(k, def === -1 ? nodes.length : def);
  const type = typeNodes.length ? parseType(typeNodes, 0) : undefined;
  if (type && type.end !== typeNodes.length) throw err(firstTok(typeNodes[type.end]), "DECLARE with an unknown type", "a GoogleSQL type");
  let value = def === -1 ? "NULL" : emitSeq(nodes.slice(def + 1), cx).trim();
  if (type) value = `CAST(${value} AS ${type.duck})`;
  for (const n of names) cx.vars.add(n.toLowerCase());
  return names.map((n) => `SET VARIABLE ${quoteIdent(n)} = ${value}`).join(";\n");
}

/** CREATE TABLE/VIEW: drop PARTITION BY, CLUSTER BY and OPTIONS(…); map column types; refuse functions. */
function translateCreate(nodes: Node[], cx: Cx): string {
  const t0 = firstTok(nodes[0]);
  let k = 1;
  while (isKw(nodes[k], "OR", "REPLACE", "TEMP", "TEMPORARY", "MATERIALIZED", "EXTERNAL", "SNAPSHOT")) k++;
  const what = upper(nodes[k]);
  if (what === "FUNCTION" && nodes.slice(1, k).some((n) => isKw(n, "TEMP", "TEMPORARY"))) return translateTempFunction(nodes, k + 1, cx);
  if (what === "FUNCTION" || what === "AGGREGATE" || what === "PROCEDURE" || (what === "TABLE" && isKw(nodes[k + 1], "FUNCTION"))) {
    throw err(t0, `CREATE ${nodes.slice(1, k + 1).map(upper).join(" ")} (user-defined functions)`, "the expression inline, or a JS helper in includes/ that renders it");
  }
  if (what === "MODEL" || what === "ROW" || what === "SEARCH" || what === "VECTOR") throw err(t0, `CREATE ${what}`, "a TypeScript job");
  if (what === "SCHEMA") {
    // CREATE SCHEMA [IF NOT EXISTS] `project.dataset` → "dataset"
    const rest = nodes.slice(k + 1);
    const nameAt = rest.findIndex((n) => isIdent(n));
    const n = rest[nameAt] as Leaf | undefined;
    if (n) {
      const parts = n.tok.value.split(".");
      const schema = parts[parts.length - 1];
      return `CREATE SCHEMA ${rest.slice(0, nameAt).map((x) => upper(x)).join(" ")} ${quoteIdent(schema)}`.replace(/\s+/g, " ");
    }
  }
  const kept: Node[] = [];
  let sawAs = false;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (!sawAs && isKw(n, "AS")) sawAs = true;
    if (!sawAs) {
      if ((isKw(n, "PARTITION") || isKw(n, "CLUSTER")) && isKw(nodes[i + 1], "BY")) {
        let j = i + 2;
        while (j < nodes.length && !isKw(nodes[j], "AS", "OPTIONS", "CLUSTER", "PARTITION")) j++;
        i = j - 1;
        continue;
      }
      if (isKw(n, "OPTIONS") && isGroup(nodes[i + 1], "(")) {
        i++;
        continue;
      }
      if (isKw(n, "DEFAULT") && isKw(nodes[i + 1], "COLLATE")) {
        i += 2;
        continue;
      }
      // Column definitions: the group right after the table name.
      if (what === "TABLE" && isGroup(n, "(") && i > 0 && isIdent(nodes[i - 1]) && !isKw(n.items[0], "SELECT", "WITH")) {
        kept.push({ type: "leaf", tok: { ...n.open, kind: "op", text: lead(n) + columnDefs(n, cx), value: "" } });
        continue;
      }
    }
    kept.push(n);
  }
  return emitSeq(kept, cx, { verbatimOps: true });
}

/**
 * `CREATE [OR REPLACE] TEMP FUNCTION name(p T, …) [RETURNS R] AS (expr)` — a GoogleSQL SQL UDF
 * (https://cloud.google.com/bigquery/docs/user-defined-functions) — as a DuckDB temporary macro:
 * `CREATE OR REPLACE TEMP MACRO name(p T', …) AS (CAST((expr) AS R'))`. Typed macro parameters keep the
 * arguments' types; the CAST gives the body the declared return type. Always OR REPLACE: a DuckDB temp
 * macro lives as long as the connection, while a BigQuery temp function lives only in its script, so the
 * next script's definition must replace it. `ANY TYPE` parameters become untyped macro parameters.
 * Refused: JavaScript bodies (DuckDB runs no JavaScript), qualified names, names starting with `bq_`
 * (the compatibility macros of sql/duckdb/bq_macros.sql: a macro of the same name would replace one).
 * `k` indexes the node after FUNCTION.
 */
function translateTempFunction(nodes: Node[], k: number, cx: Cx): string {
  const t0 = firstTok(nodes[0]);
  if (nodes.some((n) => isKw(n, "LANGUAGE"))) {
    throw err(t0, "CREATE TEMP FUNCTION … LANGUAGE js (a JavaScript user-defined function)", "a SQL function body: AS (expression)", "DuckDB cannot run JavaScript");
  }
  if (isKw(nodes[k], "IF") && isKw(nodes[k + 1], "NOT") && isKw(nodes[k + 2], "EXISTS")) k += 3;
  const nameNode = nodes[k];
  if (!isIdent(nameNode)) throw err(t0, "CREATE TEMP FUNCTION without a name", "CREATE TEMP FUNCTION name(x FLOAT64) AS (expression)");
  const name = nameNode.tok.value;
  if (name.includes(".")) throw err(nameNode.tok, `temporary function ${name} with a qualified name`, "an unqualified name (temporary functions belong to the script)");
  if (/^bq_/i.test(name)) {
    throw err(nameNode.tok, `temporary function ${name}`, "another name", "names starting with bq_ belong to the compatibility macros (sql/duckdb/bq_macros.sql), which it would replace");
  }
  const params = nodes[k + 1];
  if (!isGroup(params, "(")) throw err(nameNode.tok, `temporary function ${name} without a parameter list`, `${name}(x FLOAT64, …)`);
  const args = params.items.length === 0 ? [] : splitArgs(params.items).map((d) => {
    const p = d[0];
    if (!isIdent(p)) throw err(firstTok(d[0] ?? params), `a parameter of ${name} without a name`, "name TYPE");
    if (d.length === 1) throw err(p.tok, `parameter ${p.tok.value} of ${name} without a type`, `${p.tok.value} FLOAT64 (argument types are required)`);
    if (isKw(d[1], "ANY") && isKw(d[2], "TYPE") && d.length === 3) return quoteIdent(p.tok.value);
    const type = parseType(d, 1);
    if (type.end !== d.length) throw err(firstTok(d[type.end]!), `parameter ${p.tok.value} of ${name} with an unknown type`, "a GoogleSQL type");
    return `${quoteIdent(p.tok.value)} ${type.duck}`;
  });
  let i = k + 2;
  let returns: string | undefined;
  if (isKw(nodes[i], "RETURNS")) {
    const end = nodes.findIndex((n, j) => j > i && isKw(n, "AS", "DETERMINISTIC", "NOT", "OPTIONS"));
    const typeNodes = nodes.slice(i + 1, end === -1 ? nodes.length : end);
    const type = parseType(typeNodes, 0);
    if (type.end !== typeNodes.length) throw err(nameNode.tok, `temporary function ${name} with an unknown return type`, "RETURNS <a GoogleSQL type>");
    returns = type.duck;
    i = end === -1 ? nodes.length : end;
  }
  const as = indexOfKw(nodes, "AS", i);
  const body = nodes[as + 1];
  if (as === -1 || !isGroup(body, "(") || nodes.length !== as + 2) {
    throw err(nameNode.tok, `temporary function ${name} without a SQL body`, `AS (expression) after the parameters`);
  }
  const expr = emitSeq(body.items, cx).trim();
  return `CREATE OR REPLACE TEMP MACRO ${quoteIdent(name)}(${args.join(", ")}) AS (${returns ? `CAST((${expr}) AS ${returns})` : `(${expr})`})`;
}

function columnDefs(g: Group, cx: Cx): string {
  const defs = splitArgs(g.items)
    .filter((d) => !isKw(d[0], "PRIMARY", "FOREIGN", "CONSTRAINT"))
    .map((d) => {
      const name = d[0] as Leaf;
      const type = parseType(d, 1);
      let rest = d.slice(type.end);
      const opt = rest.findIndex((n) => isKw(n, "OPTIONS"));
      if (opt !== -1) rest = [...rest.slice(0, opt), ...rest.slice(opt + 2)];
      return `${quoteIdent(name.tok.value)} ${type.duck}${emitSeq(rest, cx)}`;
    });
  return `(${defs.join(", ")})`;
}

