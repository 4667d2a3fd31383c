/**
 * The embedded default engine: one DuckDB file, GoogleSQL translated statement by statement.
 *
 * Mapping (engine-feasibility.md §2.1): `project.dataset.table` → schema "dataset", table "table"
 * (the project is dropped; one file is one project). GA4 wildcard tables (`events_*`) are views over
 * the imported export's one table `ga4_events` and any daily tables, exposing `_TABLE_SUFFIX`, refreshed before each run.
 */
import { mkdirSync } from "node:fs";
import { open, rm, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DuckDBConnection, DuckDBResultReader } from "@duckdb/node-api";
import { DuckDBInstance, DuckDBTypeId, JSDuckDBValueConverter } from "./node-api.ts";
import {
  EngineError,
  type ColumnSchema,
  type DryRunResult,
  type EmptyTable,
  type Engine,
  type LocalLoading,
  type ExecOptions,
  type ExecResult,
  type Row,
  type ColumnChunk,
  type Target,
  type Value,
  type WriteOptions,
  type TableShape,
  GA4_LOCAL_TABLE,
} from "../engine.ts";
import { translateToDuckDB, translateStatements, defaultTableMapper, TranslationError } from "./translate/rewrite.ts";
import { estimateScriptBytes, partitionColumnOfSpec, type PartitionColumnOf } from "./scan-bytes.ts";
import { installCompat } from "./translate/compat.ts";
import { duckColumnType } from "./types.ts";
import { duckLocalLoading } from "./local-loading.ts";
import { duckIdent, duckString, duckTable } from "./quote.ts";

export { duckIdent, duckTable };

/**
 * `partitionColumnOf` (the models' partitioning) plus the imported GA4 export's one table (GA4_LOCAL_TABLE), billed by
 * `_TABLE_SUFFIX` as BigQuery bills the day tables of its export: a query over 3 days bills 3 days.
 */
export function withGa4Shards(partitionColumnOf: PartitionColumnOf): PartitionColumnOf {
  return (schema, table) => partitionColumnOf(schema, table) ?? (table === GA4_LOCAL_TABLE.table ? GA4_LOCAL_TABLE.suffixColumn : undefined);
}

export interface DuckDBConfig {
  /** Path of the warehouse file, or ":memory:". */
  path: string;
  /** DuckDB memory_limit, e.g. "4GB". Always set: DuckDB defaults to 80 % of RAM. */
  memoryLimit?: string;
  threads?: number;
}

/** DuckDB's threads unless --threads: the cores (os.cpus() reads /proc/cpuinfo, tens of ms on a busy machine: read once). */
let cores: number | undefined;
function defaultThreads(): number {
  return (cores ??= Math.max(1, os.cpus().length));
}

// dryRunBytes: an estimate of what BigQuery would bill, from the data and BigQuery's per-type sizes (scan-bytes.ts).
const DUCKDB_CAPABILITIES = { dryRunBytes: true, parallelActions: false, partitions: false, tableWriteQuotas: false } as const;

export class DuckDBEngine implements Engine {
  readonly kind = "duckdb" as const;
  readonly capabilities = DUCKDB_CAPABILITIES;
  readonly dryRunBytesSource = "estimated from the data by BigQuery's per-type column sizes";
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    readonly config: DuckDBConfig,
  ) {}

  /**
   * The transactions of one connection, one after another. `execute` and `writeRows` each span BEGIN … COMMIT on
   * the one connection; two of them interleaved (a lease's renewal timer or release beside a waiting acquire) met
   * "cannot start a transaction within a transaction" and one was lost.
   */
  private transactions: Promise<unknown> = Promise.resolve();
  private inTransaction<T>(work: () => Promise<T>): Promise<T> {
    const next = this.transactions.then(work, work);
    this.transactions = next.catch(() => undefined);
    return next;
  }

  static async open(config: DuckDBConfig): Promise<DuckDBEngine> {
    if (config.path !== ":memory:") mkdirSync(path.dirname(path.resolve(config.path)), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(config.path, {
        memory_limit: config.memoryLimit ?? "4GB",
        threads: String(config.threads ?? defaultThreads()),
        preserve_insertion_order: "false",
        // DuckDB's allocator (jemalloc) keeps the pages a query freed until a later allocation in the same arena
        // purges them: on 10M events the process stayed 1.2–1.9 GB above DuckDB's own accounting (duckdb_memory())
        // and crept up from action to action. Its background thread returns them within about a second.
        allocator_background_threads: "true",
        autoinstall_known_extensions: "false",
        autoload_known_extensions: "false",
      });
    } catch (cause) {
      const msg = String((cause as Error).message ?? cause);
      throw new EngineError({
        engine: "duckdb",
        message: `cannot open ${config.path}: ${msg}`,
        hint: /lock/i.test(msg)
          ? "another funnelcredit process has this warehouse file open; wait for it or use another --warehouse"
          : undefined,
        cause,
      });
    }
    const conn = await instance.connect();
    await installCompat(conn);
    return new DuckDBEngine(instance, conn, config);
  }

  /** memory_limit and threads as opened (an auto memory limit is resolved by the driver). */
  get resources(): string {
    return `DuckDB memory_limit ${this.config.memoryLimit ?? "4GB"}, ${this.config.threads ?? defaultThreads()} threads`;
  }

  /** The importers and the demo generator load local files through this connection. */
  get localLoading(): LocalLoading {
    return duckLocalLoading(this.conn);
  }

  async createMissingTables(tables: readonly EmptyTable[]): Promise<string[]> {
    // One look at the catalog for all of them (a query per table was ~40 ms of every run's start).
    const schemas = [...new Set(tables.map((t) => t.target.schema))];
    if (schemas.length === 0) return [];
    const existing = await this.queryNative(
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN (${schemas.map(duckString).join(", ")})`,
    );
    const namesIn = new Map<string, string[]>(schemas.map((s) => [s, []]));
    for (const r of existing) namesIn.get(String(r.table_schema))?.push(String(r.table_name));
    const created: string[] = [];
    for (const t of tables) {
      const { schema, name } = t.target;
      const names = namesIn.get(schema)!;
      // A sharded family (events_*) needs one shard, any shard, or the imported export's one table, for its wildcard view.
      const exists = t.wildcard
        ? names.some((n) => n.startsWith(t.wildcard!.prefix) || (t.wildcard!.prefix === GA4_LOCAL_TABLE.prefix && n === GA4_LOCAL_TABLE.table))
        : names.includes(name);
      if (exists) continue;
      await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${duckIdent(schema)}`);
      await this.conn.run(`CREATE TABLE IF NOT EXISTS ${duckTable({ schema, name })} (${t.schema.map((c) => `${duckIdent(c.name)} ${duckColumnType(c)}`).join(", ")})`);
      names.push(name);
      created.push(`${schema}.${name}`);
    }
    return created;
  }

  /** GoogleSQL → DuckDB SQL (names mapped, constructs rewritten). Errors name the action. */
  translate(sql: string, action?: string, variables?: Set<string>): string {
    try {
      return translateToDuckDB(sql, { mapTable: defaultTableMapper, variables });
    } catch (cause) {
      if (cause instanceof TranslationError) {
        throw new EngineError({
          engine: "duckdb",
          action,
          sql,
          message: cause.message,
          hint: "see sql/duckdb/README.md for constructs models must not use and their portable forms",
          cause,
        });
      }
      throw cause;
    }
  }

  async execute(statements: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    // One variable scope per call: a preOp's DECLARE is seen by the statements after it.
    const variables = new Set<string>();
    const translated = statements.map((s) => this.translate(s, opts.action, variables));
    return this.inTransaction(async () => {
      let rows = 0;
      let current = "";
      await this.conn.run("BEGIN TRANSACTION");
      try {
        for (const sql of translated) {
          current = sql;
          const r = await this.conn.run(sql);
          rows += Number(r.rowsChanged ?? 0);
        }
        await this.conn.run("COMMIT");
      } catch (cause) {
        await this.conn.run("ROLLBACK").catch(() => undefined);
        throw this.wrap(cause, opts.action, current);
      }
      return { rowsAffected: rows };
    });
  }

  /** Run DuckDB SQL directly (importers, engine internals). Not GoogleSQL. */
  async runNative(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  async queryNative(sql: string): Promise<Row[]> {
    const reader = await this.conn.runAndReadAll(sql);
    return readRows(reader);
  }

  async query(sql: string, opts: ExecOptions = {}): Promise<Row[]> {
    const duck = this.translate(sql, opts.action);
    try {
      return readRows(await this.conn.runAndReadAll(duck));
    } catch (cause) {
      throw this.wrap(cause, opts.action, duck);
    }
  }

  /** Streams the result a DuckDB chunk (2,048 rows) at a time; values normalised as `query`'s are. */
  async *queryColumnChunks(sql: string, opts: ExecOptions = {}): AsyncGenerator<ColumnChunk> {
    const duck = this.translate(sql, opts.action);
    let result;
    try {
      result = await this.conn.stream(duck);
    } catch (cause) {
      throw this.wrap(cause, opts.action, duck);
    }
    const names = result.columnNames();
    const types = result.columnTypes();
    for (;;) {
      let chunk;
      try {
        chunk = await result.fetchChunk();
      } catch (cause) {
        throw this.wrap(cause, opts.action, duck);
      }
      if (!chunk || chunk.rowCount === 0) return;
      const columns = names.map((_, c) => chunk.convertColumnValues(c, JSDuckDBValueConverter).map((v) => normalise(v as unknown, types[c]!.typeId)));
      yield { names, columns, rows: chunk.rowCount };
    }
  }

  /**
   * Validates the script (preparing binds every name and type without running it), then estimates
   * the bytes BigQuery would bill for it (scan-bytes.ts): its script variables are evaluated, so the
   * estimate prunes partitions by them as BigQuery does; nothing is written.
   */
  async dryRun(sql: string, opts: ExecOptions = {}): Promise<DryRunResult> {
    const duck = this.translate(sql, opts.action, new Set<string>());
    try {
      const stmts = await this.conn.extractStatements(duck);
      for (let i = 0; i < stmts.count; i++) await stmts.prepare(i);
    } catch (cause) {
      throw this.wrap(cause, opts.action, duck);
    }
    const each = translateStatements(sql, { mapTable: defaultTableMapper, variables: new Set<string>() });
    try {
      return { bytesProcessed: await estimateScriptBytes(this, each, withGa4Shards((schema, table) => this.partitionColumns.get(`${schema}.${table}`))) };
    } catch (cause) {
      throw this.wrap(cause, opts.action, duck);
    }
  }

  /** `schema.table` → partitioning column, from the models' `PARTITION BY` (DuckDB has no partitions; the byte estimate prunes by them). */
  private readonly partitionColumns = new Map<string, string>();

  declarePartitions(specs: { target: Target; partitionBy: string }[]): void {
    for (const s of specs) {
      const col = partitionColumnOfSpec(s.partitionBy);
      if (col) this.partitionColumns.set(`${s.target.schema}.${s.target.name}`, col);
    }
  }

  async tableExists(t: Target): Promise<boolean> {
    const rows = await this.queryNative(
      `SELECT 1 AS x FROM information_schema.tables WHERE table_schema = ${duckString(t.schema)} AND table_name = ${duckString(t.name)}`,
    );
    return rows.length > 0;
  }

  /** DuckDB has no partitions: only the kind is reported. */
  async describeTable(t: Target): Promise<TableShape | undefined> {
    return (await this.tableShapesIn(undefined, t.schema, t.name)).get(t.name);
  }

  /** describeTable of every table and view of the schema (`only`: of that one name); the database is this file. */
  async tableShapesIn(_database: string | undefined, schema: string, only?: string): Promise<Map<string, TableShape>> {
    const rows = await this.queryNative(
      `SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ${duckString(schema)}${only === undefined ? "" : ` AND table_name = ${duckString(only)}`}`,
    );
    return new Map(rows.map((r) => [String(r.table_name), { kind: String(r.table_type) === "VIEW" ? "view" : "table" }]));
  }

  async tableSchema(t: Target): Promise<ColumnSchema[]> {
    // DESCRIBE binds the one table or view (≈ 1 ms; a view's columns as it reads now); the catalog query below scans
    // every schema's columns (≈ 9 ms on the demo warehouse), paid by every append (the run history after each action).
    // A missing table, or a view that no longer binds, takes the catalog query: its answer (none, or the error) as before.
    try {
      const described = await this.queryNative(`DESCRIBE ${duckTable(t)}`);
      return described.map((r) => ({ name: String(r.column_name), type: bqTypeOf(String(r.column_type)) }));
    } catch {
      // below
    }
    const rows = await this.queryNative(
      `SELECT column_name, data_type, table_type FROM information_schema.columns JOIN information_schema.tables USING (table_catalog, table_schema, table_name) ` +
        `WHERE table_schema = ${duckString(t.schema)} AND table_name = ${duckString(t.name)} ORDER BY ordinal_position`,
    );
    if (rows.length && String(rows[0]!.table_type) === "VIEW") {
      // A view's columns as it reads now: the catalog keeps those of its creation (an imported GA4 day is a view over
      // ga4_events, whose columns may have changed since).
      const live = await this.queryNative(`DESCRIBE SELECT * FROM ${duckTable(t)}`);
      return live.map((r) => ({ name: String(r.column_name), type: bqTypeOf(String(r.column_type)) }));
    }
    return rows.map((r) => ({ name: String(r.column_name), type: bqTypeOf(String(r.data_type)) }));
  }

  async ensureDataset(_database: string, schema: string): Promise<void> {
    await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${duckIdent(schema)}`);
  }

  /**
   * Atomic write-back: rows go to an NDJSON file read with an explicit schema into a staging
   * table, which replaces the target inside one transaction (a failure leaves the old table).
   */
  async writeRows(t: Target, schema: ColumnSchema[], rows: Row[], opts: WriteOptions): Promise<{ rows: number }> {
    await this.ensureDataset(t.database, t.schema);
    const dir = await mkdtemp(path.join(os.tmpdir(), "funnelcredit-write-"));
    const file = path.join(dir, "rows.ndjson");
    try {
      await writeNdjson(file, rows);
      const cols = schema.map((c) => `${duckString(c.name)}: ${duckString(duckColumnType(c))}`).join(", ");
      const select =
        rows.length === 0
          ? `SELECT ${schema.map((c) => `CAST(NULL AS ${duckColumnType(c)}) AS ${duckIdent(c.name)}`).join(", ")} WHERE FALSE`
          : `SELECT ${schema.map((c) => duckIdent(c.name)).join(", ")} FROM read_json(${duckString(file)}, format = 'newline_delimited', columns = {${cols}}, timestampformat = '%Y-%m-%dT%H:%M:%S.%gZ')`;
      await this.inTransaction(async () => {
        await this.conn.run("BEGIN TRANSACTION");
        try {
          // An append reads the table's columns (none: no table yet) in one catalog query (the run history is
          // appended to after every action).
          const existing = opts.mode === "replace" ? [] : await this.tableSchema(t);
          if (existing.length === 0) {
            await this.conn.run(`CREATE OR REPLACE TABLE ${duckTable(t)} AS ${select}`);
          } else {
            // An append whose schema gained a column (a job writing a new column of its history) adds it,
            // NULL on the earlier rows, as BigQuery's load with ALLOW_FIELD_ADDITION does.
            const have = new Set(existing.map((c) => c.name.toLowerCase()));
            for (const c of schema.filter((x) => !have.has(x.name.toLowerCase()))) {
              await this.conn.run(`ALTER TABLE ${duckTable(t)} ADD COLUMN ${duckIdent(c.name)} ${duckColumnType(c)}`);
            }
            await this.conn.run(`INSERT INTO ${duckTable(t)} BY NAME ${select}`);
          }
          await this.conn.run("COMMIT");
        } catch (cause) {
          await this.conn.run("ROLLBACK").catch(() => undefined);
          throw this.wrap(cause, `write ${t.schema}.${t.name}`, select);
        }
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return { rows: rows.length };
  }

  async prepareDeclarations(targets: Target[]): Promise<void> {
    for (const t of targets) {
      if (!t.name.endsWith("*")) continue;
      await this.ensureDataset(t.database, t.schema);
      await this.refreshWildcardView(t.schema, t.name.slice(0, -1));
    }
  }

  /**
   * (Re)create the view `"schema"."prefix*"` over every table `prefix%` with a `_TABLE_SUFFIX`
   * column, as BigQuery's wildcard tables behave (so `events_*` also matches `events_intraday_*`), and over the
   * imported export's one table `ga4_events` (GA4_LOCAL_TABLE), which has `_TABLE_SUFFIX` as a column. Only base
   * tables are day tables: the import's `events_YYYYMMDD` views read `ga4_events` and are not read twice. A
   * `_TABLE_SUFFIX` filter prunes a day table's branch (a constant) and is pushed into the scan of `ga4_events`.
   */
  async refreshWildcardView(schema: string, prefix: string): Promise<number> {
    const one = prefix === GA4_LOCAL_TABLE.prefix ? GA4_LOCAL_TABLE.table : undefined;
    const tables = await this.queryNative(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = ${duckString(schema)} AND table_type = 'BASE TABLE' ` +
        `AND (starts_with(table_name, ${duckString(prefix)})${one ? ` OR table_name = ${duckString(one)}` : ""}) ORDER BY table_name`,
    );
    const view = duckTable({ schema, name: prefix + "*" });
    if (tables.length === 0) return 0;
    const union = tables
      .map((r) => {
        const name = String(r.table_name);
        if (name === one) return `SELECT * FROM ${duckTable({ schema, name })}`;
        return `SELECT *, ${duckString(name.slice(prefix.length))} AS _TABLE_SUFFIX FROM ${duckTable({ schema, name })}`;
      })
      .join("\nUNION ALL BY NAME\n");
    await this.conn.run(`CREATE OR REPLACE VIEW ${view} AS ${union}`);
    return tables.length;
  }

  /** Interrupt the running statement; `execute`/`writeRows` then roll their transaction back. */
  async cancel(): Promise<void> {
    this.conn.interrupt();
  }

  async close(): Promise<void> {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  private wrap(cause: unknown, action: string | undefined, sql: string): EngineError {
    if (cause instanceof EngineError) return cause;
    const msg = String((cause as Error)?.message ?? cause);
    // Resource bounds: a query past memory_limit fails with this error (DuckDB spills what it can); say which knob to turn.
    const hint = /out of memory/i.test(msg)
      ? `the query needed more than --memory-limit ${this.config.memoryLimit ?? "4GB"}: raise --memory-limit, or make the aggregates smaller (vars.lookback_days, vars.max_path_length)`
      : undefined;
    return new EngineError({ engine: "duckdb", action, sql, message: msg.split("\n")[0] ?? msg, hint, cause });
  }
}

function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  return v;
}

function bqTypeOf(duckType: string): ColumnSchema["type"] {
  const t = duckType.toUpperCase();
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)$/.test(t)) return "INT64";
  if (/^(DOUBLE|FLOAT|REAL)$/.test(t)) return "FLOAT64";
  if (t.startsWith("DECIMAL")) return "NUMERIC";
  if (t === "BOOLEAN") return "BOOL";
  if (t === "DATE") return "DATE";
  if (t.startsWith("TIMESTAMP")) return "TIMESTAMP";
  if (t === "JSON") return "JSON";
  if (t.startsWith("STRUCT") || t.endsWith("[]")) return "RECORD";
  return "STRING";
}

/** Rows as NDJSON, a batch of lines at a time: the file is never held as one string (≈ 130 MB for 287k lead scores). */
async function writeNdjson(file: string, rows: readonly Row[], batch = 8192): Promise<void> {
  const fh = await open(file, "w");
  try {
    for (let i = 0; i < rows.length; i += batch) {
      let text = "";
      for (const r of rows.slice(i, i + batch)) text += JSON.stringify(r, jsonReplacer) + "\n";
      await fh.write(text);
    }
  } finally {
    await fh.close();
  }
}

/** Normalise DuckDB results to the plain values promised in engine.ts. */
export function readRows(reader: DuckDBResultReader): Row[] {
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const cols = reader.getColumnsJS();
  const n = reader.currentRowCount;
  const out: Row[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row: Row = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = normalise(cols[c]![i] as unknown, types[c]!.typeId);
    out[i] = row;
  }
  return out;
}

function normalise(v: unknown, typeId: DuckDBTypeId): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (v instanceof Date) return typeId === DuckDBTypeId.DATE ? v.toISOString().slice(0, 10) : v;
  if (Array.isArray(v)) return v.map((x) => normalise(x, DuckDBTypeId.ANY));
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (typeof v === "object") {
    const o: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = normalise(x, DuckDBTypeId.ANY);
    return o;
  }
  return v as Value;
}
