/** Function calls: BigQuery functions renamed, mapped to the bq_* macros, or rewritten (CAST, EXTRACT, aggregates). */
import { duckString } from "../quote.ts";
import type { Token } from "../../../googlesql/lexer.ts";
import { type Group, type Node, type Cx, err, firstTok, isKw, isIdent, isGroup, upper, DATE_PARTS, splitArgs, indexOfKw } from "./tree.ts";
import { parseType } from "./types.ts";


interface Call {
  name: string;
  tok: Token;
  /** The group's items (for calls with keywords inside: CAST, EXTRACT, ARRAY_AGG). */
  items: Node[];
  raw: Node[][];
  cx: Cx;
  /** Translated argument k. */
  arg(k: number): string;
  /** All translated arguments. */
  args(): string[];
  /** Date part argument k (`MONTH`, `WEEK(MONDAY)`) as a string literal. */
  part(k: number): string;
}

type Rule = string | ((c: Call) => string);

const simple = (target: string): Rule => (c) => `${target}(${c.args().join(", ")})`;

/** Function renames and macro mappings; anything else passes through with translated arguments. */
const FUNCTIONS: Record<string, Rule> = {
  // Renamed built-ins with BigQuery's semantics.
  // 0 where no row counts (all conditions NULL or FALSE, or no rows), as BigQuery documents
  // (https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#countif); DuckDB's count_if gives
  // NULL there. A FILTER clause, so the call also stands before OVER (…).
  COUNTIF: (c) => `count(*) FILTER (WHERE ${c.arg(0)})`,
  LOGICAL_OR: "bool_or",
  LOGICAL_AND: "bool_and",
  REGEXP_CONTAINS: "regexp_matches",
  ARRAY_LENGTH: "len",
  PERCENTILE_CONT: "quantile_cont",
  PERCENTILE_DISC: "quantile_disc",
  JSON_EXTRACT_SCALAR: "json_extract_string",
  JSON_VALUE: "json_extract_string",
  CHAR_LENGTH: "length",
  CHARACTER_LENGTH: "length",
  FORMAT: "printf",
  ARRAY_REVERSE: "list_reverse",
  RAND: "random",
  ERROR: "error",
  TO_JSON: "to_json",
  PARSE_JSON: (c) => `CAST(${c.arg(0)} AS JSON)`,
  JSON_EXTRACT: (c) => `CAST(json_extract(${c.arg(0)}, ${c.arg(1)}) AS VARCHAR)`,
  JSON_QUERY: (c) => `CAST(json_extract(${c.arg(0)}, ${c.arg(1)}) AS VARCHAR)`,
  GENERATE_UUID: () => "CAST(gen_random_uuid() AS VARCHAR)",
  CURRENT_TIMESTAMP: () => "CAST(current_timestamp AS TIMESTAMP)",
  CURRENT_DATETIME: (c) => (c.raw.length ? `bq_datetime(current_timestamp, ${c.arg(0)})` : "CAST(current_timestamp AS TIMESTAMP)"),
  CURRENT_DATE: (c) => (c.raw.length ? `bq_date(current_timestamp, ${c.arg(0)})` : "current_date"),
  ARRAY_CONCAT: (c) => c.args().reduce((a, b) => `list_concat(${a}, ${b})`),
  // An argument that is a string literal or a CAST to STRING (translated to bq_to_string(…), castCall) is not wrapped
  // again: the macro names its argument a dozen times, so bq_to_string(bq_to_string(x)) bound x about 150 times, and
  // DuckDB took ≈ 0.5 s to plan an incremental model's check of a 16-row table (CONCAT(…, CAST(COUNT(*) AS STRING), …)).
  CONCAT: (c) =>
    "(" +
    c.raw
      .map((r, k) => ((r.length === 1 && r[0].type === "leaf" && r[0].tok.kind === "string") || isStringCast(r) ? c.arg(k) : `bq_to_string(${c.arg(k)})`))
      .join(" || ") +
    ")",
  GREATEST: (c) => nullIfAnyNull("greatest", c.args()),
  LEAST: (c) => nullIfAnyNull("least", c.args()),
  CAST: (c) => castCall(c, false),
  SAFE_CAST: (c) => castCall(c, true),
  EXTRACT: extractCall,
  ARRAY_AGG: arrayAgg,
  STRING_AGG: stringAgg,
  ARRAY_TO_STRING: (c) =>
    c.raw.length === 3
      ? `array_to_string(list_transform(${c.arg(0)}, lambda _x: coalesce(CAST(_x AS VARCHAR), ${c.arg(2)})), ${c.arg(1)})`
      : `array_to_string(${c.arg(0)}, ${c.arg(1)})`,
  SAFE_ADD: (c) => `try(${c.arg(0)} + ${c.arg(1)})`,
  SAFE_SUBTRACT: (c) => `try(${c.arg(0)} - ${c.arg(1)})`,
  SAFE_MULTIPLY: (c) => `try(${c.arg(0)} * ${c.arg(1)})`,
  SAFE_NEGATE: (c) => `try(-${c.arg(0)})`,
  CONTAINS_SUBSTR: (c) => `contains(lower(CAST(${c.arg(0)} AS VARCHAR)), lower(${c.arg(1)}))`,
  // Date parts become string literals for the macros.
  DATE_TRUNC: (c) => {
    const first = c.raw[0]?.[0];
    if (
      first &&
      (isKw(first, "CURRENT_TIMESTAMP", "TIMESTAMP", "TIMESTAMP_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_SECONDS", "TIMESTAMP_ADD", "TIMESTAMP_SUB", "TIMESTAMP_TRUNC", "PARSE_TIMESTAMP"))
    ) {
      throw err(c.tok, "DATE_TRUNC on a TIMESTAMP", "TIMESTAMP_TRUNC(ts, PART) (or DATE_TRUNC(DATE(ts), PART) for a DATE)");
    }
    return `bq_date_trunc(${c.arg(0)}, ${c.part(1)})`;
  },
  TIMESTAMP_TRUNC: (c) => `bq_timestamp_trunc(${c.arg(0)}, ${c.part(1)}${c.raw.length > 2 ? ", " + c.arg(2) : ""})`,
  DATETIME_TRUNC: (c) => `bq_datetime_trunc(${c.arg(0)}, ${c.part(1)})`,
  DATE_DIFF: (c) => `bq_date_diff(${c.arg(0)}, ${c.arg(1)}, ${c.part(2)})`,
  TIMESTAMP_DIFF: (c) => `bq_timestamp_diff(${c.arg(0)}, ${c.arg(1)}, ${c.part(2)})`,
  DATETIME_DIFF: (c) => `bq_datetime_diff(${c.arg(0)}, ${c.arg(1)}, ${c.part(2)})`,
  LAST_DAY: (c) => `bq_last_day(${c.arg(0)}${c.raw.length > 1 ? ", " + c.part(1) : ""})`,
  // Macros under their bq_ name (same arguments).
  ...Object.fromEntries(
    [
      "SAFE_DIVIDE",
      "IEEE_DIVIDE",
      "DIV",
      "LOG",
      "DATE_ADD",
      "DATE_SUB",
      "TIMESTAMP_ADD",
      "TIMESTAMP_SUB",
      "DATETIME_ADD",
      "DATETIME_SUB",
      "TIMESTAMP_MICROS",
      "TIMESTAMP_MILLIS",
      "TIMESTAMP_SECONDS",
      "UNIX_MICROS",
      "UNIX_MILLIS",
      "UNIX_SECONDS",
      "UNIX_DATE",
      "DATE_FROM_UNIX_DATE",
      "DATE",
      "DATETIME",
      "TIMESTAMP",
      "MD5",
      "SHA1",
      "SHA256",
      "FROM_HEX",
      "REGEXP_EXTRACT",
      "REGEXP_EXTRACT_ALL",
      "REGEXP_REPLACE",
      "SPLIT",
      "SUBSTR",
      "LENGTH",
      "BYTE_LENGTH",
      "LPAD",
      "RPAD",
      "APPROX_QUANTILES",
      "GENERATE_DATE_ARRAY",
      "GENERATE_ARRAY",
      "TO_JSON_STRING",
      "FARM_FINGERPRINT",
      "STRING",
    ].map((f) => [f, simple(`bq_${f.toLowerCase()}`)]),
  ),
  TO_HEX: toHex,
  FORMAT_DATE: formatCall("bq_format_date"),
  FORMAT_TIMESTAMP: formatCall("bq_format_timestamp"),
  FORMAT_DATETIME: formatCall("bq_format_datetime"),
  PARSE_DATE: formatCall("bq_parse_date"),
  PARSE_TIMESTAMP: formatCall("bq_parse_timestamp"),
  PARSE_DATETIME: formatCall("bq_parse_datetime"),
  SUBSTRING: simple("bq_substr"),
  REGEXP_SUBSTR: simple("bq_regexp_extract"),
  "NET.HOST": simple("bq_net_host"),
};

/** BigQuery-only format elements → strftime/strptime ones. */
const FORMAT_ELEMENTS: [RegExp, string][] = [
  [/%F/g, "%Y-%m-%d"],
  [/%T/g, "%H:%M:%S"],
  [/%R/g, "%H:%M"],
  [/%D/g, "%m/%d/%y"],
  [/%E4Y/g, "%Y"],
  [/%E\*S/g, "%S.%f"],
  [/%E6S/g, "%S.%f"],
  [/%E3S/g, "%S.%g"],
  [/%Ez/g, "%z"],
  [/%e/g, "%-d"],
  [/%k/g, "%-H"],
  [/%l/g, "%-I"],
];

/** DuckDB digests that already return BigQuery's TO_HEX of the digest (lowercase hex text). */
const HEX_DIGESTS: Record<string, string> = { MD5: "md5", SHA1: "sha1", SHA256: "sha256" };

/**
 * TO_HEX(x) (bq_to_hex); TO_HEX(MD5(x)) (SHA1, SHA256) as DuckDB's md5(x): the macros would turn md5's hex text into
 * bytes and back (stg_ga4_events' event_key, 943k events: 0.40-0.46 CPU s as md5(x), 0.82-0.92 through the macros).
 */
function toHex(c: Call): string {
  const [name, group, ...rest] = c.raw.length === 1 ? c.raw[0]! : [];
  const digest = HEX_DIGESTS[upper(name)];
  if (digest && rest.length === 0 && isIdent(name) && isGroup(group)) return `${digest}(${c.cx.emit(group.items)})`;
  return `bq_to_hex(${c.args().join(", ")})`;
}

/** FORMAT_x / PARSE_x(format, value[, zone]): the format must be a literal (DuckDB needs a constant). */
function formatCall(macro: string): Rule {
  return (c) => {
    const f = c.raw[0];
    if (!(f && f.length === 1 && f[0].type === "leaf" && f[0].tok.kind === "string")) {
      throw err(c.tok, `${c.name}() with a computed format`, "a literal format string");
    }
    let fmt = f[0].tok.value;
    for (const [re, to] of FORMAT_ELEMENTS) fmt = fmt.replace(re, to);
    if (/%[EOQ]/.test(fmt)) throw err(c.tok, `${c.name}() format element ${/%[EOQ]\S*/.exec(fmt)?.[0]}`, "%Y %m %d %H %M %S %j %A %B and the like");
    return `${macro}(${[duckString(fmt), ...c.args().slice(1)].join(", ")})`;
  };
}

function nullIfAnyNull(fn: string, args: string[]): string {
  // DuckDB's greatest/least skip NULLs; BigQuery returns NULL if any argument is NULL.
  return `(CASE WHEN ${args.map((a) => `(${a}) IS NULL`).join(" OR ")} THEN NULL ELSE ${fn}(${args.join(", ")}) END)`;
}

export function functionCall(name: string, g: Group, cx: Cx, tok: Token): string | undefined {
  if (name.startsWith("SAFE.")) {
    const inner = name.slice(5);
    const text = functionCall(inner, g, cx, tok) ?? `${inner.toLowerCase()}(${cx.emit(g.items).trim()})`;
    return `try(${text})`;
  }
  const rule = FUNCTIONS[name];
  if (rule === undefined) {
    if (name.includes(".")) {
      if (name.startsWith("ML.") || name.startsWith("AEAD.") || name.startsWith("KEYS.") || name.startsWith("NET.") || name.startsWith("HLL_COUNT."))
        throw err(tok, `${name}()`, "a TypeScript job or a supported function");
      return undefined;
    }
    return undefined;
  }
  const raw = g.items.length === 0 ? [] : splitArgs(g.items);
  const cache = new Map<number, string>();
  const c: Call = {
    name,
    tok,
    items: g.items,
    raw,
    cx,
    arg(k) {
      if (!cache.has(k)) {
        if (!raw[k]) throw err(tok, `${name}() with too few arguments`, `${name} as documented`);
        cache.set(k, cx.emit(raw[k]).trim());
      }
      return cache.get(k)!;
    },
    args() {
      return raw.map((_, k) => c.arg(k));
    },
    part(k) {
      const r = raw[k];
      if (!r || !isIdent(r[0]) || !DATE_PARTS.has(upper(r[0])))
        throw err(tok, `${name}() without a date part`, `${name}(…, DAY|WEEK|MONTH|…)`);
      if (r.length === 1) return duckString(upper(r[0]));
      if (r.length === 2 && isGroup(r[1], "(") && r[1].items.length === 1) return duckString(`${upper(r[0])}(${upper(r[1].items[0])})`);
      throw err(tok, `${name}() with an expression as date part`, "a literal date part");
    },
  };
  return typeof rule === "string" ? `${rule}(${c.args().join(", ")})` : rule(c);
}

/** CAST(x AS T): STRING and INT64 go through macros (BigQuery's text and rounding); types mapped. */
function castCall(c: Call, safe: boolean): string {
  const items = c.items;
  let as = -1;
  for (let k = items.length - 1; k >= 0; k--) {
    if (isKw(items[k], "AS")) {
      as = k;
      break;
    }
  }
  if (as < 1) throw err(c.tok, `${c.name} without AS`, `${c.name}(x AS TYPE)`);
  const type = parseType(items, as + 1);
  if (type.end !== items.length) {
    if (isKw(items[type.end], "FORMAT")) throw err(c.tok, `${c.name}(… FORMAT …)`, "FORMAT_DATE / FORMAT_TIMESTAMP");
    throw err(c.tok, `${c.name} with an unknown type`, "a GoogleSQL type");
  }
  const x = c.cx.emit(items.slice(0, as)).trim();
  if (type.duck === "VARCHAR") return `bq_to_string(${x})`;
  if (type.duck === "BIGINT") return safe ? `bq_safe_to_int64(${x})` : `bq_to_int64(${x})`;
  return `${safe ? "TRY_CAST" : "CAST"}(${x} AS ${type.duck})`;
}

/** EXTRACT(part FROM x [AT TIME ZONE tz]). */
function extractCall(c: Call): string {
  const items = c.items;
  const from = indexOfKw(items, "FROM");
  if (from < 1) throw err(c.tok, "EXTRACT without FROM", "EXTRACT(PART FROM x)");
  const partNodes = items.slice(0, from);
  let rest = items.slice(from + 1);
  const atK = rest.findIndex((n, k) => isKw(n, "AT") && isKw(rest[k + 1], "TIME") && isKw(rest[k + 2], "ZONE"));
  let x: string;
  if (atK !== -1) {
    const tz = c.cx.emit(rest.slice(atK + 3)).trim();
    rest = rest.slice(0, atK);
    x = `bq_local(${c.cx.emit(rest).trim()}, ${tz})`;
  } else x = c.cx.emit(rest).trim();
  const part = upper(partNodes[0]);
  const day = partNodes.length === 2 && isGroup(partNodes[1], "(") ? upper(partNodes[1].items[0]) : undefined;
  const DAYS = ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"];
  switch (part) {
    case "DAYOFWEEK":
      return `(dayofweek(${x}) + 1)`; // BigQuery 1..7 from Sunday, DuckDB 0..6
    case "WEEK":
      return `bq_extract_week(${x}, ${day ? DAYS.indexOf(day) : 0})`;
    case "ISOWEEK":
      return `week(${x})`;
    case "ISOYEAR":
      return `isoyear(${x})`;
    case "DATE":
      return `CAST(${x} AS DATE)`;
    case "TIME":
      return `CAST(${x} AS TIME)`;
    case "DATETIME":
      return `CAST(${x} AS TIMESTAMP)`;
    case "MILLISECOND":
      return `(millisecond(${x}) % 1000)`; // DuckDB includes the seconds
    case "MICROSECOND":
      return `(microsecond(${x}) % 1000000)`;
    case "DAYOFYEAR":
    case "YEAR":
    case "QUARTER":
    case "MONTH":
    case "DAY":
    case "HOUR":
    case "MINUTE":
    case "SECOND":
      return `CAST(EXTRACT(${part} FROM ${x}) AS BIGINT)`;
    default:
      throw err(c.tok, `EXTRACT(${part} …)`, "a GoogleSQL date part");
  }
}

/** Positions of ORDER BY / LIMIT / IGNORE NULLS inside an aggregate's parentheses. */
function aggParts(items: Node[]) {
  let k = 0;
  const distinct = isKw(items[0], "DISTINCT");
  if (distinct) k = 1;
  let end = items.length;
  let ignoreNulls = false;
  let orderAt = -1;
  let limitAt = -1;
  for (let j = k; j < items.length; j++) {
    if ((isKw(items[j], "IGNORE") || isKw(items[j], "RESPECT")) && isKw(items[j + 1], "NULLS")) {
      ignoreNulls = isKw(items[j], "IGNORE");
      end = Math.min(end, j);
    }
    if (isKw(items[j], "ORDER") && isKw(items[j + 1], "BY")) {
      orderAt = j;
      end = Math.min(end, j);
    }
    if (isKw(items[j], "LIMIT")) {
      limitAt = j;
      end = Math.min(end, j);
    }
    if (isKw(items[j], "HAVING") && isKw(items[j + 1], "MAX", "MIN")) {
      throw err(firstTok(items[j]), "aggregate HAVING MAX/MIN", "a window function or a subquery");
    }
  }
  const order = orderAt === -1 ? [] : items.slice(orderAt + 2, limitAt > orderAt ? limitAt : items.length);
  const limit = limitAt === -1 ? [] : items.slice(limitAt + 1);
  return { distinct, expr: items.slice(k, end), ignoreNulls, order, limit };
}

/** ARRAY_AGG([DISTINCT] x [IGNORE NULLS] [ORDER BY …] [LIMIT n]). */
function arrayAgg(c: Call): string {
  const g = aggParts(c.items);
  const x = c.cx.emit(g.expr).trim();
  const keys = g.order.length ? splitArgs(g.order) : [];
  const filter = g.ignoreNulls ? ` FILTER (WHERE (${x}) IS NOT NULL)` : "";
  let text: string;
  const graded = keys.length && !g.distinct ? gradedArrayAgg(x, keys, filter, c.cx) : undefined;
  if (graded) text = graded;
  else {
    const order = g.order.length ? ` ORDER BY ${c.cx.emit(g.order).trim()}` : "";
    text = `array_agg(${g.distinct ? "DISTINCT " : ""}${x}${order})${filter}`;
  }
  if (g.limit.length) text = `(${text})[1:${c.cx.emit(g.limit).trim()}]`;
  return text;
}

/**
 * `ARRAY_AGG(x ORDER BY k [ASC|DESC] [NULLS FIRST|LAST])`: the group's (k, x) pairs gathered unordered, then put in k's
 * order per row: `list_select(pairs, list_grade_up(keys, dir, nulls))`. DuckDB's ordered aggregate
 * (`array_agg(x ORDER BY k)`) keeps every group's rows in per-group sort state: at 30M GA4 events conversion_journeys'
 * touches (5.7M rows in 2.7M journeys) ran out of a 3 GiB limit with it, and fit in 3 GiB with this form (in 2.5 GiB
 * with the model's own reductions; both measured, 2 threads). Same value: the same elements in k's order, BigQuery's default NULL placement (first for ASC, last
 * for DESC) spelled out, ties in either order (unspecified in BigQuery too); NULL for a group with no rows, as before.
 * Several keys of one direction (`ORDER BY a, b`) grade a STRUCT of them, which DuckDB orders field by field; each key
 * is preceded by a flag that puts its NULLs where BigQuery puts them, so no NULL inside the STRUCT is ever compared (at
 * 10M GA4 events funnel_events' occurrences, 846k rows in 558k groups, took 10.4 CPU s as an ordered aggregate).
 * Keys of mixed directions keep the ordered aggregate (undefined here).
 */
function gradedArrayAgg(x: string, keys: Node[][], filter: string, cx: Cx): string | undefined {
  const parsed = keys.map((key) => {
    let end = key.length;
    let nulls: string | undefined;
    if (end >= 2 && isKw(key[end - 2], "NULLS") && isKw(key[end - 1], "FIRST", "LAST")) {
      nulls = `NULLS ${upper(key[end - 1])}`;
      end -= 2;
    }
    let dir = "ASC";
    if (end >= 1 && isKw(key[end - 1], "ASC", "DESC")) {
      dir = upper(key[end - 1]);
      end -= 1;
    }
    return { expr: cx.emit(key.slice(0, end)).trim(), dir, nulls: nulls ?? (dir === "ASC" ? "NULLS FIRST" : "NULLS LAST") };
  });
  const dir = parsed[0]!.dir;
  if (parsed.some((k) => k.dir !== dir)) return undefined;
  let sortKey: string;
  let nulls: string;
  if (parsed.length === 1) {
    sortKey = parsed[0]!.expr;
    nulls = parsed[0]!.nulls;
  } else {
    // A flag before each key that sorts its NULLs first or last in the graded direction: (k IS NOT NULL) is FALSE for a
    // NULL, before TRUE in ascending order and after it in descending order; (k IS NULL) the other way round.
    const flag = (k: (typeof parsed)[number]): string => ((k.nulls === "NULLS FIRST") === (dir === "ASC") ? `(${k.expr}) IS NOT NULL` : `(${k.expr}) IS NULL`);
    sortKey = `struct_pack(${parsed.map((k, i) => `n${i} := ${flag(k)}, k${i} := ${k.expr}`).join(", ")})`;
    nulls = "NULLS FIRST"; // the STRUCT itself is never NULL
  }
  const pairs = `array_agg(struct_pack(k := ${sortKey}, v := ${x}))${filter}`;
  return `list_transform(list_select(${pairs}, list_grade_up(list_transform(${pairs}, lambda _kv: _kv.k), '${dir}', '${nulls}')), lambda _kv: _kv.v)`;
}

/**
 * `ARRAY_AGG(x [IGNORE NULLS] [ORDER BY …] LIMIT 1)[OFFSET(0)]` (also SAFE_OFFSET(0), ORDINAL(1), SAFE_ORDINAL(1)):
 * the first x in that order, the GoogleSQL idiom for "the value of the first/last row". DuckDB plans
 * `first(x ORDER BY …)` as arg_min over a sort key (its own NULLS FIRST/LAST order included) in constant memory per
 * group, where the list form keeps and sorts every row of every group before it slices one off: at 1M GA4 events
 * stg_ga4_sessions' four such lists took ~80 % of its time and grew faster than the events.
 * Same value: the first of the ordered, NULL-filtered rows, NULL for a group with none (the list form's out-of-range
 * read; BigQuery's OFFSET would error there, SAFE_OFFSET gives NULL). Returns undefined where the idiom does not
 * apply (DISTINCT, another LIMIT or subscript): ARRAY_AGG then translates as a list.
 */
export function firstOfArrayAgg(g: Group, subscript: Node | undefined, cx: Cx): string | undefined {
  if (!isGroup(subscript, "[")) return undefined;
  const s = subscript.items;
  const first = s.length === 2 && isGroup(s[1], "(") && s[1].items.length === 1 && s[1].items[0].type === "leaf" && s[1].items[0].tok.kind === "number"
    ? (isKw(s[0], "OFFSET", "SAFE_OFFSET") && s[1].items[0].tok.text === "0") || (isKw(s[0], "ORDINAL", "SAFE_ORDINAL") && s[1].items[0].tok.text === "1")
    : false;
  if (!first) return undefined;
  const p = aggParts(g.items);
  const limit = p.limit.length === 1 && p.limit[0].type === "leaf" && p.limit[0].tok.kind === "number" && p.limit[0].tok.text === "1";
  if (p.distinct || !limit) return undefined;
  const x = cx.emit(p.expr).trim();
  const order = p.order.length ? ` ORDER BY ${cx.emit(p.order).trim()}` : "";
  return `first(${x}${order})${p.ignoreNulls ? ` FILTER (WHERE (${x}) IS NOT NULL)` : ""}`;
}

/**
 * STRING_AGG([DISTINCT] x [, sep] [ORDER BY …] [LIMIT n]). With sort keys of one direction and no DISTINCT or LIMIT, the non-NULL
 * x are gathered unordered and graded as for ARRAY_AGG (gradedArrayAgg), then joined: DuckDB's ordered `string_agg`
 * keeps per-group sort state, the same cost as its ordered array_agg. Same value: NULL x skipped, NULL for a group
 * with no non-NULL x (the FILTER leaves array_agg NULL), ties in either order (unspecified in BigQuery too). Only
 * for a string-literal separator (or none): DuckDB's array_to_string reads a NULL separator as ',', string_agg gives NULL.
 */
function stringAgg(c: Call): string {
  const g = aggParts(c.items);
  const args = splitArgs(g.expr);
  const x = c.cx.emit(args[0]).trim();
  const sep = args[1] ? c.cx.emit(args[1]).trim() : "','";
  const order = g.order.length ? ` ORDER BY ${c.cx.emit(g.order).trim()}` : "";
  if (g.limit.length) {
    return `array_to_string((array_agg(${g.distinct ? "DISTINCT " : ""}${x}${order}) FILTER (WHERE (${x}) IS NOT NULL))[1:${c.cx.emit(g.limit).trim()}], ${sep})`;
  }
  const keys = g.order.length ? splitArgs(g.order) : [];
  const literalSep = !args[1] || (args[1].length === 1 && args[1][0].type === "leaf" && args[1][0].tok.kind === "string");
  const graded = keys.length && !g.distinct && literalSep ? gradedArrayAgg(x, keys, ` FILTER (WHERE (${x}) IS NOT NULL)`, c.cx) : undefined;
  if (graded) return `array_to_string(${graded}, ${sep})`;
  return `string_agg(${g.distinct ? "DISTINCT " : ""}${x}, ${sep}${order})`;
}

/** A GoogleSQL argument `CAST(… AS STRING)` or `SAFE_CAST(… AS STRING)`, whose translation is bq_to_string(…). */
function isStringCast(r: Node[]): boolean {
  if (r.length !== 2 || !isIdent(r[0]) || !["CAST", "SAFE_CAST"].includes(upper(r[0])) || !isGroup(r[1], "(")) return false;
  const items = r[1].items;
  return isKw(items[items.length - 2], "AS") && upper(items[items.length - 1]) === "STRING";
}
