/** GoogleSQL types → DuckDB types (`ARRAY<STRUCT<a INT64>>` → `STRUCT("a" BIGINT)[]`). */
import { duckIdent as quoteIdent } from "../quote.ts";
import { lex, type Group, type Node, buildTree, err, firstTok, isOp, isIdent, isGroup, upper, splitArgs } from "./tree.ts";


const SCALAR_TYPES: Record<string, string> = {
  INT64: "BIGINT",
  INT: "BIGINT",
  INTEGER: "BIGINT",
  BIGINT: "BIGINT",
  SMALLINT: "BIGINT",
  TINYINT: "BIGINT",
  BYTEINT: "BIGINT",
  FLOAT64: "DOUBLE",
  FLOAT: "DOUBLE",
  // DuckDB's NUMERIC is DECIMAL(18,3): silent rounding. BigQuery NUMERIC is (38, 9).
  NUMERIC: "DECIMAL(38,9)",
  DECIMAL: "DECIMAL(38,9)",
  // BIGNUMERIC (76.76 digits) has no DuckDB equivalent; DECIMAL(38,18) is the widest lossy fit.
  BIGNUMERIC: "DECIMAL(38,18)",
  BIGDECIMAL: "DECIMAL(38,18)",
  BOOL: "BOOLEAN",
  BOOLEAN: "BOOLEAN",
  STRING: "VARCHAR",
  BYTES: "BLOB",
  DATE: "DATE",
  DATETIME: "TIMESTAMP",
  TIMESTAMP: "TIMESTAMP",
  TIME: "TIME",
  JSON: "JSON",
  INTERVAL: "INTERVAL",
};

interface ParsedType {
  /** DuckDB type text. */
  duck: string;
  /** GoogleSQL type name, upper case (`ARRAY`, `STRUCT`, `INT64`…). */
  name: string;
  /** Index after the type. */
  end: number;
}

/** Parse a GoogleSQL type starting at nodes[j] (`INT64`, `ARRAY<STRUCT<a INT64, b STRING>>`, `NUMERIC(10, 2)`). */
export function parseType(nodes: Node[], j: number): ParsedType {
  const n = nodes[j];
  if (!n || n.type !== "leaf" || n.tok.kind !== "ident") throw err(n ? firstTok(n) : undefined, "a missing type", "a GoogleSQL type name");
  const name = n.tok.value.toUpperCase();
  if (name === "ARRAY" && isOp(nodes[j + 1], "<")) {
    const inner = parseType(nodes, j + 2);
    if (!isOp(nodes[inner.end], ">")) throw err(n.tok, "ARRAY< without >", "ARRAY<T>");
    return { duck: `${inner.duck}[]`, name, end: inner.end + 1 };
  }
  if (name === "STRUCT" && isOp(nodes[j + 1], "<")) {
    const fields: string[] = [];
    let k = j + 2;
    let anon = 0;
    while (!isOp(nodes[k], ">")) {
      if (k >= nodes.length) throw err(n.tok, "STRUCT< without >", "STRUCT<name TYPE, …>");
      let fname: string;
      const a = nodes[k];
      const b = nodes[k + 1];
      if (isIdent(a) && b && !isOp(b, ",") && !isOp(b, ">") && !isOp(b, "<") && !isGroup(b)) {
        fname = a.tok.value;
        k++;
      } else fname = `_field_${++anon}`;
      const ft = parseType(nodes, k);
      fields.push(`${quoteIdent(fname)} ${ft.duck}`);
      k = ft.end;
      if (isOp(nodes[k], ",")) k++;
    }
    return { duck: `STRUCT(${fields.join(", ")})`, name, end: k + 1 };
  }
  const duck = SCALAR_TYPES[name];
  if (!duck) {
    throw err(n.tok, `type ${name}`, "INT64, FLOAT64, NUMERIC, BOOL, STRING, BYTES, DATE, DATETIME, TIMESTAMP, TIME, JSON, ARRAY or STRUCT");
  }
  // Parameterised types: STRING(10), NUMERIC(10, 2).
  if (isGroup(nodes[j + 1], "(")) {
    const params = nodes[j + 1] as Group;
    if (name === "NUMERIC" || name === "DECIMAL") {
      const p = splitArgs(params.items).map((a) => a.map((x) => (x.type === "leaf" ? x.tok.text : "")).join(""));
      return { duck: `DECIMAL(${p[0]},${p[1] ?? 0})`, name, end: j + 2 };
    }
    return { duck, name, end: j + 2 };
  }
  return { duck, name, end: j + 1 };
}


/** The DuckDB type for a GoogleSQL type name (`ARRAY<STRUCT<a INT64>>` → `STRUCT("a" BIGINT)[]`). */
export function translateType(type: string): string {
  const nodes = buildTree(lex(type));
  const t = parseType(nodes, 0);
  if (t.end !== nodes.length) throw err(firstTok(nodes[t.end]), `type ${type}`, "a GoogleSQL type");
  return t.duck;
}

