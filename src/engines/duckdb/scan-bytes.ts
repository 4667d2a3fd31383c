/**
 * What BigQuery would bill for a statement, estimated on DuckDB from the data itself: the columns
 * each table scan reads, over the partitions it cannot prune, sized by BigQuery's documented
 * per-type sizes (https://cloud.google.com/bigquery/pricing#data_size_calculation):
 *
 *   INT64, FLOAT64, DATE, DATETIME, TIME, TIMESTAMP   8 bytes
 *   NUMERIC 16, BIGNUMERIC 32, INTERVAL 16, BOOL 1
 *   STRING   2 + the UTF-8 length; BYTES 2 + the length; JSON the UTF-8 length of its text
 *   STRUCT   0 + the size of its fields;  ARRAY  the size of its elements
 *   NULL     0 bytes, whatever the type
 *
 * On-demand queries are billed by the bytes of the columns they reference in the tables (and
 * partitions) they read (https://cloud.google.com/bigquery/docs/estimate-costs): a column counts
 * once per table and statement however often it is used; a query over a view bills the view's
 * tables; a partitioned table bills only the partitions its filters on the partitioning column
 * select (https://cloud.google.com/bigquery/docs/querying-partitioned-tables).
 *
 * How it is read here: DuckDB's plan (EXPLAIN) names every table scan, the columns it projects and
 * the filters pushed into it; a wildcard table (`events_*`, a view over the day tables) is already
 * pruned to the day tables its `_TABLE_SUFFIX` filter keeps. The bytes are then summed from the
 * rows themselves (one aggregate per table read).
 *
 * Differences from BigQuery, all towards more bytes, never fewer:
 * - an ARRAY column counts whole: BigQuery bills only the nested fields a query reads (reading
 *   `event_params.key` bills the keys, not the values). A STRUCT field DuckDB projects alone
 *   (`device.category`) bills that field only, as BigQuery does; a STRUCT used whole, or in a pushed
 *   filter, counts whole;
 * - a partition filter DuckDB keeps above a join (not pushed into the scan) does not prune;
 * - a table a script creates and reads in the same call is not counted (it does not exist yet).
 */
import type { Row } from "../engine.ts";
import { duckIdent, duckString } from "./quote.ts";

/** What the estimator needs from an engine's connection: native DuckDB SQL in, rows out. */
interface NativeQuery {
  queryNative(sql: string): Promise<Row[]>;
  runNative(sql: string): Promise<void>;
}

/**
 * Column name of a table's partitioning (`schema`, `table`), undefined when unpartitioned. `_TABLE_SUFFIX` (SHARD_SUFFIX)
 * names a sharded family stored as one table (the imported GA4 export, `ga4_events`): each suffix value is billed as
 * BigQuery bills one shard, and the column itself is not billed (BigQuery's pseudo-column costs nothing).
 */
export type PartitionColumnOf = (schema: string, table: string) => string | undefined;

export const SHARD_SUFFIX = "_table_suffix";

/** The partition a row falls in: its day (DAY partitioning), or its shard's suffix. */
function partitionKey(part: string): string {
  return part.toLowerCase() === SHARD_SUFFIX ? duckIdent(part) : `CAST(${duckIdent(part)} AS DATE)`;
}

/** One table a statement reads: the columns billed and the partition filters DuckDB pushed into its scan. */
interface TableRead {
  catalog: string;
  schema: string;
  table: string;
  columns: string[];
  /** DuckDB type text of each billed column. */
  types: Record<string, string>;
  /** Pushed-down filters on the partitioning column, one set per scan; `undefined` for a scan that does not prune. */
  partitionFilters: (string[] | undefined)[];
  /** Billed STRUCT fields read alone: name in `columns` (`device.category`) → [column, field, …]. */
  fields?: Record<string, string[]>;
}

/** The DuckDB type text of field `path` inside STRUCT type `type`, or undefined when it has no such field. */
export function fieldType(type: string, path: string[]): string | undefined {
  let t = type.trim();
  for (const f of path) {
    const struct = /^STRUCT\((.*)\)$/is.exec(t);
    if (!struct) return undefined;
    const field = splitTop(struct[1]!).map((part) => /^\s*(?:"((?:[^"]|"")*)"|(\S+))\s+(.*)$/s.exec(part)!).find((m) => (m[1]?.replace(/""/g, '"') ?? m[2]!).toLowerCase() === f.toLowerCase());
    if (!field) return undefined;
    t = field[3]!.trim();
  }
  return t;
}

interface PlanNode {
  name?: string;
  children?: PlanNode[];
  extra_info?: Record<string, string | string[]>;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : v.split("\n")).map((x) => x.trim()).filter(Boolean);

/** The partitioning column of a `PARTITION BY` expression: `event_date`, `DATE(event_at)`, `TIMESTAMP_TRUNC(x, DAY)`, `RANGE_BUCKET(n, …)`. */
export function partitionColumnOfSpec(spec: string | undefined): string | undefined {
  if (!spec) return undefined;
  const m = /^\s*(?:[A-Za-z_]+\s*\(\s*)?`?([A-Za-z_][A-Za-z0-9_]*)`?/.exec(spec);
  return m?.[1];
}

/** Identifiers a DuckDB filter text mentions ("col" or col), lower-case. */
function identifiersIn(filter: string): Set<string> {
  const out = new Set<string>();
  const noStrings = filter.replace(/'(?:[^']|'')*'/g, "''");
  for (const m of noStrings.matchAll(/"((?:[^"]|"")+)"|\b([A-Za-z_][A-Za-z0-9_]*)\b/g)) out.add((m[1]?.replace(/""/g, '"') ?? m[2]!).toLowerCase());
  return out;
}

/** Every table scan of a DuckDB statement: table, billed columns, partition filters (EXPLAIN (FORMAT JSON)). */
export async function tablesRead(conn: NativeQuery, duckSql: string, partitionColumnOf: PartitionColumnOf): Promise<TableRead[]> {
  // Without statistics propagation: with it, DuckDB drops a scan whose filter its min/max statistics
  // rule out (an empty result), which BigQuery would still bill for every non-partition column.
  await conn.runNative("SET disabled_optimizers = 'statistics_propagation'");
  let row: Row | undefined;
  try {
    [row] = await conn.queryNative(`EXPLAIN (FORMAT JSON) ${duckSql}`);
  } finally {
    await conn.runNative("RESET disabled_optimizers");
  }
  const plan = JSON.parse(String(row?.explain_value ?? "[]")) as PlanNode[];
  // The scans in plan order, then every scanned table's columns in one catalog query (a statement over the GA4
  // wildcard scans every day table: one query each was most of the estimate's time).
  const scans: { catalog: string; schema: string; name: string; key: string; info: Record<string, string | string[]> }[] = [];
  const collect = (n: PlanNode): void => {
    const info = n.extra_info ?? {};
    const table = typeof info.Table === "string" ? info.Table : undefined;
    if (table) {
      // catalog.schema.table, each part double-quoted when it needs to be ("p/shop").
      const parts = [...table.matchAll(/"((?:[^"]|"")*)"|([^."]+)/g)].map((m) => m[1]?.replace(/""/g, '"') ?? m[2]!);
      const catalog = parts[0]!;
      const name = parts[parts.length - 1]!;
      const schema = parts.slice(1, -1).join(".");
      scans.push({ catalog, schema, name, key: tableKey(catalog, schema, name), info });
    }
    for (const c of n.children ?? []) collect(c);
  };
  for (const n of plan) collect(n);
  const columnsOf = await columnTypes(conn, scans);
  const reads = new Map<string, TableRead>();
  for (const { catalog, schema, name, key, info } of scans) {
    const cols = columnsOf.get(key) ?? new Map<string, { name: string; type: string }>();
    const read = reads.get(key) ?? { catalog, schema, table: name, columns: [], types: {}, partitionFilters: [] };
    const part = partitionColumnOf(schema, name)?.toLowerCase();
    const bill = (id: string): void => {
      if (part === SHARD_SUFFIX && id.toLowerCase() === SHARD_SUFFIX) return;
      const c = cols.get(id.toLowerCase());
      if (c) {
        if (read.types[c.name] !== undefined) return;
        read.columns.push(c.name);
        read.types[c.name] = c.type;
        return;
      }
      // A STRUCT field DuckDB projects alone (`device.category`): BigQuery bills only that leaf.
      const path = id.split(".");
      const root = cols.get(path[0]!.toLowerCase());
      const type = root && path.length > 1 ? fieldType(root.type, path.slice(1)) : undefined;
      if (!root || type === undefined) return;
      const field = [root.name, ...path.slice(1)].join(".");
      if (read.types[field] !== undefined) return;
      read.columns.push(field);
      read.types[field] = type;
      (read.fields ??= {})[field] = [root.name, ...path.slice(1)];
    };
    // Projected columns, and the columns of filters pushed into the scan (a WHERE column is read too).
    for (const p of list(info.Projections)) bill(p);
    const filters = list(info.Filters).filter((f) => !/^optional:/i.test(f));
    for (const f of filters) for (const id of identifiersIn(f)) bill(id);
    const onPartition = part ? filters.filter((f) => { const ids = [...identifiersIn(f)].filter((x) => cols.has(x)); return ids.length > 0 && ids.every((x) => x === part); }) : [];
    read.partitionFilters.push(onPartition.length ? onPartition : undefined);
    reads.set(key, read);
  }
  return [...reads.values()];
}

const tableKey = (catalog: string, schema: string, table: string): string => `${catalog}\u0000${schema}\u0000${table}`;

/** For each table (tableKey): column name (lower-case) → the table's own spelling of it and its DuckDB type text. */
async function columnTypes(conn: NativeQuery, tables: readonly { catalog: string; schema: string; name: string; key: string }[]): Promise<Map<string, Map<string, { name: string; type: string }>>> {
  const out = new Map<string, Map<string, { name: string; type: string }>>();
  const distinct = [...new Map(tables.map((t) => [t.key, t])).values()];
  if (!distinct.length) return out;
  const wanted = distinct.map((t) => `(${duckString(t.catalog)}, ${duckString(t.schema)}, ${duckString(t.name)})`).join(", ");
  const rows = await conn.queryNative(
    `SELECT table_catalog, table_schema, table_name, column_name, data_type FROM information_schema.columns WHERE (table_catalog, table_schema, table_name) IN (${wanted}) ORDER BY table_catalog, table_schema, table_name, ordinal_position`,
  );
  for (const r of rows) {
    const key = tableKey(String(r.table_catalog), String(r.table_schema), String(r.table_name));
    let cols = out.get(key);
    if (!cols) out.set(key, (cols = new Map()));
    cols.set(String(r.column_name).toLowerCase(), { name: String(r.column_name), type: String(r.data_type) });
  }
  return out;
}

/** Split `a T, b STRUCT(c U)` at top-level commas (DuckDB type text). */
export function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === "(") depth++;
    if (!quoted && ch === ")") depth--;
    if (!quoted && ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out;
}

/**
 * A DuckDB expression for the BigQuery size in bytes of `expr`, a value of DuckDB type `type`
 * (the table in the file comment; NULL → 0). `depth` names nested lambda parameters apart.
 */
function sizeExpression(expr: string, type: string, depth = 0): string {
  const t = type.trim();
  if (t.endsWith("[]")) {
    const x = `x${depth}`;
    return `COALESCE(list_sum(list_transform(${expr}, lambda ${x}: ${sizeExpression(x, t.slice(0, -2), depth + 1)})), 0)`;
  }
  const struct = /^STRUCT\((.*)\)$/is.exec(t);
  if (struct) {
    const fields = splitTop(struct[1]!).map((part) => {
      const m = /^\s*(?:"((?:[^"]|"")*)"|(\S+))\s+(.*)$/s.exec(part)!;
      const name = (m[1] ?? m[2]!).replace(/""/g, '"');
      return sizeExpression(`struct_extract(${expr}, ${duckString(name)})`, m[3]!, depth);
    });
    return fields.length ? `(${fields.join(" + ")})` : "0";
  }
  const u = t.toUpperCase();
  const fixed = (n: number): string => `(CASE WHEN ${expr} IS NULL THEN 0 ELSE ${n} END)`;
  if (u === "VARCHAR" || u.startsWith("VARCHAR(")) return `COALESCE(2 + strlen(${expr}), 0)`;
  if (u === "BLOB") return `COALESCE(2 + octet_length(${expr}), 0)`;
  if (u === "JSON") return `COALESCE(strlen(CAST(${expr} AS VARCHAR)), 0)`;
  if (u === "BOOLEAN") return fixed(1);
  if (u === "INTERVAL") return fixed(16);
  if (u.startsWith("DECIMAL")) {
    // NUMERIC is DECIMAL(38,9) here; BIGNUMERIC has no DuckDB equivalent and is stored the same way.
    return fixed(16);
  }
  if (u === "HUGEINT" || u === "UHUGEINT") return fixed(16);
  // INT64, FLOAT64, DATE, TIME, TIMESTAMP (with or without time zone) and the narrower integers.
  return fixed(8);
}

/**
 * The query of the bytes BigQuery would bill for reading `read` (one row, column `bytes`): its columns over the rows of
 * the partitions its scans select (a scan without a partition filter selects every partition); with `pruned: false`
 * over every partition. Undefined when it reads no column.
 */
function bytesQuery(read: TableRead, partitionColumnOf: PartitionColumnOf, pruned = true): string | undefined {
  if (!read.columns.length) return undefined;
  const from = `${duckIdent(read.catalog)}.${duckIdent(read.schema)}.${duckIdent(read.table)}`;
  // A STRUCT field read alone bills its leaf (https://cloud.google.com/bigquery/pricing#data_size_calculation: a
  // STRUCT's size is its fields'), unless the same statement reads the whole column.
  const billed = read.columns.filter((c) => !read.fields?.[c] || read.types[read.fields[c]![0]!] === undefined);
  const expr = (c: string): string => {
    const path = read.fields?.[c];
    return path ? path.slice(1).reduce((e, f) => `struct_extract(${e}, ${duckString(f)})`, duckIdent(path[0]!)) : duckIdent(c);
  };
  const sum = billed.map((c) => `SUM(${sizeExpression(expr(c), read.types[c]!)})`).join(" + ");
  const kept = pruned ? keptPartitions(read, partitionColumnOf) : undefined;
  // BigQuery bills whole partitions: every row of a day any filtered row falls on (DAY partitioning), every row of a
  // shard any filtered row is in.
  const where = kept ? ` WHERE ${kept.key} IN (SELECT DISTINCT ${kept.key} FROM ${from} WHERE ${kept.rows})` : "";
  return `SELECT CAST(COALESCE(${sum}, 0) AS DOUBLE) AS bytes FROM ${from}${where}`;
}

/**
 * The partitions `read` selects, as BigQuery prunes them: the partition key of its table (the day of the partitioning
 * column, or the shard suffix) and the condition on rows its scans' filters make (any scan's filters, each all of
 * them); undefined when the table is not partitioned or a scan reads it unfiltered (every partition).
 */
function keptPartitions(read: TableRead, partitionColumnOf: PartitionColumnOf): { key: string; rows: string } | undefined {
  const part = partitionColumnOf(read.schema, read.table);
  if (!part || !read.partitionFilters.every((f) => f !== undefined)) return undefined;
  return { key: partitionKey(part), rows: read.partitionFilters.map((f) => `(${f!.join(" AND ")})`).join(" OR ") };
}

/** Bytes BigQuery would bill for reading `read` (bytesQuery). */
async function bytesOfRead(conn: NativeQuery, read: TableRead, partitionColumnOf: PartitionColumnOf): Promise<number> {
  const query = bytesQuery(read, partitionColumnOf);
  if (query === undefined) return 0;
  try {
    const [r] = await conn.queryNative(query);
    return Number(r?.bytes ?? 0);
  } catch (e) {
    const whole = bytesQuery(read, partitionColumnOf, false)!;
    if (whole === query) throw e;
    // A pushed filter DuckDB printed in a form it cannot read back: count every partition (more, never fewer).
    const [r] = await conn.queryNative(whole);
    return Number(r?.bytes ?? 0);
  }
}

/**
 * The partitions (days, YYYY-MM-DD; shard suffixes for `_TABLE_SUFFIX`) of `read`'s table that its scans select, as bytesOfRead bills them;
 * undefined when the table is not partitioned or a scan does not prune (every partition is read).
 */
export async function partitionsOfRead(conn: NativeQuery, read: TableRead, partitionColumnOf: PartitionColumnOf): Promise<string[] | undefined> {
  const kept = keptPartitions(read, partitionColumnOf);
  if (!kept) return undefined;
  const from = `${duckIdent(read.catalog)}.${duckIdent(read.schema)}.${duckIdent(read.table)}`;
  const rows = await conn.queryNative(`SELECT DISTINCT CAST(${kept.key} AS VARCHAR) AS day FROM ${from} WHERE ${kept.rows} ORDER BY 1`);
  return rows.map((r) => String(r.day));
}

/** Bytes BigQuery would bill for one DuckDB statement (see the file comment). */
async function estimateStatementBytes(conn: NativeQuery, duckSql: string, partitionColumnOf: PartitionColumnOf): Promise<number> {
  const reads = await tablesRead(conn, duckSql, partitionColumnOf);
  const queries = reads.map((r) => bytesQuery(r, partitionColumnOf)).filter((q): q is string => q !== undefined);
  // Every read in one query (a statement over the GA4 wildcard reads every day table), or read by read when one fails.
  if (queries.length > 1) {
    try {
      const [r] = await conn.queryNative(`SELECT ${queries.map((q, i) => `(${q}) AS b${i}`).join(", ")}`);
      return queries.reduce((t, _, i) => t + Number(r?.[`b${i}`] ?? 0), 0);
    } catch {
      // below
    }
  }
  let total = 0;
  for (const read of reads) total += await bytesOfRead(conn, read, partitionColumnOf);
  return total;
}

/**
 * Bytes of a translated script, statement by statement as BigQuery runs it. A script variable
 * (`SET VARIABLE`, from DECLARE … DEFAULT) is evaluated, so the statements after it prune by its value
 * as BigQuery prunes by a script variable; its DEFAULT query's bytes count too.
 */
export async function estimateScriptBytes(conn: NativeQuery, duckStatements: string[], partitionColumnOf: PartitionColumnOf): Promise<number> {
  let total = 0;
  for (const s of duckStatements) {
    const set = /^\s*SET\s+VARIABLE\s+("(?:[^"]|"")+"|\w+)\s*=\s*([\s\S]*?)(?:;\s*SET\s+VARIABLE[\s\S]*)?$/i.exec(s);
    if (set) {
      total += await estimateStatementBytes(conn, `SELECT ${set[2]}`, partitionColumnOf);
      await conn.runNative(s);
      continue;
    }
    if (/^\s*(BEGIN|COMMIT|ROLLBACK|DROP|CREATE\s+(OR\s+REPLACE\s+)?(SCHEMA|VIEW|TEMP\s+VIEW|TEMPORARY\s+VIEW)|CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+|TEMPORARY\s+)?(MACRO|FUNCTION))\b/i.test(s)) continue;
    if (/^\s*CREATE\b/i.test(s)) {
      // CREATE TABLE … AS query bills its query (planned alone: the target's schema may not exist yet on a
      // dry run); CREATE TABLE (columns) reads nothing.
      const as = /^\s*CREATE\b[\s\S]*?\bAS\s*(?=\(?\s*(?:SELECT|WITH|FROM)\b)/i.exec(s);
      if (as) total += await estimateStatementBytes(conn, s.slice(as[0].length), partitionColumnOf);
      continue;
    }
    total += await estimateStatementBytes(conn, s, partitionColumnOf);
  }
  return total;
}
