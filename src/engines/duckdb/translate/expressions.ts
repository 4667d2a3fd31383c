/** Sequences of nodes: table names, literals, INTERVAL, typed constructors, UNNEST in FROM, the GA4 fast path and calls. */
import { duckIdent as quoteIdent, duckString } from "../quote.ts";
import { type Leaf, type Group, type Node, type Cx, err, firstTok, lead, isOp, isKw, isIdent, isGroup, upper, RESERVED, isName, DUCKDB_ONLY_RESERVED, INTERVAL_UNITS, splitArgs, indexOfKw, type SeqOpts } from "./tree.ts";
import { parseType } from "./types.ts";
import { firstOfArrayAgg, functionCall } from "./functions.ts";



/** Keywords after which a name is a table. */
const TABLE_KEYWORDS = new Set(["FROM", "JOIN", "INTO", "TABLE", "UPDATE", "MERGE", "USING", "VIEW", "EXISTS", "DELETE", "INSERT"]);
/** Keywords that end a FROM clause at the same level. */
const CLAUSE_END = new Set(["WHERE", "GROUP", "HAVING", "QUALIFY", "WINDOW", "ORDER", "LIMIT", "UNION", "INTERSECT", "EXCEPT", "SELECT", "SET", "VALUES", "WHEN", "THEN"]);

export function emitSeq(nodes: Node[], cx: Cx, sopts: SeqOpts = {}): string {
  let out = "";
  let inFrom = false;
  let i = 0;
  let prev: Node | undefined;
  let prev2: Node | undefined;
  let tablePos = sopts.afterTableKeyword ?? false;
  while (i < nodes.length) {
    const n = nodes[i];
    const r = rewriteAt(nodes, i, cx, { prev, prev2, inFrom, tablePos });
    if (r) {
      out += lead(n) + r.text;
      prev2 = r.next - 2 >= i ? nodes[r.next - 2] : prev;
      prev = nodes[r.next - 1];
      i = r.next;
      tablePos = false;
      continue;
    }
    if (n.type === "group") {
      out += lead(n) + emitGroup(n, cx, prev);
    } else if (sopts.verbatimOps && n.tok.kind === "op" && n.tok.value === "" && n.tok.text !== "") {
      out += n.tok.text;
    } else {
      out += lead(n) + emitLeaf(n, cx, prev, nodes[i + 1]);
    }
    // Clause tracking for table positions.
    const u = upper(n);
    if (n.type === "leaf" && n.tok.kind === "ident") {
      if (u === "FROM") inFrom = true;
      else if (CLAUSE_END.has(u)) inFrom = false;
      tablePos = TABLE_KEYWORDS.has(u) || (u === "EXISTS" && isKw(prev, "NOT"));
    } else tablePos = isOp(n, ",") && inFrom;
    prev2 = prev;
    prev = n;
    i++;
  }
  return out;
}

function emitGroup(g: Group, cx: Cx, prev: Node | undefined): string {
  if (g.open.text === "(") {
    const fast = ga4ParamFastPath(g, cx);
    if (fast !== undefined) return fast;
    if (isKw(g.items[0], "SELECT") && isKw(g.items[1], "AS") && isKw(g.items[2], "STRUCT", "VALUE")) {
      throw err(firstTok(g.items[0]), `SELECT AS ${upper(g.items[2])}`, "SELECT STRUCT(a, b) … (ARRAY(SELECT STRUCT(x AS a, y AS b) FROM …))");
    }
    return `(${emitSeq(g.items, cx)}${lead({ type: "leaf", tok: g.close })})`;
  }
  // "[": a subscript after an operand, else an array literal.
  const operand = prev?.type === "group" || isName(prev);
  if (!operand) return `[${emitSeq(g.items, cx)}]`;
  const it = g.items;
  if (it.length === 2 && isKw(it[0], "OFFSET", "SAFE_OFFSET", "ORDINAL", "SAFE_ORDINAL") && isGroup(it[1], "(")) {
    const idx = emitSeq((it[1] as Group).items, cx).trim();
    // DuckDB lists are 1-based and return NULL out of range (BigQuery OFFSET errors; SAFE_OFFSET gives NULL).
    return upper(it[0]).endsWith("OFFSET") ? `[(${idx}) + 1]` : `[${idx}]`;
  }
  if (it.length === 1 && it[0].type === "leaf" && it[0].tok.kind === "string") return `[${emitSeq(it, cx).trim()}]`;
  // GoogleSQL `arr[i]` is 0-based, like OFFSET.
  return `[(${emitSeq(it, cx).trim()}) + 1]`;
}

function emitLeaf(n: Leaf, cx: Cx, prev: Node | undefined, next: Node | undefined): string {
  const t = n.tok;
  switch (t.kind) {
    case "string":
      return duckString(t.value);
    case "bytes":
      return `CAST('${[...t.value].map((c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("")}' AS BLOB)`;
    case "number":
      if (/^0x/i.test(t.text)) return BigInt(t.text).toString();
      // GoogleSQL `1.5` is FLOAT64; DuckDB would make it DECIMAL.
      return t.isFloat ? `CAST(${t.text} AS DOUBLE)` : t.text;
    case "quoted_ident":
      return t.value.split(".").map(quoteIdent).join(".");
    case "param":
      if (t.value.startsWith("@")) throw err(t, `system variable @${t.value}`, "a literal or a Dataform var");
      return t.value === "?" ? "?" : `$${t.value}`;
    case "ident": {
      const u = t.value.toUpperCase();
      if (
        cx.vars.has(t.value.toLowerCase()) &&
        !isOp(prev, ".") &&
        !isOp(next, ".") &&
        !isGroup(next, "(") &&
        !isKw(prev, "AS")
      ) {
        return `getvariable(${duckString(t.value.toLowerCase())})`;
      }
      if (u === "CURRENT_TIMESTAMP" || u === "CURRENT_DATETIME") return "CAST(current_timestamp AS TIMESTAMP)";
      if (u === "CURRENT_DATE") return "current_date";
      // Plain names in GoogleSQL, reserved words in DuckDB (`offset` is WITH OFFSET's default alias).
      if (DUCKDB_ONLY_RESERVED.has(u) && !isGroup(next)) {
        const limitOffset = u === "OFFSET" && (isKw(prev, "WITH") || (next?.type === "leaf" && (next.tok.kind === "number" || next.tok.kind === "param")));
        if (!limitOffset) return quoteIdent(t.value);
      }
      return t.text;
    }
    default:
      return t.text;
  }
}

interface At {
  prev: Node | undefined;
  /** The node before prev. */
  prev2: Node | undefined;
  inFrom: boolean;
  tablePos: boolean;
}

/** Try every multi-node rewrite at nodes[i]; undefined when none applies. */
function rewriteAt(nodes: Node[], i: number, cx: Cx, at: At): { text: string; next: number } | undefined {
  const n = nodes[i];
  if (n.type !== "leaf") return undefined;
  const t = n.tok;
  const u = t.kind === "ident" ? t.value.toUpperCase() : "";
  const next = nodes[i + 1];

  // Names: backtick paths, dotted paths, function calls (also SAFE.f(…) and NET.HOST(…)).
  if (t.kind === "ident" || t.kind === "quoted_ident") {
    // Typed literals: DATE '…', TIMESTAMP '…'.
    if (t.kind === "ident" && next && next.type === "leaf" && next.tok.kind === "string") {
      const lit = typedLiteral(u, next.tok.value);
      if (lit !== undefined) return { text: lit, next: i + 2 };
    }
    if (u === "INTERVAL" && t.kind === "ident") return interval(nodes, i, cx);
    if (u === "SELECT" && isKw(next, "AS") && isKw(nodes[i + 2], "STRUCT", "VALUE")) {
      throw err(t, `SELECT AS ${upper(nodes[i + 2])}`, "SELECT STRUCT(a, b) …");
    }
    if (u === "SELECT" && isKw(next, "DISTINCT", "ALL") && isKw(nodes[i + 2], "AS") && isKw(nodes[i + 3], "STRUCT", "VALUE")) {
      throw err(t, `SELECT ${upper(next)} AS ${upper(nodes[i + 3])}`, "SELECT DISTINCT STRUCT(a, b) …");
    }
    if (u === "FOR" && isKw(next, "SYSTEM_TIME", "SYSTEM")) throw err(t, "FOR SYSTEM_TIME AS OF (time travel)", "a snapshot table");
    if (u === "EXCEPT" && isOp(at.prev, "*") && isGroup(next, "(")) {
      return { text: `EXCLUDE ${emitGroup(next, cx, undefined)}`, next: i + 2 };
    }
    if (u === "IN" && isKw(next, "UNNEST") && isGroup(nodes[i + 2], "(")) {
      const arr = emitSeq((nodes[i + 2] as Group).items, cx).trim();
      return { text: `IN (SELECT UNNEST(${arr}))`, next: i + 3 };
    }
    if (u === "UNNEST" && isGroup(next, "(") && at.tablePos) return fromUnnest(nodes, i, cx, at);
    if ((u === "ARRAY" || u === "STRUCT") && isOp(next, "<")) return typedConstructor(nodes, i, cx);
    if (u === "STRUCT" && isGroup(next, "(")) {
      return { text: structCall(splitArgs(next.items), undefined, cx), next: i + 2 };
    }
    if (t.kind === "ident" && RESERVED.has(u) && u !== "IF" && u !== "LEFT" && u !== "RIGHT" && u !== "EXTRACT" && u !== "CAST")
      return undefined;

    // Gather a dotted path.
    const parts: Leaf[] = [n];
    let j = i + 1;
    while (isOp(nodes[j], ".") && isIdent(nodes[j + 1])) {
      parts.push(nodes[j + 1] as Leaf);
      j += 2;
    }
    if (isGroup(nodes[j], "(") && !isOp(at.prev, ".") && !at.tablePos) {
      const fname = parts.map((p) => p.tok.value.toUpperCase()).join(".");
      if (fname === "ARRAY_AGG") {
        const first = firstOfArrayAgg(nodes[j] as Group, nodes[j + 1], cx);
        if (first !== undefined) return { text: first, next: j + 2 };
      }
      const call = functionCall(fname, nodes[j] as Group, cx, t);
      if (call !== undefined) {
        // Keep `OVER (…)` and FILTER as they are: the default path emits them.
        return { text: call, next: j + 1 };
      }
      if (parts.length === 1 && !parts[0].tok.value.includes(".")) return undefined;
    }
    const anyQuoted = parts.some((p) => p.tok.kind === "quoted_ident");
    const flat = parts.flatMap((p) => (p.tok.kind === "quoted_ident" ? p.tok.value.split(".") : [p.tok.value]));
    if (at.tablePos && (anyQuoted ? flat.length >= 2 : flat.length === 3)) {
      const name = flat[flat.length - 1];
      const schema = flat[flat.length - 2];
      const database = flat.length >= 3 ? flat.slice(0, flat.length - 2).join(".") : undefined;
      return { text: cx.opts.mapTable(database, schema, name), next: j };
    }
    if (parts[0].tok.kind === "quoted_ident" && parts[0].tok.value.includes(".")) {
      // `project.dataset.table`.column outside a FROM clause.
      const tf = parts[0].tok.value.split(".");
      const table = cx.opts.mapTable(tf.length >= 3 ? tf.slice(0, tf.length - 2).join(".") : undefined, tf.length >= 2 ? tf[tf.length - 2] : undefined, tf[tf.length - 1]);
      const rest = parts.slice(1).map((p) => (p.tok.kind === "quoted_ident" ? quoteIdent(p.tok.value) : p.tok.text));
      return { text: [table, ...rest].join("."), next: j };
    }
    if (parts.length > 1 || anyQuoted) {
      const text = parts
        .map((p, k) =>
          k === 0
            ? emitLeaf(p, cx, at.prev, parts.length > 1 ? nodes[i + 1] : nodes[j])
            : p.tok.kind === "quoted_ident" || DUCKDB_ONLY_RESERVED.has(p.tok.value.toUpperCase())
              ? quoteIdent(p.tok.value)
              : p.tok.text,
        )
        .join(".");
      return { text, next: j };
    }
    return undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Literals, INTERVAL, typed constructors

function typedLiteral(kw: string, v: string): string | undefined {
  switch (kw) {
    case "DATE":
      return `DATE ${duckString(v)}`;
    case "TIME":
      return `TIME ${duckString(v)}`;
    case "TIMESTAMP":
      // DuckDB's TIMESTAMP literal silently drops a "+01" offset; TIMESTAMPTZ honours it (session zone is UTC).
      return `CAST(TIMESTAMPTZ ${duckString(v)} AS TIMESTAMP)`;
    case "DATETIME":
      return `TIMESTAMP ${duckString(v)}`;
    case "NUMERIC":
    case "DECIMAL":
      return `CAST(${duckString(v)} AS DECIMAL(38,9))`;
    case "BIGNUMERIC":
    case "BIGDECIMAL":
      return `CAST(${duckString(v)} AS DECIMAL(38,18))`;
    case "JSON":
      return `CAST(${duckString(v)} AS JSON)`;
    case "RANGE":
      return undefined;
    default:
      return undefined;
  }
}

/** `INTERVAL expr UNIT` → `INTERVAL (expr) UNIT` (DuckDB takes only literals bare). */
function interval(nodes: Node[], i: number, cx: Cx): { text: string; next: number } {
  let j = i + 1;
  while (j < nodes.length && !(nodes[j].type === "leaf" && INTERVAL_UNITS.has(upper(nodes[j])) && j > i + 1)) j++;
  if (j >= nodes.length) throw err(firstTok(nodes[i]), "INTERVAL without a unit", "INTERVAL n DAY");
  if (isKw(nodes[j + 1], "TO")) throw err(firstTok(nodes[i]), "INTERVAL … TO … ranges", "INTERVAL n UNIT");
  const exprNodes = nodes.slice(i + 1, j);
  const unit = upper(nodes[j]);
  const expr = emitSeq(exprNodes, cx).trim();
  const single = exprNodes.length === 1 && exprNodes[0].type === "leaf" && exprNodes[0].tok.kind === "number" && !exprNodes[0].tok.isFloat;
  if (unit === "QUARTER") return { text: `INTERVAL (3 * (${expr})) MONTH`, next: j + 1 };
  return { text: single ? `INTERVAL ${expr} ${unit}` : `INTERVAL (${expr}) ${unit}`, next: j + 1 };
}

/** `ARRAY<T>[…]` → `CAST([…] AS T[])`; `STRUCT<a T, …>(…)` → typed struct_pack. */
function typedConstructor(nodes: Node[], i: number, cx: Cx): { text: string; next: number } {
  const type = parseType(nodes, i);
  const body = nodes[type.end];
  if (type.name === "ARRAY") {
    if (isGroup(body, "[")) return { text: `CAST([${emitSeq(body.items, cx)}] AS ${type.duck})`, next: type.end + 1 };
    throw err(firstTok(nodes[i]), "ARRAY<T> without a [ … ] literal", "ARRAY<T>[…]");
  }
  if (!isGroup(body, "(")) throw err(firstTok(nodes[i]), "STRUCT<…> without ( … )", "STRUCT<a T>(value)");
  return { text: structCall(splitArgs(body.items), nodes.slice(i, type.end), cx), next: type.end + 1 };
}

/**
 * `STRUCT(a AS x, b)` → `struct_pack(x := a, b := b)`; unnamed non-column values → `row(…)`.
 * With a type list (`STRUCT<x INT64, y STRING>(…)`) each value is cast to its field type.
 */
function structCall(args: Node[][], typeNodes: Node[] | undefined, cx: Cx): string {
  let fieldTypes: { name?: string; nodes: Node[] }[] | undefined;
  if (typeNodes) {
    // typeNodes = STRUCT < … >: split the field list at top-level commas (nested < > counted).
    fieldTypes = [];
    let depth = 0;
    let cur: Node[] = [];
    for (const n of typeNodes.slice(2, typeNodes.length - 1)) {
      if (isOp(n, "<")) depth++;
      if (isOp(n, ">")) depth--;
      if (isOp(n, ",") && depth === 0) {
        fieldTypes.push({ nodes: cur });
        cur = [];
      } else cur.push(n);
    }
    if (cur.length) fieldTypes.push({ nodes: cur });
    for (const f of fieldTypes) {
      const [a, b] = f.nodes;
      if (isIdent(a) && b && !isOp(b, "<") && !isGroup(b)) {
        f.name = a.tok.value;
        f.nodes = f.nodes.slice(1);
      }
    }
  }
  if (args.length === 1 && args[0].length === 0) return typeNodes ? `CAST(NULL AS ${parseType(typeNodes, 0).duck})` : "struct_pack()";
  const fields = args.map((a, k) => {
    let name: string | undefined;
    let valueNodes = a;
    if (a.length >= 2 && isKw(a[a.length - 2], "AS") && isIdent(a[a.length - 1])) {
      name = (a[a.length - 1] as Leaf).tok.value;
      valueNodes = a.slice(0, a.length - 2);
    } else if (!typeNodes && a.length >= 1 && isName(a[a.length - 1]) && a.every((x, idx) => (idx % 2 === 0 ? isIdent(x) : isOp(x, ".")))) {
      // A column reference keeps its name (GoogleSQL infers field names from paths).
      name = (a[a.length - 1] as Leaf).tok.value;
    }
    let value = emitSeq(valueNodes, cx).trim();
    const ft = fieldTypes?.[k];
    if (ft) {
      name = ft.name ?? name;
      value = `CAST(${value} AS ${parseType(ft.nodes, 0).duck})`;
    }
    return { name, value };
  });
  if (fields.every((f) => f.name === undefined)) return `row(${fields.map((f) => f.value).join(", ")})`;
  return `struct_pack(${fields.map((f, k) => `${quoteIdent(f.name ?? `_field_${k + 1}`)} := ${f.value}`).join(", ")})`;
}

// ---------------------------------------------------------------------------------------------
// UNNEST in FROM, GA4 fast path

const SCALAR_ARRAY_FUNCTIONS = new Set(["GENERATE_ARRAY", "GENERATE_DATE_ARRAY", "GENERATE_TIMESTAMP_ARRAY", "SPLIT", "REGEXP_EXTRACT_ALL"]);

/**
 * `FROM/JOIN/, UNNEST(a) [AS] x [WITH OFFSET [AS] o]` → a lateral subquery
 * `(SELECT UNNEST(a) AS x, generate_subscripts(a, 1) - 1 AS o) AS _uN`. Without an alias the
 * struct fields of the elements become columns (GoogleSQL value-table semantics). `LEFT JOIN
 * UNNEST` without ON gets `ON TRUE`.
 */
function fromUnnest(nodes: Node[], i: number, cx: Cx, at: At): { text: string; next: number } {
  const g = nodes[i + 1] as Group;
  const argNodes = g.items;
  const arr = emitSeq(argNodes, cx).trim();
  let j = i + 2;
  let alias: string | undefined;
  if (isKw(nodes[j], "AS") && isName(nodes[j + 1])) {
    alias = (nodes[j + 1] as Leaf).tok.value;
    j += 2;
  } else if (isName(nodes[j]) && !isKw(nodes[j], "WITH")) {
    alias = (nodes[j] as Leaf).tok.value;
    j += 1;
  }
  let offset: string | undefined;
  if (isKw(nodes[j], "WITH") && isKw(nodes[j + 1], "OFFSET")) {
    j += 2;
    offset = "offset";
    if (isKw(nodes[j], "AS") && isName(nodes[j + 1])) {
      offset = (nodes[j + 1] as Leaf).tok.value;
      j += 2;
    } else if (isName(nodes[j])) {
      offset = (nodes[j] as Leaf).tok.value;
      j += 1;
    }
  }
  const u = `_u${++cx.uid}`;
  const off = offset ? `, generate_subscripts(${arr}, 1) - 1 AS ${quoteIdent(offset)}` : "";
  let text: string;
  const first = argNodes[0];
  const scalar =
    (isGroup(first, "[") && !isKw(first.items[0], "STRUCT") && !isGroup(first.items[0], "(")) ||
    (argNodes.length === 2 && isGroup(argNodes[1], "(") && SCALAR_ARRAY_FUNCTIONS.has(upper(first)));
  if (alias !== undefined) text = `(SELECT UNNEST(${arr}) AS ${quoteIdent(alias)}${off}) AS ${u}`;
  else if (scalar) text = `(SELECT UNNEST(${arr}) AS ${quoteIdent("_value")}${off}) AS ${u}`;
  else {
    const offOuter = offset ? `, ${quoteIdent(offset)}` : "";
    text = `(SELECT UNNEST(_e)${offOuter} FROM (SELECT UNNEST(${arr}) AS _e${off})) AS ${u}`;
  }
  // JOIN without a condition: DuckDB needs one.
  if (isKw(at.prev, "JOIN") && !isKw(at.prev2, "CROSS") && !isKw(nodes[j], "ON", "USING")) {
    text += " ON TRUE";
  }
  return { text, next: j };
}

/**
 * GA4 idiom `(SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'ga_session_id')` →
 * `event_params[list_position(list_transform(event_params, lambda _p: _p.key), 'ga_session_id')].value.int_value`:
 * the element at the key's first position (NULL when the key is missing or the array NULL). A correlated subquery
 * on DuckDB was 5.8× slower than `list_filter(…)[1]` (engine-feasibility.md §5), which builds a filtered copy of the
 * array for every parameter read; the keys' list here is the same expression for every parameter of a row, which
 * DuckDB computes once (the 12 parameter reads of stg_ga4_events over 5.6M events: 2.5 s instead of 4.4). BigQuery
 * errors when a key occurs twice in one event; DuckDB takes the first.
 */
function ga4ParamFastPath(g: Group, cx: Cx): string | undefined {
  const it = g.items;
  if (!isKw(it[0], "SELECT")) return undefined;
  const from = indexOfKw(it, "FROM");
  if (from < 2 || !isKw(it[from + 1], "UNNEST") || !isGroup(it[from + 2], "(")) return undefined;
  const sel = it.slice(1, from);
  if (!sel.every((x, k) => (k % 2 === 0 ? isIdent(x) : isOp(x, ".")))) return undefined;
  let k = from + 3;
  let alias: string | undefined;
  if (isKw(it[k], "AS") && isName(it[k + 1])) {
    alias = (it[k + 1] as Leaf).tok.value;
    k += 2;
  } else if (isName(it[k])) {
    alias = (it[k] as Leaf).tok.value;
    k += 1;
  }
  if (!isKw(it[k], "WHERE")) return undefined;
  const cond = it.slice(k + 1);
  let end = cond.length;
  if (end >= 2 && isKw(cond[end - 2], "LIMIT") && cond[end - 1].type === "leaf" && (cond[end - 1] as Leaf).tok.text === "1") end -= 2;
  const c = cond.slice(0, end);
  // [alias .] key = 'literal'
  let ck = 0;
  if (alias !== undefined && isIdent(c[0]) && (c[0] as Leaf).tok.value === alias && isOp(c[1], ".")) ck = 2;
  if (!(c.length === ck + 3 && isKw(c[ck], "KEY") && isOp(c[ck + 1], "=") && c[ck + 2].type === "leaf" && (c[ck + 2] as Leaf).tok.kind === "string"))
    return undefined;
  let path = sel.filter((x) => x.type === "leaf" && !isOp(x, ".")).map((x) => (x as Leaf).tok.value);
  if (alias !== undefined && path[0] === alias) path = path.slice(1);
  if (path.length === 0 || path[0].toLowerCase() !== "value") return undefined;
  const arr = emitSeq((it[from + 2] as Group).items, cx).trim();
  const key = duckString((c[ck + 2] as Leaf).tok.value);
  return `${arr}[list_position(list_transform(${arr}, lambda _p: _p.key), ${key})].${path.map(quoteIdent).join(".")}`;
}

