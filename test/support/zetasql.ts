/**
 * ZetaSQL as an offline BigQuery oracle for tests (engine-feasibility.md §3).
 *
 * `startZetaSQL()` spawns the `remote_server` binary shipped in @fivetrandevelopers/zetasql on a free
 * loopback port and talks to it over gRPC:
 * - `evaluate(sql, tables)` runs GoogleSQL with the given table contents through ZetaSQL's reference
 *   evaluator and renders every value as a string (see `renderZetaValue`), comparable with
 *   `renderDuckValue` in test/translate.test.ts.
 * - `analyze(sql, catalog)` resolves a statement against a schema-only catalog (names, types,
 *   functions) and returns the output columns or the analyzer's error (with line:column).
 *
 * Catalog convention: tables by their full name `project.dataset.table` (the backtick form Dataform
 * renders), columns with GoogleSQL type names (`ARRAY<STRUCT<key STRING, value STRUCT<…>>>` works).
 * A wildcard table (`p.d.events_*`) gets the `_TABLE_SUFFIX STRING` pseudo-column automatically.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import zetasqlPkg from "@fivetrandevelopers/zetasql";

const { ZetaSQLClient } = zetasqlPkg;

/** A column of a catalog table. `type` is a GoogleSQL type name, e.g. `INT64`, `ARRAY<STRUCT<k STRING>>`. */
export interface ZetaColumn {
  name: string;
  type: string;
  /** A pseudo-column (not part of `SELECT *`), like `_TABLE_SUFFIX` or `_PARTITIONTIME`. */
  pseudo?: boolean;
}

/** A table with contents, for `evaluate`. Rows are positional and follow `columns` (pseudo-columns included). */
export interface ZetaTable {
  columns: ZetaColumn[];
  rows: unknown[][];
}

/**
 * A schema-only catalog for `analyze`: full table name → columns (or a ZetaTable, rows ignored).
 * `constants` register names such as Dataform preOps `DECLARE x INT64 DEFAULT …` variables.
 */
export interface ZetaCatalog {
  tables: Record<string, ZetaColumn[] | ZetaTable>;
  constants?: Record<string, string>;
  /** Scalar functions (a script's temporary SQL functions) by name: argument and return GoogleSQL types. */
  functions?: Record<string, ZetaFunction>;
}

export interface ZetaFunction {
  args: string[];
  returns: string;
}

export type AnalyzeResult =
  | { ok: true; columns: { name: string; type: string }[]; /** CREATE FUNCTION: the resolved return type. */ returnType?: string }
  | { ok: false; error: string };

export interface ZetaSQL {
  /** Evaluate a query; rows of rendered values (`null`, `true`, `2024-03-01 10:00:00`, `[a,b]`, `{1,x}`). */
  evaluate(sql: string, tables?: Record<string, ZetaTable>): Promise<string[][]>;
  /** Evaluate a query and return the result column names and types as well. */
  evaluateWithColumns(
    sql: string,
    tables?: Record<string, ZetaTable>,
  ): Promise<{ columns: { name: string; type: string }[]; rows: string[][] }>;
  /** Analyze one statement (query, DDL, DML) against a catalog; never throws for an invalid statement. */
  analyze(sql: string, catalog?: ZetaCatalog | Record<string, ZetaColumn[] | ZetaTable>): Promise<AnalyzeResult>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Types: GoogleSQL type names ↔ TypeProto

/** TypeKind numbers from zetasql/public/type.proto. */
const KIND: Record<string, number> = {
  INT32: 1,
  INT64: 2,
  UINT32: 3,
  UINT64: 4,
  BOOL: 5,
  FLOAT: 6,
  DOUBLE: 7,
  STRING: 8,
  BYTES: 9,
  DATE: 10,
  ARRAY: 16,
  STRUCT: 17,
  TIMESTAMP: 19,
  TIME: 20,
  DATETIME: 21,
  GEOGRAPHY: 22,
  NUMERIC: 23,
  BIGNUMERIC: 24,
  JSON: 26,
  INTERVAL: 27,
};
const KIND_NAME: Record<number, string> = {
  1: "INT32",
  2: "INT64",
  3: "UINT32",
  4: "UINT64",
  5: "BOOL",
  6: "FLOAT",
  7: "FLOAT64",
  8: "STRING",
  9: "BYTES",
  10: "DATE",
  19: "TIMESTAMP",
  20: "TIME",
  21: "DATETIME",
  22: "GEOGRAPHY",
  23: "NUMERIC",
  24: "BIGNUMERIC",
  26: "JSON",
  27: "INTERVAL",
};
const ALIASES: Record<string, string> = {
  FLOAT64: "DOUBLE",
  INTEGER: "INT64",
  INT: "INT64",
  BIGINT: "INT64",
  SMALLINT: "INT64",
  TINYINT: "INT64",
  BYTEINT: "INT64",
  BOOLEAN: "BOOL",
  DECIMAL: "NUMERIC",
  BIGDECIMAL: "BIGNUMERIC",
};

/** Parsed GoogleSQL type. */
export type SqlType =
  | { kind: "scalar"; name: string }
  | { kind: "array"; element: SqlType }
  | { kind: "struct"; fields: { name: string; type: SqlType }[] };

/** Parse `ARRAY<STRUCT<key STRING, value STRUCT<int_value INT64>>>` and friends. */
export function parseSqlType(text: string): SqlType {
  const toks = text.match(/[A-Za-z_][A-Za-z0-9_]*|`[^`]*`|[<>,()]/g) ?? [];
  let i = 0;
  const peek = () => toks[i];
  const next = () => {
    const t = toks[i++];
    if (t === undefined) throw new Error(`unexpected end of type: ${text}`);
    return t;
  };
  const expect = (t: string) => {
    const got = next();
    if (got !== t) throw new Error(`expected ${t} in type ${text}, got ${got}`);
  };
  const parse = (): SqlType => {
    const word = next().toUpperCase();
    if (word === "ARRAY") {
      expect("<");
      const element = parse();
      expect(">");
      return { kind: "array", element };
    }
    if (word === "STRUCT") {
      expect("<");
      const fields: { name: string; type: SqlType }[] = [];
      while (peek() !== ">") {
        const name = next().replace(/`/g, "");
        fields.push({ name, type: parse() });
        if (peek() === ",") next();
      }
      expect(">");
      return { kind: "struct", fields };
    }
    // NUMERIC(10, 2), STRING(20): parameters do not change the kind.
    if (peek() === "(") {
      while (next() !== ")");
    }
    const name = ALIASES[word] ?? word;
    if (!(name in KIND)) throw new Error(`unknown GoogleSQL type ${word} in ${text}`);
    return { kind: "scalar", name };
  };
  const t = parse();
  if (i !== toks.length) throw new Error(`trailing text in type ${text}`);
  return t;
}

export interface TypeProtoLike {
  typeKind: number;
  arrayType?: { elementType: TypeProtoLike };
  structType?: { field: { fieldName: string; fieldType: TypeProtoLike }[] };
}

function toTypeProto(t: SqlType): TypeProtoLike {
  if (t.kind === "array") return { typeKind: KIND.ARRAY, arrayType: { elementType: toTypeProto(t.element) } };
  if (t.kind === "struct")
    return {
      typeKind: KIND.STRUCT,
      structType: { field: t.fields.map((f) => ({ fieldName: f.name, fieldType: toTypeProto(f.type) })) },
    };
  return { typeKind: KIND[t.name] };
}

interface TypeProtoOut {
  typeKind?: number | string;
  arrayType?: { elementType?: TypeProtoOut | null } | null;
  structType?: { field?: { fieldName?: string; fieldType?: TypeProtoOut | null }[] } | null;
}

/** TypeProto → GoogleSQL type name (`ARRAY<STRUCT<a INT64>>`). */
export function typeName(t: TypeProtoOut | null | undefined): string {
  if (!t) return "UNKNOWN";
  const kind = typeof t.typeKind === "string" ? KIND[t.typeKind.replace(/^TYPE_/, "")] : t.typeKind;
  if (kind === KIND.ARRAY) return `ARRAY<${typeName(t.arrayType?.elementType)}>`;
  if (kind === KIND.STRUCT)
    return `STRUCT<${(t.structType?.field ?? []).map((f) => `${f.fieldName ? f.fieldName + " " : ""}${typeName(f.fieldType)}`).join(", ")}>`;
  return KIND_NAME[kind ?? 0] ?? `TYPE_${String(t.typeKind)}`;
}

// ---------------------------------------------------------------------------------------------
// Values: JS → ValueProto (table contents) and ValueProto → rendered string (results)

interface ValueProtoIn {
  int64Value?: string;
  boolValue?: boolean;
  doubleValue?: number;
  stringValue?: string;
  bytesValue?: Buffer;
  dateValue?: number;
  arrayValue?: { element: ValueProtoIn[] };
  structValue?: { field: ValueProtoIn[] };
  timestampValue?: { seconds: string; nanos: number };
  datetimeValue?: { bitFieldDatetimeSeconds: string; nanos: number };
  numericValue?: Buffer;
  bignumericValue?: Buffer;
  jsonValue?: string;
}

const DAY_MS = 86_400_000;

/** Microseconds since the epoch of a timestamp text (`2024-03-01 10:00:00[.ffffff][+01[:00]]`, UTC if no zone) or Date. */
export function timestampMicros(v: unknown): bigint {
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
    String(v).trim(),
  );
  if (!m) throw new Error(`not a timestamp: ${String(v)}`);
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  let micros = BigInt(ms) * 1000n + BigInt((frac + "000000").slice(0, 6));
  if (zone && !/^(Z|UTC)$/i.test(zone)) {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const offMin = (+zm[2] * 60 + +(zm[3] ?? 0)) * (zm[1] === "-" ? -1 : 1);
    micros -= BigInt(offMin) * 60_000_000n;
  }
  return micros;
}

function numericBytes(v: unknown, scale: number): Buffer {
  const s = String(v).trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m) throw new Error(`not a numeric: ${s}`);
  const frac = (m[3] ?? "").padEnd(scale, "0");
  if (frac.length > scale) throw new Error(`numeric ${s} has more than ${scale} decimals`);
  let n = BigInt((m[2] || "0") + frac) * (m[1] === "-" ? -1n : 1n);
  // Little-endian two's complement, minimal length.
  const bytes: number[] = [];
  for (;;) {
    const b = Number(n & 0xffn);
    bytes.push(b);
    n >>= 8n;
    if ((n === 0n && (b & 0x80) === 0) || (n === -1n && (b & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
}

function decodeNumeric(buf: Uint8Array, scale: number): string {
  if (buf.length === 0) return "0";
  let n = 0n;
  for (let i = buf.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(buf[i]);
  if (buf[buf.length - 1] & 0x80) n -= 1n << BigInt(8 * buf.length);
  const neg = n < 0n;
  const digits = (neg ? -n : n).toString().padStart(scale + 1, "0");
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, "");
  return (neg ? "-" : "") + int + (frac ? "." + frac : "");
}

function toValueProto(v: unknown, t: SqlType): ValueProtoIn {
  if (v === null || v === undefined) return {};
  if (t.kind === "array") {
    if (!Array.isArray(v)) throw new Error(`expected an array for ARRAY, got ${JSON.stringify(v)}`);
    return { arrayValue: { element: v.map((e) => toValueProto(e, t.element)) } };
  }
  if (t.kind === "struct") {
    const get = (f: { name: string }, i: number): unknown =>
      Array.isArray(v) ? v[i] : (v as Record<string, unknown>)[f.name];
    return { structValue: { field: t.fields.map((f, i) => toValueProto(get(f, i), f.type)) } };
  }
  switch (t.name) {
    case "INT64":
      return { int64Value: String(v) };
    case "DOUBLE":
      return { doubleValue: Number(v) };
    case "BOOL":
      return { boolValue: Boolean(v) };
    case "STRING":
      return { stringValue: String(v) };
    case "BYTES":
      return { bytesValue: typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v as Uint8Array) };
    case "DATE": {
      const s = v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
      return { dateValue: Math.round(Date.parse(s + "T00:00:00Z") / DAY_MS) };
    }
    case "TIMESTAMP": {
      const us = timestampMicros(v);
      const sec = us >= 0n ? us / 1_000_000n : -((-us + 999_999n) / 1_000_000n);
      return { timestampValue: { seconds: String(sec), nanos: Number(us - sec * 1_000_000n) * 1000 } };
    }
    case "DATETIME": {
      const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/.exec(String(v));
      if (!m) throw new Error(`not a datetime: ${String(v)}`);
      const [, y, mo, d, h = "0", mi = "0", s = "0", frac = ""] = m;
      const bits = (BigInt(+y) << 26n) | (BigInt(+mo) << 22n) | (BigInt(+d) << 17n) | (BigInt(+h) << 12n) | (BigInt(+mi) << 6n) | BigInt(+s);
      return { datetimeValue: { bitFieldDatetimeSeconds: String(bits), nanos: Number((frac + "000000000").slice(0, 9)) } };
    }
    case "NUMERIC":
      return { numericValue: numericBytes(v, 9) };
    case "BIGNUMERIC":
      return { bignumericValue: numericBytes(v, 38) };
    case "JSON":
      return { jsonValue: typeof v === "string" ? v : JSON.stringify(v) };
    default:
      throw new Error(`table contents of type ${t.name} are not supported by the test oracle`);
  }
}

interface LongLike {
  toString(): string;
}
interface ValueProtoOut {
  value?: string;
  int32Value?: number;
  int64Value?: LongLike | string | number;
  uint32Value?: number;
  uint64Value?: LongLike | string | number;
  boolValue?: boolean;
  floatValue?: number;
  doubleValue?: number;
  stringValue?: string;
  bytesValue?: Uint8Array;
  dateValue?: number;
  enumValue?: number;
  arrayValue?: { element?: ValueProtoOut[] } | null;
  structValue?: { field?: ValueProtoOut[] } | null;
  timestampValue?: { seconds?: LongLike | string | number; nanos?: number } | null;
  datetimeValue?: { bitFieldDatetimeSeconds?: LongLike | string | number; nanos?: number } | null;
  timeValue?: LongLike | string | number;
  numericValue?: Uint8Array;
  bignumericValue?: Uint8Array;
  jsonValue?: string;
  intervalValue?: Uint8Array;
}

/** `.ffffff` with trailing zeros removed, or "" when whole seconds. */
export function fractionText(micros: bigint): string {
  if (micros === 0n) return "";
  return "." + micros.toString().padStart(6, "0").replace(/0+$/, "");
}

/** UTC `YYYY-MM-DD HH:MM:SS[.ffffff]` from microseconds since the epoch. */
export function renderTimestampMicros(us: bigint): string {
  const sec = us >= 0n ? us / 1_000_000n : -((-us + 999_999n) / 1_000_000n);
  const d = new Date(Number(sec) * 1000);
  return d.toISOString().slice(0, 19).replace("T", " ") + fractionText(us - sec * 1_000_000n);
}

/** Render a double the way both sides agree on: JS number text (`1.5`, `1e+20`, `Infinity`, `NaN`). */
export function renderDouble(n: number): string {
  return Object.is(n, -0) ? "0" : String(n);
}

/** Render one ValueProto result cell. */
export function renderZetaValue(v: ValueProtoOut | null | undefined): string {
  if (!v || !v.value) return "null";
  switch (v.value) {
    case "int32Value":
    case "int64Value":
    case "uint32Value":
    case "uint64Value":
    case "enumValue":
      return String(v[v.value]);
    case "boolValue":
      return v.boolValue ? "true" : "false";
    case "floatValue":
    case "doubleValue":
      return renderDouble(Number(v[v.value]));
    case "stringValue":
      return v.stringValue ?? "";
    case "jsonValue":
      return v.jsonValue ?? "";
    case "bytesValue":
      return "b'" + Buffer.from(v.bytesValue ?? []).toString("hex") + "'";
    case "dateValue":
      return new Date((v.dateValue ?? 0) * DAY_MS).toISOString().slice(0, 10);
    case "timestampValue": {
      const s = BigInt(String(v.timestampValue?.seconds ?? 0));
      return renderTimestampMicros(s * 1_000_000n + BigInt(Math.floor((v.timestampValue?.nanos ?? 0) / 1000)));
    }
    case "datetimeValue": {
      const b = BigInt(String(v.datetimeValue?.bitFieldDatetimeSeconds ?? 0));
      const f = (shift: bigint, bits: bigint) => Number((b >> shift) & ((1n << bits) - 1n));
      const p = (n: number, w = 2) => String(n).padStart(w, "0");
      return (
        `${p(f(26n, 14n), 4)}-${p(f(22n, 4n))}-${p(f(17n, 5n))} ${p(f(12n, 5n))}:${p(f(6n, 6n))}:${p(f(0n, 6n))}` +
        fractionText(BigInt(Math.floor((v.datetimeValue?.nanos ?? 0) / 1000)))
      );
    }
    case "timeValue":
      return String(v.timeValue);
    case "numericValue":
      return decodeNumeric(v.numericValue ?? new Uint8Array(), 9);
    case "bignumericValue":
      return decodeNumeric(v.bignumericValue ?? new Uint8Array(), 38);
    case "arrayValue":
      return "[" + (v.arrayValue?.element ?? []).map(renderZetaValue).join(",") + "]";
    case "structValue":
      return "{" + (v.structValue?.field ?? []).map(renderZetaValue).join(",") + "}";
    default:
      return `<${v.value}>`;
  }
}

// ---------------------------------------------------------------------------------------------
// Server and client

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function serverBinary(): string {
  const require = createRequire(import.meta.url);
  const lib = dirname(require.resolve("@fivetrandevelopers/zetasql"));
  const arm = process.arch.startsWith("arm") ? "_arm" : "";
  const ext = process.platform === "darwin" ? "" : ".so";
  return join(lib, "zetasql", `remote_server${arm}${ext}`);
}

/** The raw gRPC stub: each RPC is `(request, callback)`. Only the calls used here are typed. */
type Rpc = (req: object, cb: (err: Error | null, res: unknown) => void) => unknown;

function call<T>(api: Record<string, unknown>, method: string, req: object): Promise<T> {
  const fn = api[method] as Rpc | undefined;
  if (!fn) throw new Error(`ZetaSQL RPC ${method} is missing`);
  return new Promise((resolve, reject) => {
    fn.call(api, req, (err, res) => {
      if (!err) return resolve(res as T);
      const details = (err as { details?: string }).details;
      reject(new Error(`ZetaSQL ${method}: ${details ?? err.message}`, { cause: err }));
    });
  });
}

/** BigQuery's settings (§3.2): maximum features + INTERVAL + JSON types, external product mode. */
const FEATURE_JSON_TYPE = 43;
const FEATURE_INTERVAL_TYPE = 49;
const PRODUCT_EXTERNAL = 1;

/** Start a private ZetaSQL server (≈0.35 s). Call `stop()` when done (an after() hook). */
export async function startZetaSQL(): Promise<ZetaSQL> {
  const port = await freePort();
  const child: ChildProcess = spawn(serverBinary(), ["localhost", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  const exitOnParentExit = () => child.kill("SIGKILL");
  process.once("exit", exitOnParentExit);
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`ZetaSQL server did not start within 20 s: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("Server listening")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`ZetaSQL server exited with ${code}: ${out}`));
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  child.stdout?.removeAllListeners("data");
  child.stderr?.removeAllListeners("data");
  child.stdout?.resume();
  child.stderr?.resume();

  ZetaSQLClient.init(port);
  const api = ZetaSQLClient.API as unknown as Record<string, unknown>;
  const max = await call<{ enabledLanguageFeatures: (number | string)[] }>(api, "getLanguageOptions", {
    maximumFeatures: true,
  });
  const features = new Set<number | string>(max.enabledLanguageFeatures);
  features.add(FEATURE_INTERVAL_TYPE);
  features.add(FEATURE_JSON_TYPE);
  const languageOptions = {
    productMode: PRODUCT_EXTERNAL,
    enabledLanguageFeatures: [...features],
    supportedStatementKinds: [],
  };
  // ERROR_MESSAGE_ONE_LINE: "message [at line:column]".
  const options = { languageOptions, defaultTimezone: "UTC", errorMessageMode: 1 };

  const fixedArg = (type: string): object => ({ kind: 0 /* ARG_TYPE_FIXED */, type: toTypeProto(parseSqlType(type)), numOccurrences: 1 });
  const catalogProto = (
    tables: Record<string, ZetaColumn[] | ZetaTable>,
    constants: Record<string, string> = {},
    functions: Record<string, ZetaFunction> = {},
  ): object => ({
    customFunction: Object.entries(functions).map(([name, f]) => ({
      namePath: [name],
      group: "UDF",
      mode: 1 /* SCALAR */,
      signature: [{ argument: f.args.map(fixedArg), returnType: fixedArg(f.returns), contextId: 0 }],
    })),
    name: "",
    table: Object.entries(tables).map(([name, t]) => ({
      name,
      column: withSuffix(name, Array.isArray(t) ? t : t.columns).map((c) => ({
        name: c.name,
        type: toTypeProto(parseSqlType(c.type)),
        isPseudoColumn: Boolean(c.pseudo),
      })),
    })),
    constant: Object.entries(constants).map(([name, type]) => ({
      namePath: [name],
      type: toTypeProto(parseSqlType(type)),
      value: {},
    })),
    builtinFunctionOptions: { languageOptions },
  });

  const evaluateWithColumns = async (sql: string, tables: Record<string, ZetaTable> = {}) => {
    const tableContent: Record<string, object> = {};
    for (const [name, t] of Object.entries(tables)) {
      const cols = withSuffix(name, t.columns);
      const types = cols.map((c) => parseSqlType(c.type));
      tableContent[name] = {
        tableData: {
          row: t.rows.map((r) => {
            if (r.length !== cols.length)
              throw new Error(`table ${name}: row ${JSON.stringify(r)} has ${r.length} cells for ${cols.length} columns`);
            return { cell: r.map((v, i) => toValueProto(v, types[i])) };
          }),
        },
      };
    }
    const res = await call<{
      content?: { tableData?: { row?: { cell?: ValueProtoOut[] }[] } | null } | null;
      prepared?: { columns?: { name?: string; type?: TypeProtoOut }[] } | null;
    }>(api, "evaluateQuery", { sql, options, simpleCatalog: catalogProto(tables), tableContent });
    const rows = (res.content?.tableData?.row ?? []).map((r) => (r.cell ?? []).map(renderZetaValue));
    const columns = (res.prepared?.columns ?? []).map((c) => ({ name: c.name ?? "", type: typeName(c.type) }));
    return { columns, rows };
  };

  return {
    evaluateWithColumns,
    async evaluate(sql, tables = {}) {
      return (await evaluateWithColumns(sql, tables)).rows;
    },
    async analyze(sql, catalog = {}) {
      const cat: ZetaCatalog =
        "tables" in catalog && typeof catalog.tables === "object" && !Array.isArray(catalog.tables) && !("columns" in catalog.tables)
          ? (catalog as ZetaCatalog)
          : { tables: catalog as Record<string, ZetaColumn[] | ZetaTable> };
      const key = analysisKey(sql, cat);
      const known = ANALYSES.get(key);
      if (known) return structuredClone(known); // a caller may change what it was given
      try {
        const res = await call<{ resolvedStatement?: unknown }>(api, "analyze", {
          sqlStatement: sql,
          options,
          simpleCatalog: catalogProto(cat.tables, cat.constants, cat.functions),
        });
        const ret = findReturnType(res.resolvedStatement);
        const ok: AnalyzeResult = { ok: true, columns: outputColumns(res.resolvedStatement), ...(ret ? { returnType: ret } : {}) };
        remember(key, structuredClone(ok));
        return ok;
      } catch (e) {
        const err = e as Error & { cause?: { details?: string } };
        return { ok: false, error: err.cause?.details ?? err.message };
      }
    },
    async stop() {
      process.removeListener("exit", exitOnParentExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/**
 * Successful analyses by statement and catalog, shared by every server this process starts. The analyzer's answer is a
 * function of the statement, the catalog (tables' column names and types, constants, functions) and the language
 * options, which are fixed here, so an analysis asked again is answered from here: the suite analyzes the same DAG's
 * statements over the same tables many times (test/bigquery-dag.test.ts runs the DAG six times; each run sent 172
 * statements, 7.8 s of its 29 s), and the server returns each statement's whole resolved tree, which this process
 * decodes. A refusal is asked again (it is rare, and a failed call may be the server's, not the statement's).
 */
const ANALYSES = new Map<string, AnalyzeResult>();
const ANALYSES_MAX = 20_000;

function analysisKey(sql: string, cat: ZetaCatalog): string {
  const tables = Object.entries(cat.tables).map(([name, t]) => [name, Array.isArray(t) ? t : t.columns]);
  return JSON.stringify([sql, tables, cat.constants ?? {}, cat.functions ?? {}]);
}

function remember(key: string, result: AnalyzeResult): void {
  if (ANALYSES.size >= ANALYSES_MAX) ANALYSES.clear();
  ANALYSES.set(key, result);
}

function withSuffix(name: string, cols: ZetaColumn[]): ZetaColumn[] {
  if (!name.endsWith("*") || cols.some((c) => c.name.toUpperCase() === "_TABLE_SUFFIX")) {
    return cols.map((c) => (c.name.toUpperCase() === "_TABLE_SUFFIX" ? { ...c, pseudo: true } : c));
  }
  return [...cols, { name: "_TABLE_SUFFIX", type: "STRING", pseudo: true }];
}

/** The first `outputColumnList` anywhere in a resolved statement (query, CTAS, view). */
function outputColumns(stmt: unknown): { name: string; type: string }[] {
  const seen = new Set<unknown>();
  const find = (node: unknown): { name: string; type: string }[] | undefined => {
    if (!node || typeof node !== "object" || seen.has(node)) return undefined;
    seen.add(node);
    const rec = node as Record<string, unknown>;
    const list = rec.outputColumnList;
    if (Array.isArray(list) && list.length > 0) {
      return list.map((c: { name?: string; column?: { type?: TypeProtoOut } }) => ({
        name: c.name ?? "",
        type: typeName(c.column?.type),
      }));
    }
    for (const v of Object.values(rec)) {
      const r = find(v);
      if (r) return r;
    }
    return undefined;
  };
  return find(stmt) ?? [];
}

/** The `returnType` of a resolved CREATE FUNCTION statement, as a GoogleSQL type name. */
function findReturnType(stmt: unknown): string | undefined {
  const seen = new Set<unknown>();
  const find = (node: unknown): string | undefined => {
    if (!node || typeof node !== "object" || seen.has(node)) return undefined;
    seen.add(node);
    const rec = node as Record<string, unknown>;
    if (rec.returnType && typeof rec.returnType === "object" && "typeKind" in (rec.returnType as object)) return typeName(rec.returnType as TypeProtoOut);
    for (const v of Object.values(rec)) {
      const r = find(v);
      if (r) return r;
    }
    return undefined;
  };
  return find(stmt);
}
