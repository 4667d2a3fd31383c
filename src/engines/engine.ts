/**
 * The one engine interface (after Kysely's dialects): everything engine-specific lives in
 * src/engines/<kind>/; the rest of funnelcredit talks to an Engine and checks capability flags,
 * never the engine's name.
 *
 * All SQL handed to an engine is GoogleSQL (BigQuery's dialect) with fully qualified backtick
 * names `project.dataset.table`. The DuckDB engine translates it; BigQuery runs it as is.
 *
 * Adding an engine: a folder src/engines/<kind>/ with its Engine and its EngineDriver (driver.ts),
 * and one line in src/engines/registry.ts.
 */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";

/** A fully qualified warehouse table name. On DuckDB `database` (the GCP project) is dropped. */
export interface Target {
  database: string;
  schema: string;
  name: string;
}

// Column types are GoogleSQL's (src/googlesql/types.ts); engines read and write them.
import type { ColumnSchema, ColumnType } from "../googlesql/types.ts";
export type { ColumnSchema, ColumnType };

/**
 * Rows leave an engine as plain JS values, normalised at the boundary:
 * INT64 → number (bigint only beyond 2^53), FLOAT64/NUMERIC → number, BOOL → boolean,
 * DATE → "YYYY-MM-DD", TIMESTAMP → Date, arrays → arrays, structs → plain objects, NULL → null.
 */
export type Value = null | string | number | bigint | boolean | Date | Value[] | { [k: string]: Value };
export type Row = Record<string, Value>;
/** A batch of a query's rows, column-wise (`columns[c][i]` is row i's value of column `names[c]`). */
export interface ColumnChunk {
  names: readonly string[];
  columns: readonly (readonly Value[])[];
  rows: number;
}

/**
 * The shape of an existing object. `partitioning`: `DAY(field)`, `HOUR(field)`, `MONTH(field)`,
 * `YEAR(field)`, `DAY(_PARTITIONTIME)` (ingestion time) or `RANGE(field)`; absent when unpartitioned.
 */
export interface TableShape {
  kind: "table" | "view";
  partitioning?: string;
}

export interface EngineCapabilities {
  /** Can estimate bytes processed without running (BigQuery dry run). */
  dryRunBytes: boolean;
  /** Runs actions of one DAG level at the same time. */
  parallelActions: boolean;
  /** Has real table partitions (BigQuery); DuckDB emulates partition filters with WHERE. */
  partitions: boolean;
  /**
   * Writes to one table are rate-limited (BigQuery: 5 metadata updates per 10 s and 1,500 operations
   * per day per table, https://cloud.google.com/bigquery/quotas#standard_tables): the runner batches
   * what it appends to one table (run history) instead of writing once per action.
   */
  tableWriteQuotas: boolean;
}

export interface ExecOptions {
  /** Action name, for job labels, job ids and error messages. */
  action?: string;
  /** Deterministic job id (BigQuery), so a retried submit never runs twice. */
  jobId?: string;
  labels?: Record<string, string>;
}

export interface ExecResult {
  /** Rows written/affected where the engine reports it. */
  rowsAffected?: number;
  bytesProcessed?: number;
  jobId?: string;
}

export interface DryRunResult {
  bytesProcessed?: number;
}

export interface WriteOptions {
  /** replace: the target is swapped atomically for the new rows; append: rows are added. */
  mode: "replace" | "append";
  description?: string;
}

/** Quoting in an engine's own SQL dialect, for statements written in that dialect (local loading). */
export interface SqlQuoting {
  /** An identifier (DuckDB: `"name"`, embedded quotes doubled). */
  ident(name: string): string;
  /** A string literal (DuckDB: `'value'`, embedded quotes doubled, no backslash escapes). */
  literal(value: string): string;
}

/**
 * Engines that load the export from local files (DuckDB) keep it in ONE table, `<ga4 dataset>.ga4_events`: the
 * export's columns plus `_TABLE_SUFFIX` (`20240101`, `intraday_20240101`), the day BigQuery's shard name carries.
 * The `events_*` wildcard reads it (with any real `events_YYYYMMDD` tables), and each imported day is a view
 * `events_YYYYMMDD` over it. One table because the import converts all of a file's days in one statement: a table per
 * day cost 3-4× DuckDB's own JSON reader. BigQuery keeps the real day tables of its export.
 */
export const GA4_LOCAL_TABLE = { prefix: "events_", table: "ga4_events", suffixColumn: "_TABLE_SUFFIX" } as const;

/** A cell's JS value for LocalLoading.appendCell; TIMESTAMP cells are epoch micros, DATE cells days since 1970-01-01. */
export type AppendedCell = string | number | boolean | null;

/**
 * Loading local files (`import`, `demo`): offered by an engine that holds its data on this machine.
 * Today that is the embedded DuckDB: the importers and the sample generator write through its
 * connection (appender, file readers) and nothing else does. They take the engine's column types and
 * quoting from here, so nothing outside src/engines/ imports an engine's own helpers.
 */
export interface LocalLoading extends SqlQuoting {
  readonly connection: DuckDBConnection;
  /** The engine's storage type for a GoogleSQL column (DuckDB: `STRING` → `VARCHAR`, RECORD → STRUCT(…)). */
  columnType(column: ColumnSchema): string;
  /**
   * One typed cell into an appender of `connection` (`type`: the column's DuckDB type: VARCHAR, BIGINT, INTEGER,
   * DOUBLE, BOOLEAN, TIMESTAMP as epoch micros, DATE as days since 1970-01-01): how the demo writes rows without SQL text.
   */
  appendCell(appender: DuckDBAppender, type: string, value: AppendedCell): void;
  /**
   * Write committed tables out to the database file when new tables hold a good part of the engine's memory limit.
   * Loaders that create many tables (a day table per day) call it after each one: until written out, every new
   * table keeps memory for each of its columns, whatever its rows. Does nothing in memory.
   */
  checkpointWhenHolding(): Promise<void>;
}

/**
 * A table to create empty when it does not exist yet (declared sources a user has not loaded), with
 * its GoogleSQL schema. `wildcard`: a sharded family (`events_*`); `table` is then the shard
 * created when no shard exists, so the wildcard stays queryable.
 */
export interface EmptyTable {
  target: Target;
  schema: readonly ColumnSchema[];
  description?: string;
  wildcard?: { prefix: string };
}

export interface Engine {
  readonly kind: EngineKind;
  readonly capabilities: EngineCapabilities;
  /**
   * Run GoogleSQL statements as one atomic unit: all of them take effect or none
   * (DuckDB: one transaction; BigQuery: one multi-statement script in a transaction where DML).
   */
  execute(statements: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Run one GoogleSQL query and return its rows. */
  query(sql: string, opts?: ExecOptions): Promise<Row[]>;
  /**
   * Run one GoogleSQL query and hand its rows over column-wise, a batch at a time, with the values
   * `query` gives: a caller that keeps them column-wise (src/jobs/column-table.ts) never holds the result
   * as row objects. Optional: without it, `query`.
   */
  queryColumnChunks?(sql: string, opts?: ExecOptions): AsyncIterable<ColumnChunk>;
  /** Validate (and on BigQuery estimate) a statement without running it. */
  dryRun(sql: string, opts?: ExecOptions): Promise<DryRunResult>;
  tableExists(target: Target): Promise<boolean>;
  /** Column names and types of an existing table, in order. */
  tableSchema(target: Target): Promise<ColumnSchema[]>;
  /**
   * What exists at a target: a table or a view, and a table's partitioning spec where the engine
   * has real partitions (see partitionSpec in src/runner/statements.ts); undefined when nothing does.
   * The runner drops an object that `CREATE OR REPLACE` cannot replace (another kind, another spec).
   */
  describeTable(target: Target): Promise<TableShape | undefined>;
  /**
   * describeTable's answer for every table and view of one dataset, by name, in one look at the catalog (BigQuery:
   * tables.list, which carries each table's type and partitioning; DuckDB: its catalog); empty when the dataset does
   * not exist; undefined when the engine may not list it (BigQuery: no `bigquery.tables.list`). For a run about to
   * describe most of the tables there (src/engines/table-listing.ts). Optional: without it (or undefined),
   * describeTable each.
   */
  tableShapesIn?(database: string | undefined, schema: string): Promise<Map<string, TableShape> | undefined>;
  /** Write rows (job write-back) atomically: a failure leaves the previous table intact. */
  writeRows(target: Target, schema: ColumnSchema[], rows: Row[], opts: WriteOptions): Promise<{ rows: number }>;
  /**
   * Make declared sources queryable before a run (DuckDB: views for wildcard tables such as
   * `events_*` over the daily tables; BigQuery: missing optional source tables created empty). On a
   * dry run nothing may be written. Returns the tables it created (on a dry run: would create).
   */
  prepareDeclarations?(targets: Target[], opts?: { dryRun?: boolean }): Promise<Target[] | void>;
  /**
   * Create, empty and with their schema, the tables that do not exist yet (their datasets too), so
   * a warehouse with only some inputs loaded (GA4 only) still runs the whole DAG. Returns the
   * `dataset.table` names created. Every engine implements it.
   */
  createMissingTables(tables: readonly EmptyTable[]): Promise<string[]>;
  /**
   * The `PARTITION BY` of the tables a graph builds, for an engine without real partitions whose dry
   * run estimates BigQuery's bytes (DuckDB): its estimate then bills only the partitions a filter keeps.
   */
  declarePartitions?(specs: { target: Target; partitionBy: string }[]): void;
  /**
   * The per-job cap on billed bytes the engine enforces (BigQuery: vars.maximum_bytes_billed or
   * --maximum-bytes-billed); absent when it enforces none. The runner dry-runs every action against it
   * before a run starts, so a run that would exceed it fails before it changes anything.
   */
  readonly maximumBytesBilled?: number;
  /**
   * Where a dry run's bytes come from, for the cost plan's heading (`BigQuery dry runs`); present when
   * capabilities.dryRunBytes.
   */
  readonly dryRunBytesSource?: string;
  /** Local file loading for `import` / `demo`; absent when the engine cannot load local files. */
  readonly localLoading?: LocalLoading;
  /** The resources the engine was opened with, for the log (DuckDB: memory limit and threads). */
  readonly resources?: string;
  /** Make sure a dataset (BigQuery) / schema (DuckDB) exists. */
  ensureDataset(database: string, schema: string): Promise<void>;
  /**
   * Cancel what is running now (a cancelled run: SIGTERM/SIGINT). The interrupted call rejects and
   * leaves nothing half-written (DuckDB: the query is interrupted and its transaction rolled back;
   * BigQuery: the running jobs are cancelled with jobs.cancel). Later calls run normally, so the run
   * can still be recorded and its lease released.
   */
  cancel?(): Promise<void>;
  /** Close the engine; releases the run lease it was opened with (see EngineDriver.open). */
  close(): Promise<void>;
}

/** An engine's registered name (`--engine`): a key of ENGINES in src/engines/registry.ts. */
export type EngineKind = string;

/** One error type for every engine failure (STYLE: {engine, action, sql, cause, hint}). */
export class EngineError extends Error {
  readonly engine: EngineKind;
  readonly action?: string;
  readonly sql?: string;
  readonly hint?: string;
  readonly jobId?: string;
  /** True when retrying the same call may succeed (transient backend error). */
  readonly retryable: boolean;
  constructor(args: {
    engine: EngineKind;
    message: string;
    action?: string;
    sql?: string;
    hint?: string;
    jobId?: string;
    retryable?: boolean;
    cause?: unknown;
  }) {
    const where = args.action ? ` in action ${args.action}` : "";
    const job = args.jobId ? ` (job ${args.jobId})` : "";
    super(`${args.engine}${where}${job}: ${args.message}${args.hint ? `\n  hint: ${args.hint}` : ""}`, {
      cause: args.cause,
    });
    this.name = "EngineError";
    this.engine = args.engine;
    this.action = args.action;
    this.sql = args.sql;
    this.hint = args.hint;
    this.jobId = args.jobId;
    this.retryable = args.retryable ?? false;
  }
}

/** `project.dataset.table` in backticks, as Dataform renders refs. */
export function qualified(t: Target): string {
  return "`" + `${t.database}.${t.schema}.${t.name}` + "`";
}
