/**
 * A strict local BigQuery for tests: the REST surface of test/support/fake-bigquery.ts (routes,
 * validation, fault injection, job ids, polling, paging) with a backend that EXECUTES queries,
 * scripts and load jobs on an in-memory DuckDB through the project's GoogleSQL translator, so data
 * flows end to end through the real `@google-cloud/bigquery` client.
 *
 * Every statement is first analyzed by ZetaSQL as GoogleSQL (against the tables it references, as
 * they are at that point of the script), then checked against BigQuery's documented rules below,
 * then translated and run. Each rule cites its documentation page.
 *
 *   const bq = await startStrictBigQuery({ projectId: "p", location: "EU" });
 *   const engine = bq.engine();   // the real client, pointed here
 *   …
 *   await bq.close();
 *
 * Names: `project.dataset.table` → DuckDB schema "project/dataset", table "table"; wildcard tables
 * (`events_*`) are views over the day tables with `_TABLE_SUFFIX`, refreshed before each statement
 * that reads them (as the DuckDB engine does).
 */
import { DuckDBEngine, readRows } from "../../src/engines/duckdb/engine.ts";
import { translateStatements, TranslationError } from "../../src/engines/duckdb/translate/rewrite.ts";
import { duckIdent, duckString } from "../../src/engines/duckdb/quote.ts";
import { fromWireSchema } from "../../src/engines/bigquery/values.ts";
import type { ColumnSchema, Engine, Row } from "../../src/engines/engine.ts";
import { createBigQueryEngine } from "../../src/engines/bigquery/engine.ts";
import {
  splitStatements,
  startFakeBigQuery,
  type BackendLoad,
  type BackendQueryResult,
  type BackendTable,
  type FakeBackend,
  type FakeBigQuery,
  type FakeBigQueryOptions,
  type FakeField,
  type QueryContext,
} from "./fake-bigquery.ts";
import { startZetaSQL, type ZetaColumn, type ZetaFunction, type ZetaSQL } from "./zetasql.ts";
import { estimateScriptBytes, partitionColumnOfSpec, splitTop } from "../../src/engines/duckdb/scan-bytes.ts";

export interface StrictQuotas {
  /**
   * Table operations (DML, load and query jobs writing to the table, DDL) per table and day.
   * https://cloud.google.com/bigquery/quotas#standard_tables — "Table operations per day: 1,500".
   */
  tableOperationsPerDay: number;
  /**
   * Table metadata updates (load and query jobs that write, DDL replacing the table) per table
   * within `metadataWindowMs`. https://cloud.google.com/bigquery/quotas#standard_tables —
   * "Maximum rate of table metadata update operations per table: 5 operations per 10 seconds".
   */
  metadataUpdatesPerWindow: number;
  metadataWindowMs: number;
}

export const BIGQUERY_QUOTAS: StrictQuotas = { tableOperationsPerDay: 1500, metadataUpdatesPerWindow: 5, metadataWindowMs: 10_000 };

export interface StrictBigQueryOptions extends Omit<FakeBigQueryOptions, "backend" | "handler"> {
  /** Analyze every statement with ZetaSQL (default true). */
  analyze?: boolean;
  quotas?: Partial<StrictQuotas>;
  /** Clock for quota windows (default Date.now). */
  now?: () => number;
}

export interface StrictBigQuery extends FakeBigQuery {
  readonly duck: DuckDBEngine;
  /** Mutable: change fields in place (Object.assign) to tighten limits in a test. */
  readonly quotas: StrictQuotas;
  /** Operations counted per table (`p.d.t`) since the start: what the quotas see. */
  readonly tableOperations: Map<string, number[]>;
  /** Statements analyzed by ZetaSQL and the time spent (ms), and time spent running queries and loads. */
  readonly analysis: { statements: number; ms: number; queryMs: number; loadMs: number };
  /** Create a table with rows (test setup; not counted against quotas). `ref` = "p.d.t" or "d.t". */
  createTable(ref: string, schema: ColumnSchema[], rows?: Row[]): Promise<void>;
  /** Rows of a table (or a query in GoogleSQL), through DuckDB, for assertions. */
  rows(refOrSql: string): Promise<Row[]>;
  /** Table ids of a dataset. */
  tableIds(datasetId: string, projectId?: string): Promise<string[]>;
  /**
   * The project's BigQuery engine (the real client) pointed at this endpoint, in its project and location
   * unless told otherwise. `fastRetries`: 3 attempts without waiting, for tests that provoke retryable errors.
   */
  engine(opts?: { location?: string; fastRetries?: boolean }): Engine;
}

interface TableMeta {
  kind: "TABLE" | "VIEW";
  /** Partitioning expression as written (normalised), or undefined. */
  partitionBy?: string;
  description?: string;
}

interface Ref {
  p: string;
  d: string;
  t: string;
}

const jobError = (reason: string, message: string) => ({ reason, message });

class StatementFailed extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const DML_HEAD = /^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b/i;
const norm = (s: string): string => s.replace(/\s+/g, " ").trim();

/** The statement type BigQuery reports for a statement. */
function statementType(sql: string): string {
  const s = norm(sql).toUpperCase();
  if (/^CREATE (OR REPLACE )?(TEMP |TEMPORARY )?FUNCTION\b/.test(s)) return "CREATE_FUNCTION";
  if (/^CREATE (OR REPLACE )?SCHEMA\b/.test(s)) return "CREATE_SCHEMA";
  if (/^CREATE (OR REPLACE )?(TEMP |TEMPORARY )?VIEW/.test(s)) return s.includes("OR REPLACE") ? "CREATE_VIEW" : "CREATE_VIEW";
  if (/^CREATE (OR REPLACE )?(TEMP |TEMPORARY )?TABLE/.test(s)) return /\bAS\b\s*\(?\s*(SELECT|WITH)\b/.test(s) ? "CREATE_TABLE_AS_SELECT" : "CREATE_TABLE";
  const head = /^(\w+)/.exec(s)?.[1] ?? "";
  if (head === "WITH") return "SELECT";
  if (head === "BEGIN") return "BEGIN_TRANSACTION";
  if (head === "COMMIT") return "COMMIT_TRANSACTION";
  if (head === "ROLLBACK") return "ROLLBACK_TRANSACTION";
  return head;
}

/** GoogleSQL type text of a DuckDB type (information_schema / result type text). */
export function googleSqlTypeOfDuck(duck: string): string {
  const f = wireFieldOfDuck("x", duck);
  const scalar = (x: FakeField): string =>
    x.type === "RECORD" ? `STRUCT<${(x.fields ?? []).map((c) => `\`${c.name}\` ${typeText(c)}`).join(", ")}>` : x.type;
  const typeText = (x: FakeField): string => (x.mode === "REPEATED" ? `ARRAY<${scalar(x)}>` : scalar(x));
  return typeText(f);
}

/** Split `a T, b STRUCT<c U, d V>` at top-level commas. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(" || ch === "<") depth++;
    if (ch === ")" || ch === ">") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out;
}

/** A DuckDB column type → a REST schema field (what BigQuery would report for the column). */
export function wireFieldOfDuck(name: string, duck: string): FakeField {
  let t = duck.trim();
  if (t.endsWith("[]")) return { ...wireFieldOfDuck(name, t.slice(0, -2)), mode: "REPEATED" };
  const struct = /^STRUCT\((.*)\)$/is.exec(t);
  if (struct) {
    const fields = splitTop(struct[1]!).map((part) => {
      const m = /^\s*(?:"((?:[^"]|"")*)"|(\S+))\s+(.*)$/s.exec(part)!;
      return wireFieldOfDuck((m[1] ?? m[2]!).replace(/""/g, '"'), m[3]!);
    });
    return { name, type: "RECORD", mode: "NULLABLE", fields };
  }
  t = t.toUpperCase();
  let type = "STRING";
  if (/^(BIGINT|INTEGER|HUGEINT|SMALLINT|TINYINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT|INT\d*)$/.test(t)) type = "INT64";
  else if (/^(DOUBLE|FLOAT|REAL)$/.test(t)) type = "FLOAT64";
  else if (t.startsWith("DECIMAL")) type = "NUMERIC";
  else if (t === "BOOLEAN") type = "BOOL";
  else if (t === "DATE") type = "DATE";
  else if (t.startsWith("TIMESTAMP")) type = "TIMESTAMP";
  else if (t === "JSON") type = "JSON";
  return { name, type, mode: "NULLABLE" };
}

/** A REST schema field → DuckDB column type. */
function duckTypeOfField(f: FakeField): string {
  const t = f.type.toUpperCase();
  let base: string;
  if (t === "RECORD" || t === "STRUCT") base = `STRUCT(${(f.fields ?? []).map((c) => `${duckIdent(c.name)} ${duckTypeOfField(c)}`).join(", ")})`;
  else if (t === "INTEGER" || t === "INT64") base = "BIGINT";
  else if (t === "FLOAT" || t === "FLOAT64") base = "DOUBLE";
  else if (t === "NUMERIC" || t === "BIGNUMERIC") base = "DECIMAL(38,9)";
  else if (t === "BOOLEAN" || t === "BOOL") base = "BOOLEAN";
  else if (t === "DATE") base = "DATE";
  else if (t === "TIMESTAMP") base = "TIMESTAMP";
  else if (t === "JSON") base = "JSON";
  else base = "VARCHAR";
  return f.mode === "REPEATED" ? `${base}[]` : base;
}

// ---------------------------------------------------------------------------------------------
// Load job validation: https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-json
// (NDJSON rows: a REPEATED field is a JSON array, a RECORD field a JSON object; values must parse as
// the column's type; unknown fields fail unless ignoreUnknownValues).

function checkValue(f: FakeField, v: unknown, path: string): string | undefined {
  if (v === null || v === undefined) return f.mode === "REQUIRED" ? `${path}: missing value for REQUIRED field` : undefined;
  if (f.mode === "REPEATED") {
    if (!Array.isArray(v)) return `${path}: array specified for non-repeated field or non-array for REPEATED field (got ${JSON.stringify(v).slice(0, 40)})`;
    for (const [i, x] of v.entries()) {
      const e = checkValue({ ...f, mode: "NULLABLE" }, x, `${path}[${i}]`);
      if (e) return e;
      if (x === null) return `${path}[${i}]: NULL element in ARRAY`;
    }
    return undefined;
  }
  if (Array.isArray(v)) return `${path}: array specified for non-repeated field`;
  const t = f.type.toUpperCase();
  switch (t) {
    case "RECORD":
    case "STRUCT": {
      if (typeof v !== "object") return `${path}: JSON object specified for non-record field or non-object for RECORD field`;
      const known = new Set((f.fields ?? []).map((c) => c.name));
      for (const k of Object.keys(v as object)) if (!known.has(k)) return `${path}.${k}: no such field`;
      for (const c of f.fields ?? []) {
        const e = checkValue(c, (v as Record<string, unknown>)[c.name], `${path}.${c.name}`);
        if (e) return e;
      }
      return undefined;
    }
    case "INTEGER":
    case "INT64":
      return (typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && /^-?\d+$/.test(v)) ? undefined : `${path}: Could not parse '${String(v)}' as INT64`;
    case "FLOAT":
    case "FLOAT64":
    case "NUMERIC":
    case "BIGNUMERIC":
      return typeof v === "number" || (typeof v === "string" && /^(-?[\d.]+(e[+-]?\d+)?|NaN|-?Infinity|-?inf)$/i.test(v)) ? undefined : `${path}: Could not parse '${String(v)}' as ${t}`;
    case "BOOLEAN":
    case "BOOL":
      return typeof v === "boolean" || v === "true" || v === "false" ? undefined : `${path}: Could not parse '${String(v)}' as BOOL`;
    case "DATE":
      return typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v) ? undefined : `${path}: Could not parse '${String(v)}' as DATE`;
    case "TIMESTAMP":
      return (typeof v === "string" && !Number.isNaN(Date.parse(v))) || typeof v === "number" ? undefined : `${path}: Could not parse '${String(v)}' as TIMESTAMP`;
    case "JSON":
      return undefined;
    default:
      return typeof v === "string" ? undefined : `${path}: Could not convert value to string`;
  }
}

/** Field-by-field schema comparison for appends: what a change needs in schemaUpdateOptions. */
function schemaChange(existing: FakeField[], wanted: FakeField[]): { added: string[]; relaxed: string[]; incompatible: string[] } {
  const added: string[] = [];
  const relaxed: string[] = [];
  const incompatible: string[] = [];
  const byName = new Map(existing.map((f) => [f.name.toLowerCase(), f]));
  for (const w of wanted) {
    const e = byName.get(w.name.toLowerCase());
    if (!e) {
      added.push(w.name);
      continue;
    }
    const norm = (t: string) => ({ INTEGER: "INT64", FLOAT: "FLOAT64", BOOLEAN: "BOOL", STRUCT: "RECORD" })[t.toUpperCase()] ?? t.toUpperCase();
    if (norm(e.type) !== norm(w.type) || (e.mode === "REPEATED") !== (w.mode === "REPEATED")) incompatible.push(`${w.name}: ${e.mode} ${e.type} → ${w.mode} ${w.type}`);
    else if (e.mode === "REQUIRED" && w.mode !== "REQUIRED") relaxed.push(w.name);
  }
  return { added, relaxed, incompatible };
}

// ---------------------------------------------------------------------------------------------

export async function startStrictBigQuery(opts: StrictBigQueryOptions = {}): Promise<StrictBigQuery> {
  const projectId = opts.projectId ?? "test-project";
  const duck = await DuckDBEngine.open({ path: ":memory:", memoryLimit: "2GB", threads: 1 });
  const zeta: ZetaSQL | undefined = opts.analyze === false ? undefined : await startZetaSQL();
  const now = opts.now ?? Date.now;
  const quotas: StrictQuotas = { ...BIGQUERY_QUOTAS, ...opts.quotas };
  const meta = new Map<string, TableMeta>();
  const tableOperations = new Map<string, number[]>();
  const analysis = { statements: 0, ms: 0, queryMs: 0, loadMs: 0 };
  const timed = async <T>(what: "queryMs" | "loadMs", fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      analysis[what] += Date.now() - started;
    }
  };
  let fake!: FakeBigQuery;

  const key = (r: Ref): string => `${r.p}.${r.d}.${r.t}`;
  const schemaOf = (p: string, d: string): string => `${p}/${d}`;
  const duckRef = (r: Ref): string => `${duckIdent(schemaOf(r.p, r.d))}.${duckIdent(r.t)}`;
  const show = (r: Ref): string => `${r.p}:${r.d}.${r.t}`;

  // One DuckDB connection: jobs run one at a time (BigQuery runs them concurrently with snapshot
  // isolation; for a test, serial execution is one valid order).
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  async function tableType(r: Ref): Promise<"TABLE" | "VIEW" | undefined> {
    const rows = await duck.queryNative(
      `SELECT table_type FROM information_schema.tables WHERE table_schema = ${duckString(schemaOf(r.p, r.d))} AND table_name = ${duckString(r.t)}`,
    );
    if (!rows.length) return undefined;
    return String(rows[0]!.table_type) === "VIEW" ? "VIEW" : "TABLE";
  }

  async function exists(r: Ref): Promise<boolean> {
    if (r.t.endsWith("*")) {
      const n = await duck.refreshWildcardView(schemaOf(r.p, r.d), r.t.slice(0, -1));
      return n > 0;
    }
    return (await tableType(r)) !== undefined;
  }

  async function columnsOf(r: Ref): Promise<FakeField[]> {
    const rows = await duck.queryNative(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${duckString(schemaOf(r.p, r.d))} AND table_name = ${duckString(r.t)} ORDER BY ordinal_position`,
    );
    return rows.map((x) => wireFieldOfDuck(String(x.column_name), String(x.data_type)));
  }

  async function numRows(r: Ref): Promise<number> {
    const [x] = await duck.queryNative(`SELECT COUNT(*) AS n FROM ${duckRef(r)}`);
    return Number(x?.n ?? 0);
  }

  /**
   * Bytes a statement bills, as BigQuery counts them: the columns it reads over the partitions it
   * cannot prune, by BigQuery's per-type sizes (https://cloud.google.com/bigquery/pricing#data_size_calculation;
   * src/engines/duckdb/scan-bytes.ts). Its script variables are set as it goes, so a statement after a
   * DECLARE prunes by the variable's value, on a dry run too. A statement reading a table the same dry-run
   * script creates first bills 0 (the table does not exist yet).
   */
  async function bytesOf(p: Parsed, created: Map<string, ZetaColumn[]>): Promise<number> {
    const partitionColumn = (schema: string, table: string): string | undefined => {
      const [proj, ds] = schema.split("/");
      return partitionColumnOfSpec(meta.get(`${proj}.${ds}.${table}`)?.partitionBy);
    };
    try {
      return await estimateScriptBytes(duck, p.duck, partitionColumn);
    } catch (e) {
      if (p.refs.some((r) => created.has(key(r)))) return 0;
      throw e;
    }
  }

  /**
   * Quotas per table: https://cloud.google.com/bigquery/quotas#standard_tables. Exceeding the
   * daily operations answers `quotaExceeded` (not retryable: it resets the next day); exceeding the
   * metadata-update rate `rateLimitExceeded`
   * (https://cloud.google.com/bigquery/docs/troubleshoot-quotas).
   */
  /** A table's last change: its last counted operation, else when the fake first saw it (written from outside). */
  const firstSeen = new Map<string, number>();
  function lastModified(r: Ref): number {
    const k = key(r);
    const last = tableOperations.get(k)?.at(-1);
    if (last !== undefined) return last;
    if (!firstSeen.has(k)) firstSeen.set(k, now());
    return firstSeen.get(k)!;
  }

  function countOperation(r: Ref): void {
    const k = key(r);
    const at = now();
    const list = tableOperations.get(k) ?? [];
    const today = list.filter((x) => x > at - 86_400_000);
    if (today.length >= quotas.tableOperationsPerDay) {
      throw new StatementFailed(
        "quotaExceeded",
        `Quota exceeded: Your table exceeded quota for imports or query appends per table. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas (table ${show(r)}, ${today.length} operations today)`,
      );
    }
    const recent = today.filter((x) => x > at - quotas.metadataWindowMs);
    if (recent.length >= quotas.metadataUpdatesPerWindow) {
      throw new StatementFailed(
        "rateLimitExceeded",
        `Exceeded rate limits: too many table update operations for this table (${show(r)}). For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas`,
      );
    }
    list.push(at);
    tableOperations.set(k, list);
  }

  /**
   * A job's location must be its datasets' location; BigQuery answers "Not found" otherwise
   * (https://cloud.google.com/bigquery/docs/locations#specify_locations).
   */
  function checkDataset(r: Ref, location: string | undefined): void {
    const ds = fake.datasets.get(`${r.p}.${r.d}`);
    const loc = location ?? fake.location;
    if (!ds || ds.location.toLowerCase() !== loc.toLowerCase()) {
      throw new StatementFailed("notFound", `Not found: Dataset ${r.p}:${r.d} was not found in location ${loc}`);
    }
  }

  interface Parsed {
    sql: string;
    duck: string[];
    refs: Ref[];
    /** The table a CREATE/DML statement writes, when any. */
    target?: Ref;
    kind: string;
  }

  function parse(sql: string, variables: Set<string>, defaultProject: string): Parsed {
    const refs: Ref[] = [];
    const mapTable = (database: string | undefined, schema: string | undefined, name: string): string => {
      if (schema === undefined) return duckIdent(name);
      const r: Ref = { p: database ?? defaultProject, d: schema, t: name };
      refs.push(r);
      return duckRef(r);
    };
    let duckSql: string[];
    try {
      duckSql = translateStatements(sql, { mapTable, variables });
    } catch (e) {
      if (e instanceof TranslationError) throw new StatementFailed("invalidQuery", `translation: ${e.message}`);
      throw e;
    }
    const kind = statementType(sql);
    const writes = kind.startsWith("CREATE") || DML_HEAD.test(sql) || /^\s*DROP\b/i.test(sql);
    return { sql, duck: duckSql, refs, kind, target: writes ? refs[0] : undefined };
  }

  /** ZetaSQL analysis of one statement against the tables it references (script variables as constants, the script's temporary functions). */
  async function analyze(
    p: Parsed,
    constants: Record<string, string>,
    created?: Map<string, ZetaColumn[]>,
    functions: Record<string, ZetaFunction> = {},
  ): Promise<{ ok: true; columns: { name: string; type: string }[]; returnType?: string } | { ok: false; error: string }> {
    if (!zeta) return { ok: true, columns: [] };
    const started = Date.now();
    const tables: Record<string, ZetaColumn[]> = {};
    for (const r of p.refs) {
      if (p.target && r === p.target && p.kind.startsWith("CREATE")) continue;
      const planned = created?.get(key(r));
      if (planned) {
        tables[`${r.p}.${r.d}.${r.t}`] = planned;
        tables[`${r.d}.${r.t}`] = planned;
        continue;
      }
      if (!(await exists(r))) continue;
      const cols = (await columnsOf(r)).filter((c) => c.name !== "_TABLE_SUFFIX");
      const zc = cols.map((c) => ({ name: c.name, type: googleSqlTypeOfField(c) }));
      tables[`${r.p}.${r.d}.${r.t}`] = zc;
      tables[`${r.d}.${r.t}`] = zc;
    }
    const res = await zeta.analyze(p.sql, { tables, constants, functions });
    analysis.statements++;
    analysis.ms += Date.now() - started;
    return res;
  }

  function googleSqlTypeOfField(f: FakeField): string {
    const scalar = (x: FakeField): string =>
      x.type === "RECORD" ? `STRUCT<${(x.fields ?? []).map((c) => `\`${c.name}\` ${googleSqlTypeOfField(c)}`).join(", ")}>` : x.type;
    return f.mode === "REPEATED" ? `ARRAY<${scalar(f)}>` : scalar(f);
  }

  const PARTITION = /\bPARTITION\s+BY\s+([\s\S]*?)(?=\bCLUSTER\s+BY\b|\bOPTIONS\s*\(|\bAS\b|$)/i;

  /**
   * `CREATE OR REPLACE` cannot turn a table into a view or back, nor change the partitioning spec
   * (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_table_statement:
   * "CREATE OR REPLACE TABLE … cannot be used to replace a table with a different partitioning or
   * kind"; BigQuery answers "Cannot replace a table with a different partitioning spec. Instead,
   * DROP the table, and then recreate it.").
   */
  async function checkReplace(p: Parsed): Promise<TableMeta | undefined> {
    if (!p.kind.startsWith("CREATE") || !p.target) return undefined;
    const isView = p.kind === "CREATE_VIEW";
    const head = p.sql.slice(0, Math.max(0, p.sql.search(/\bAS\b/i)) || p.sql.length);
    const partitionBy = isView ? undefined : PARTITION.exec(head)?.[1] ? norm(PARTITION.exec(head)![1]!) : undefined;
    const have = await tableType(p.target);
    if (have) {
      if (!/^\s*CREATE\s+OR\s+REPLACE\b/i.test(p.sql) && !/\bIF\s+NOT\s+EXISTS\b/i.test(head)) {
        throw new StatementFailed("duplicate", `Already Exists: Table ${show(p.target)}`);
      }
      if (have === "VIEW" && !isView) throw new StatementFailed("invalidQuery", `${show(p.target)} is a view; CREATE OR REPLACE TABLE cannot replace a view. Instead, DROP the view, and then recreate it.`);
      if (have === "TABLE" && isView) throw new StatementFailed("invalidQuery", `${show(p.target)} is a table; CREATE OR REPLACE VIEW cannot replace a table. Instead, DROP the table, and then recreate it.`);
      const old = meta.get(key(p.target))?.partitionBy;
      if (!isView && (old ?? "").toLowerCase() !== (partitionBy ?? "").toLowerCase()) {
        throw new StatementFailed(
          "invalidQuery",
          `Cannot replace a table with a different partitioning spec. Instead, DROP the table, and then recreate it. New partitioning spec is ${partitionBy ?? "none"} and existing spec is ${old ?? "none"}. (table ${show(p.target)})`,
        );
      }
    }
    return { kind: isView ? "VIEW" : "TABLE", partitionBy, description: /description\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(head)?.[1] };
  }

  /** Read the last result of a statement as rows + wire schema. */
  async function runDuck(stmts: string[]): Promise<{ rows: Row[]; schema: FakeField[]; changed: number }> {
    let rows: Row[] = [];
    let schema: FakeField[] = [];
    let changed = 0;
    for (const s of stmts) {
      const reader = await duck.conn.runAndReadAll(s);
      const names = reader.columnNames();
      const types = reader.columnTypes();
      if (!/^\s*(SELECT|WITH|FROM|\()/i.test(s)) {
        changed += Number(reader.rowsChanged ?? 0);
        rows = [];
        schema = [];
      } else {
        rows = readRows(reader);
        schema = names.map((n, i) => wireFieldOfDuck(n, types[i]!.toString()));
      }
    }
    return { rows, schema, changed };
  }

  /**
   * `CREATE [OR REPLACE] TEMP FUNCTION name(p T, …) [RETURNS R] AS (expr)` in a script, by the rules of
   * https://cloud.google.com/bigquery/docs/user-defined-functions and the CREATE FUNCTION DDL reference:
   * - only temporary SQL functions here: a persistent function (`CREATE FUNCTION dataset.f`) or a
   *   JavaScript body is refused (the translator names the construct);
   * - every parameter has a type (ZetaSQL's parser requires it; ANY TYPE is accepted);
   * - the body is analyzed with the functions defined before it in the script; a statement calling a
   *   function not yet defined fails ZetaSQL's analysis ("Function not found");
   * - defining a name twice needs OR REPLACE or IF NOT EXISTS;
   * - the function lives only in this script: it is dropped when the script ends, so another job
   *   calling it fails.
   */
  async function createTempFunction(
    stmt: string,
    ctx: QueryContext,
    functions: Map<string, { name: string } & ZetaFunction>,
    constants: Record<string, string>,
    variables: Set<string>,
    dryRun: boolean,
  ): Promise<{ name: string } & ZetaFunction> {
    const p = parse(stmt, variables, ctx.projectId);
    const m = /^\s*CREATE\s+(OR\s+REPLACE\s+)?(?:TEMP|TEMPORARY)\s+FUNCTION\s+(IF\s+NOT\s+EXISTS\s+)?(`[^`]+`|[A-Za-z_][A-Za-z_0-9]*)\s*\(/i.exec(stmt);
    if (!m) throw new StatementFailed("invalidQuery", "CREATE FUNCTION: only temporary SQL functions (CREATE TEMP FUNCTION name(…) AS (…)) are supported here");
    const name = m[3]!.replace(/`/g, "");
    if (functions.has(name.toLowerCase()) && !m[1] && !m[2]) throw new StatementFailed("invalidQuery", `Function ${name} already exists in this script; use CREATE OR REPLACE TEMP FUNCTION`);
    const a = await analyze(p, constants, undefined, Object.fromEntries([...functions.values()].map((f) => [f.name, f])));
    if (!a.ok) throw new StatementFailed("invalidQuery", a.error);
    // Argument types from the text (ZetaSQL accepted it, so every parameter is `name TYPE`).
    let depth = 0;
    let end = m[0].length;
    for (; end < stmt.length; end++) {
      if (stmt[end] === "(" || stmt[end] === "<") depth++;
      else if (stmt[end] === ">") depth--;
      else if (stmt[end] === ")" && depth-- === 0) break;
    }
    const params = stmt.slice(m[0].length, end).trim();
    const args = params === "" ? [] : splitTopLevel(params).map((x) => x.trim().replace(/^(`[^`]+`|\S+)\s+/, "").trim());
    if (args.some((t) => /^ANY\s+TYPE$/i.test(t))) throw new StatementFailed("invalidQuery", `Function ${name}: ANY TYPE parameters are not supported by the strict local BigQuery`);
    const declared = /^\s*RETURNS\s+([\s\S]+?)\s+AS\s*\(/i.exec(stmt.slice(end + 1))?.[1];
    const returns = declared ?? a.returnType;
    if (!returns) throw new StatementFailed("invalidQuery", `Function ${name}: could not determine its return type`);
    if (!dryRun) await runDuck(p.duck);
    return { name, args, returns };
  }

  /**
   * CREATE SCHEMA [IF NOT EXISTS] [project.]dataset [OPTIONS(location = '…')]
   * (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_schema_statement):
   * the dataset is created in the location of the OPTIONS, else in the location the query runs in; an existing
   * dataset is an error unless IF NOT EXISTS (then nothing changes, its location included). OR REPLACE is not
   * part of the statement.
   */
  function createSchema(stmt: string, ctx: QueryContext): void {
    const m = /^\s*CREATE\s+(OR\s+REPLACE\s+)?SCHEMA\s+(IF\s+NOT\s+EXISTS\s+)?(`[^`]+`|[\w.-]+)(?:\s+DEFAULT\s+COLLATE\s+'[^']*')?(?:\s+OPTIONS\s*\(([\s\S]*)\))?\s*$/i.exec(stmt);
    if (!m) throw new StatementFailed("invalidQuery", `Syntax error in CREATE SCHEMA: ${norm(stmt).slice(0, 80)}`);
    if (m[1]) throw new StatementFailed("invalidQuery", "Syntax error: CREATE OR REPLACE SCHEMA is not supported; use CREATE SCHEMA IF NOT EXISTS");
    const parts = m[3]!.replace(/`/g, "").split(".");
    if (parts.length > 2) throw new StatementFailed("invalidQuery", `Invalid dataset name ${m[3]}: expected [project.]dataset`);
    const [p, d] = parts.length === 2 ? [parts[0]!, parts[1]!] : [ctx.projectId, parts[0]!];
    const location = /\blocation\s*=\s*['"]([^'"]+)['"]/i.exec(m[4] ?? "")?.[1] ?? ctx.location ?? fake.location;
    if (fake.datasets.has(`${p}.${d}`)) {
      if (m[2]) return;
      throw new StatementFailed("duplicate", `Already Exists: Dataset ${p}:${d}`);
    }
    fake.addDataset(d, location, p);
  }

  /**
   * One script (or statement). Rules:
   * - DECLARE only at the start of the script
   *   (https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language#declare).
   * - Outside a transaction every statement commits on its own, so a failure after a DELETE leaves
   *   the DELETE applied; inside BEGIN TRANSACTION … COMMIT TRANSACTION a failure rolls everything
   *   back; transactions cannot nest and hold only SELECT, DML and temporary DDL
   *   (https://cloud.google.com/bigquery/docs/transactions).
   * - Referenced datasets and tables must exist in the job's location ("Not found: Table p:d.t").
   */
  async function execute(sql: string, ctx: QueryContext & { jobId?: string }, dryRun: boolean): Promise<BackendQueryResult> {
    // An empty statement (`…);;` or a leading `;`) is a syntax error in GoogleSQL scripts
    // (https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language: statements
    // are separated by single semicolons).
    if (splitStatements(sql, { keepEmpty: true }).some((s) => s === "")) {
      return { error: jobError("invalidQuery", 'Syntax error: Unexpected ";" (an empty statement between two semicolons)'), bytes: 0, children: [] };
    }
    const statements = splitStatements(sql);
    const variables = new Set<string>();
    const constants: Record<string, string> = {};
    const children: BackendQueryResult["children"] = [];
    let inTransaction = false;
    let seenOther = false;
    let last: { rows: Row[]; schema: FakeField[] } | undefined;
    let totalBytes = 0;
    let dmlTotal: number | undefined;
    /** Tables created earlier in this dry-run script (they exist for the statements after), with their columns. */
    const created = new Map<string, ZetaColumn[]>();
    /** The script's temporary functions, by lower-case name; they end with the script. */
    const functions = new Map<string, { name: string } & ZetaFunction>();
    try {
      for (const stmt of statements) {
        const head = statementType(stmt);
        if (head === "CREATE_FUNCTION") {
          seenOther = true;
          const fn = await createTempFunction(stmt, ctx, functions, constants, variables, dryRun);
          functions.set(fn.name.toLowerCase(), fn);
          children.push({ sql: stmt, bytes: 0, statementType: head });
          continue;
        }
        if (head === "CREATE_SCHEMA") {
          seenOther = true;
          if (inTransaction) throw new StatementFailed("invalidQuery", "CREATE_SCHEMA is not supported inside a multi-statement transaction: only SELECT, DML and temporary tables (https://cloud.google.com/bigquery/docs/transactions)");
          if (!dryRun) createSchema(stmt, ctx);
          children.push({ sql: stmt, bytes: 0, statementType: head });
          continue;
        }
        if (head === "DECLARE") {
          if (seenOther) {
            throw new StatementFailed("invalidQuery", "Variable declarations are allowed only at the start of a block or script");
          }
          const m = /^\s*DECLARE\s+([\s\S]+?)\s+(?:([\s\S]+?)\s+)?DEFAULT\s+([\s\S]+)$/i.exec(stmt) ?? /^\s*DECLARE\s+(\S+)\s+([\s\S]+)$/i.exec(stmt);
          const names = (m?.[1] ?? "").split(",").map((x) => x.trim().replace(/`/g, ""));
          let type = m?.[2]?.trim();
          const def = m?.[3];
          const p = parse(stmt, variables, ctx.projectId);
          if (def) {
            const probe = parse(`SELECT ${def}`, new Set(variables), ctx.projectId);
            for (const r of probe.refs) {
              checkDataset(r, ctx.location);
              if (!(await exists(r)) && !created.has(key(r))) throw new StatementFailed("notFound", `Not found: Table ${show(r)} was not found in location ${ctx.location ?? fake.location}`);
            }
            const a = await analyze(probe, constants, created);
            if (!a.ok) throw new StatementFailed("invalidQuery", a.error);
            type ??= a.columns[0]?.type;
          }
          for (const n of names) constants[n] = type ?? "INT64";
          // Sets the variable (on a dry run too, so what follows prunes by it) and counts its DEFAULT's bytes.
          totalBytes += await bytesOf(p, created);
          children.push({ sql: stmt, bytes: 0, statementType: "DECLARE" });
          continue;
        }
        seenOther = true;
        if (head === "BEGIN_TRANSACTION") {
          if (inTransaction) throw new StatementFailed("invalidQuery", "Transaction is already in progress; transactions cannot be nested");
          inTransaction = true;
          if (!dryRun) await duck.conn.run("BEGIN TRANSACTION");
          children.push({ sql: stmt, bytes: 0, statementType: head });
          continue;
        }
        if (head === "COMMIT_TRANSACTION" || head === "ROLLBACK_TRANSACTION") {
          if (!inTransaction) throw new StatementFailed("invalidQuery", `${head.replace("_", " ")} without BEGIN TRANSACTION`);
          inTransaction = false;
          if (!dryRun) await duck.conn.run(head === "COMMIT_TRANSACTION" ? "COMMIT" : "ROLLBACK");
          children.push({ sql: stmt, bytes: 0, statementType: head });
          continue;
        }
        const p = parse(stmt, variables, ctx.projectId);
        if (inTransaction && !(head === "SELECT" || DML_HEAD.test(stmt) || /^\s*CREATE\s+(OR\s+REPLACE\s+)?TEMP(ORARY)?\b/i.test(stmt))) {
          throw new StatementFailed(
            "invalidQuery",
            `${head} is not supported inside a multi-statement transaction: only SELECT, DML and temporary tables (https://cloud.google.com/bigquery/docs/transactions)`,
          );
        }
        for (const r of p.refs) {
          checkDataset(r, ctx.location);
          if (p.target === r && p.kind.startsWith("CREATE")) continue;
          if (!created.has(key(r)) && !(await exists(r))) {
            throw new StatementFailed("notFound", `Not found: Table ${show(r)} was not found in location ${ctx.location ?? fake.location}`);
          }
        }
        const a = await analyze(p, constants, created, Object.fromEntries([...functions.values()].map((f) => [f.name, f])));
        if (!a.ok) throw new StatementFailed("invalidQuery", a.error);
        const newMeta = await checkReplace(p);
        const bytes = await bytesOf(p, created);
        totalBytes += bytes;
        if (dryRun) {
          if (p.target && p.kind.startsWith("CREATE")) created.set(key(p.target), a.columns);
          children.push({ sql: stmt, bytes, statementType: head });
          continue;
        }
        if (p.target) countOperation(p.target);
        if (p.target && p.kind.startsWith("CREATE")) await duck.runNative(`CREATE SCHEMA IF NOT EXISTS ${duckIdent(schemaOf(p.target.p, p.target.d))}`);
        const out = await runDuck(p.duck);
        if (newMeta && p.target) meta.set(key(p.target), newMeta);
        const dml = DML_HEAD.test(stmt) ? out.changed : undefined;
        if (dml !== undefined) dmlTotal = (dmlTotal ?? 0) + dml;
        last = head === "SELECT" ? out : undefined;
        children.push({ sql: stmt, bytes, statementType: head, ...(dml !== undefined ? { numDmlAffectedRows: dml } : {}) });
      }
      if (inTransaction) {
        // A script that ends inside a transaction is rolled back.
        if (!dryRun) await duck.conn.run("ROLLBACK");
        throw new StatementFailed("invalidQuery", "Transaction was never committed");
      }
    } catch (e) {
      if (inTransaction && !dryRun) await duck.conn.run("ROLLBACK").catch(() => undefined);
      const failed = e instanceof StatementFailed ? e : new StatementFailed("invalidQuery", String((e as Error).message).split("\n")[0]!);
      return { error: jobError(failed.reason, failed.message), bytes: totalBytes, children: statements.length > 1 ? children : [] };
    } finally {
      // Temporary functions expire with the script (https://cloud.google.com/bigquery/docs/user-defined-functions).
      if (!dryRun) for (const f of functions.values()) await duck.conn.run(`DROP MACRO IF EXISTS ${duckIdent(f.name)}`).catch(() => undefined);
    }
    const single = statements.length === 1;
    return {
      result: last ?? { schema: [], rows: [] },
      bytes: totalBytes,
      numDmlAffectedRows: single ? dmlTotal : undefined,
      statementType: single ? statementType(statements[0]!) : "SCRIPT",
      children: single ? [] : children,
    };
  }

  async function load(l: BackendLoad, ctx: QueryContext): Promise<{ outputRows: number } | { error: { reason: string; message: string } }> {
    const r: Ref = { p: l.projectId, d: l.datasetId, t: l.tableId };
    try {
      checkDataset(r, ctx.location);
      const have = await tableType(r);
      if (have === "VIEW") throw new StatementFailed("invalid", `Cannot load into a view: ${show(r)}`);
      const existing = have ? await columnsOf(r) : undefined;
      if (!existing && l.createDisposition === "CREATE_NEVER") throw new StatementFailed("notFound", `Not found: Table ${show(r)}`);
      const schema = l.schema ?? existing;
      if (!schema) throw new StatementFailed("invalid", "No schema specified on job or table.");
      // https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobConfigurationLoad
      // (schemaUpdateOptions): appending with a schema that adds or relaxes fields needs
      // ALLOW_FIELD_ADDITION / ALLOW_FIELD_RELAXATION; incompatible types fail in any case.
      if (existing && l.schema && l.writeDisposition !== "WRITE_TRUNCATE") {
        const ch = schemaChange(existing, l.schema);
        const opts = new Set(l.schemaUpdateOptions ?? []);
        if (ch.incompatible.length) throw new StatementFailed("invalid", `Provided Schema does not match Table ${show(r)}. Field ${ch.incompatible[0]} has changed type`);
        if (ch.added.length && !opts.has("ALLOW_FIELD_ADDITION")) throw new StatementFailed("invalid", `Provided Schema does not match Table ${show(r)}. Cannot add fields (field: ${ch.added[0]})`);
        if (ch.relaxed.length && !opts.has("ALLOW_FIELD_RELAXATION")) throw new StatementFailed("invalid", `Provided Schema does not match Table ${show(r)}. Field ${ch.relaxed[0]} has changed mode from REQUIRED to NULLABLE`);
      }
      const known = new Map(schema.map((f) => [f.name, f]));
      for (const [i, row] of l.rows.entries()) {
        for (const k of Object.keys(row)) {
          if (!known.has(k)) throw new StatementFailed("invalid", `Error while reading data, error message: JSON table encountered too many errors, giving up. Rows: ${i + 1}; errors: 1. JSON parsing error in row starting at position 0: No such field: ${k}.`);
        }
        for (const f of schema) {
          const e = checkValue(f, row[f.name], f.name);
          if (e) throw new StatementFailed("invalid", `Error while reading data, error message: JSON table encountered too many errors, giving up. Rows: ${i + 1}; errors: 1; ${e}`);
        }
      }
      if (l.writeDisposition === "WRITE_EMPTY" && have && (await numRows(r)) > 0) throw new StatementFailed("duplicate", `Already Exists: Table ${show(r)}`);
      countOperation(r);
      if (existing && l.schema && l.writeDisposition !== "WRITE_TRUNCATE") {
        // Allowed additions (checked above) become new NULLABLE columns of the table.
        const have = new Set(existing.map((f) => f.name.toLowerCase()));
        for (const f of l.schema.filter((x) => !have.has(x.name.toLowerCase()))) {
          await duck.runNative(`ALTER TABLE ${duckRef(r)} ADD COLUMN ${duckIdent(f.name)} ${duckTypeOfField(f)}`);
        }
      }
      const cols: ColumnSchema[] = fromWireSchema(schema, (path, type) => {
        throw new StatementFailed("invalid", `${path}: type ${type} is not supported by the strict local BigQuery`);
      });
      // A load is atomic: the rows land together (WRITE_TRUNCATE swaps data and schema).
      await duck.writeRows({ database: r.p, schema: schemaOf(r.p, r.d), name: r.t }, cols, l.rows as Row[], {
        mode: l.writeDisposition === "WRITE_TRUNCATE" ? "replace" : "append",
      });
      if (!have || l.writeDisposition === "WRITE_TRUNCATE") meta.set(key(r), { kind: "TABLE", description: l.description ?? meta.get(key(r))?.description });
      return { outputRows: l.rows.length };
    } catch (e) {
      const f = e instanceof StatementFailed ? e : new StatementFailed("invalid", String((e as Error).message).split("\n")[0]!);
      return { error: jobError(f.reason, f.message) };
    }
  }

  const backend: FakeBackend = {
    runQuery: (sql, ctx) => serial(() => timed("queryMs", () => execute(sql, ctx, false))),
    async dryRun(sql, ctx) {
      // A dry run changes nothing: the same checks, no execution, no quota counted
      // (https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobConfiguration: dryRun).
      const r = await serial(() => execute(sql, ctx, true));
      if (r.error) return { error: r.error };
      return { bytes: r.bytes, statementType: r.statementType };
    },
    load: (l, ctx) => serial(() => timed("loadMs", () => load(l, ctx))),
    getTable: (p, d, t) =>
      serial(async (): Promise<BackendTable | undefined> => {
        const r = { p, d, t };
        const type = await tableType(r);
        if (!type) return undefined;
        const m = meta.get(key(r));
        const field = m?.partitionBy ? /^(?:DATE\s*\(\s*)?`?(\w+)`?\s*\)?$/i.exec(m.partitionBy)?.[1] : undefined;
        return {
          schema: await columnsOf(r),
          numRows: type === "TABLE" ? await numRows(r) : 0,
          type,
          description: m?.description,
          lastModifiedMs: lastModified(r),
          ...(m?.partitionBy ? { timePartitioning: { type: "DAY", ...(field ? { field } : {}) } } : {}),
        };
      }),
    listTables: (p, d) =>
      serial(async () =>
        (await duck.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = ${duckString(schemaOf(p, d))}`)).map((r) => String(r.table_name))),
    describeTable: (p, d, t, description) =>
      serial(async () => {
        const r = { p, d, t };
        const type = await tableType(r);
        if (!type) return false;
        meta.set(key(r), { ...(meta.get(key(r)) ?? { kind: type }), description });
        return true;
      }),
    deleteTable: (p, d, t) =>
      serial(async () => {
        const r = { p, d, t };
        const type = await tableType(r);
        if (!type) return false;
        await duck.runNative(`DROP ${type === "VIEW" ? "VIEW" : "TABLE"} ${duckRef(r)}`);
        meta.delete(key(r));
        return true;
      }),
    deleteDataset: (p, d) =>
      serial(async () => {
        await duck.runNative(`DROP SCHEMA IF EXISTS ${duckIdent(schemaOf(p, d))} CASCADE`);
      }),
  };

  fake = await startFakeBigQuery({ ...opts, projectId, backend });
  const parseRef = (ref: string): Ref => {
    const parts = ref.replace(/`/g, "").split(".");
    if (parts.length === 2) return { p: projectId, d: parts[0]!, t: parts[1]! };
    return { p: parts[0]!, d: parts[1]!, t: parts[2]! };
  };
  const closeFake = fake.close.bind(fake);
  const strict: StrictBigQuery = Object.assign(fake, {
    duck,
    quotas,
    tableOperations,
    analysis,
    async createTable(ref: string, schema: ColumnSchema[], rows: Row[] = []) {
      const r = parseRef(ref);
      if (!fake.datasets.has(`${r.p}.${r.d}`)) fake.addDataset(r.d, fake.location, r.p);
      await serial(async () => {
        await duck.runNative(`CREATE SCHEMA IF NOT EXISTS ${duckIdent(schemaOf(r.p, r.d))}`);
        await duck.runNative(`CREATE OR REPLACE TABLE ${duckRef(r)} (${schema.map((c) => `${duckIdent(c.name)} ${duckTypeOfField({ ...c, mode: c.mode ?? "NULLABLE" } as FakeField)}`).join(", ")})`);
        if (rows.length) await duck.writeRows({ database: r.p, schema: schemaOf(r.p, r.d), name: r.t }, schema, rows, { mode: "append" });
        meta.set(key(r), { kind: "TABLE" });
      });
    },
    async rows(refOrSql: string) {
      return serial(async () => {
        if (/^\s*(SELECT|WITH)\b/i.test(refOrSql)) {
          const p = parse(refOrSql, new Set(), projectId);
          for (const r of p.refs) await exists(r);
          return (await runDuck(p.duck)).rows;
        }
        const r = parseRef(refOrSql);
        return duck.queryNative(`SELECT * FROM ${duckRef(r)}`);
      });
    },
    async tableIds(datasetId: string, p = projectId) {
      const rows = await serial(() => duck.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = ${duckString(schemaOf(p, datasetId))} ORDER BY table_name`));
      return rows.map((x) => String(x.table_name));
    },
    engine(o: { location?: string; fastRetries?: boolean } = {}) {
      return createBigQueryEngine(
        { projectId, location: o.location ?? fake.location, apiEndpoint: fake.url, ...(o.fastRetries ? { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } } : {}) },
        { authClient: fake.authClient(), ...(o.fastRetries ? { sleep: async () => undefined } : {}) },
      );
    },
    async close() {
      await closeFake();
      await zeta?.stop();
      await duck.close();
    },
  });
  return strict;
}
