/**
 * The warehouse catalog (includes/catalog.js, shared with Dataform) as typed data, and what is
 * derived from it on the TypeScript side: table schemas, the one function that locates a table,
 * and the empty source tables every engine creates.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { qualified, type ColumnSchema, type EmptyTable, type Engine, type Target } from "../engines/engine.ts";
import { googleSqlType } from "../googlesql/ddl.ts";
import { sqlString } from "../util/sql.ts";
import type { Settings } from "../config/settings.ts";
import { GA4_EVENTS_SCHEMA } from "./ga4-events.ts";
import { packageRoot } from "../util/package-root.ts";

/** A dataset (BigQuery) / schema (DuckDB) of the warehouse: a key of settings.datasets. */
type Layer = keyof Settings["datasets"];

type Producer =
  | { import: string }
  | { job: string }
  /** A shared history: several jobs append to it, each replacing only its own rows of a run (key: run_id, job). */
  | { jobs: string[] }
  | { runner: string }
  | { command: string }
  | { engine: string }
  /** Built by a SQLX model (the file); cataloged because the report and BI views read its columns. */
  | { model: string };

export interface CatalogTable {
  name: string;
  layer: Layer;
  producer: Producer;
  grain: string;
  description: string;
  columns: readonly ColumnSchema[];
  /** An append-only history a job adds to on every run (created empty when missing). */
  history?: boolean;
  /** A sharded family read through a wildcard (`events_*`): shards are `<prefix>YYYYMMDD`. */
  shards?: { prefix: string; empty: string };
  /** Per-job tables a shared history took over: their rows are copied in when it is first created. */
  replaces?: readonly ReplacedTable[];
  /** Old words jobs wrote into a shared history: rewritten in place before a run. */
  renamed?: readonly RenamedValues[];
}

/** Old words `job` wrote into a shared history: `values` maps a column's old words to new ones. */
interface RenamedValues {
  job: string;
  values: Record<string, Record<string, string>>;
}

/** A per-job table a shared history replaced: its rows belong to `job`; `values` maps old words of a column to new ones. */
interface ReplacedTable {
  table: string;
  job: string;
  values?: Record<string, Record<string, string>>;
}

interface RawTable extends Omit<CatalogTable, "columns"> { columns: ColumnSchema[] | "ga4_export" }

/** The catalog file, beside the settings the Dataform models read. */
// From the package root, not this file: the same code runs from src/ (tsx) and dist/src/ (the CLI).
const CATALOG_FILE = path.join(packageRoot(), "includes", "catalog.js");

function loadCatalog(): CatalogTable[] {
  const module = { exports: {} as { tables?: RawTable[] } };
  vm.runInContext(readFileSync(CATALOG_FILE, "utf8"), vm.createContext({ module, exports: module.exports }), { filename: CATALOG_FILE });
  // A JSON copy: plain objects of this realm, not of the VM context's.
  const tables = JSON.parse(JSON.stringify(module.exports.tables ?? [])) as RawTable[];
  for (const t of tables) checkSharedHistory(t);
  return tables.map((t) => Object.freeze({ ...t, columns: t.columns === "ga4_export" ? GA4_EVENTS_SCHEMA : Object.freeze(t.columns) }));
}

/** The key of a shared history's rows, its first columns: the run and the job that wrote them. */
const SHARED_HISTORY_KEY = ["run_id", "job"] as const;

/** A shared history is an append-only history keyed by run and job; anything else cannot keep writers apart. */
function checkSharedHistory(t: RawTable): void {
  if (!("jobs" in t.producer)) {
    if (t.replaces || t.renamed) throw new Error(`${t.name} in includes/catalog.js: replaces and renamed are for shared histories (producer { jobs: [...] })`);
    return;
  }
  const key = Array.isArray(t.columns) ? t.columns.slice(0, SHARED_HISTORY_KEY.length).map((c) => `${c.name} ${c.type}`) : [];
  if (!t.history || key.join(",") !== SHARED_HISTORY_KEY.map((k) => `${k} STRING`).join(",") || !t.producer.jobs.length) {
    throw new Error(`${t.name} in includes/catalog.js: a table several jobs write (producer { jobs: [...] }) must be a history (history: true) whose first columns are run_id STRING and job STRING, and name at least one job`);
  }
}

export const CATALOG: readonly CatalogTable[] = Object.freeze(loadCatalog());

/** The catalog entry of a table; an unknown name fails, naming the catalog file. */
export function catalogTable(name: string): CatalogTable {
  const t = CATALOG.find((x) => x.name === name);
  if (!t) throw new Error(`table ${name} is not in the warehouse catalog (includes/catalog.js): declare it there once`);
  return t;
}

/** A table's columns as its producer writes them (a fresh copy, safe to change). */
export function tableSchema(name: string): ColumnSchema[] {
  return structuredClone(catalogTable(name).columns) as ColumnSchema[];
}

/**
 * Where a catalog table lives: its layer's dataset (from settings) in `database` (the GCP project;
 * dropped on DuckDB). The one place such a location is built.
 */
export function tableLocation(name: string, where: { settings: Settings; database: string }): Target {
  const t = catalogTable(name);
  return { database: where.database, schema: where.settings.datasets[t.layer], name: t.name };
}

/** The jobs that append to a shared history; undefined for any other table (or a name the catalog does not know). */
export function sharedHistoryWriters(name: string): readonly string[] | undefined {
  const t = CATALOG.find((x) => x.name === name);
  return t && "jobs" in t.producer ? t.producer.jobs : undefined;
}

/** Inputs: the tables `funnelcredit import` (or the user) loads. */
function sourceTables(): CatalogTable[] {
  return CATALOG.filter((t) => "import" in t.producer);
}

/**
 * The tables a run reads before anything may have written them, as empty tables to create when
 * missing: every input (sharded families: their empty shard) and every append-only job history.
 */
export function emptySourceTables(settings: Settings, database: string): EmptyTable[] {
  return [...sourceTables(), ...CATALOG.filter((t) => t.history)].map((t) => ({
    target: { database, schema: settings.datasets[t.layer], name: t.shards ? t.shards.empty : t.name },
    schema: t.columns,
    description: t.description,
    ...(t.shards ? { wildcard: { prefix: t.shards.prefix } } : {}),
  }));
}

/**
 * Create the inputs a user has not loaded and the job histories not written yet, empty with their
 * catalog schema, on any engine: a GA4-only (or CRM-only) warehouse still runs the whole DAG.
 * Returns the `dataset.table` names created.
 */
export async function ensureSourceTables(engine: Engine, settings: Settings, database = ""): Promise<string[]> {
  const moved = await moveReplacedTables(engine, settings, database);
  await renameOldValues(engine, settings, database);
  return [...moved, ...(await engine.createMissingTables(emptySourceTables(settings, database)))];
}

/** Each job's rows of a shared history that still carry an old word (pure): the condition, per `renamed` entry and column. */
function oldValuesConditions(renamed: readonly RenamedValues[]): { job: string; column: string; map: [string, string][]; where: string }[] {
  return renamed.flatMap((r) => Object.entries(r.values).map(([column, values]) => {
    const map = Object.entries(values);
    return { job: r.job, column, map, where: `job = ${sqlString(r.job)} AND ${column} IN (${map.map(([old]) => sqlString(old)).join(", ")})` };
  }));
}

/**
 * GoogleSQL rewriting the old words of a shared history in place (pure; tested): one UPDATE per job and
 * column, touching only that job's rows that carry an old word.
 */
export function renamedValuesStatements(target: Target, renamed: readonly RenamedValues[]): string[] {
  return oldValuesConditions(renamed).map(({ column, map, where }) =>
    `UPDATE ${qualified(target)} SET ${column} = CASE ${column} ${map.map(([a, b]) => `WHEN ${sqlString(a)} THEN ${sqlString(b)}`).join(" ")} ELSE ${column} END WHERE ${where}`);
}

/**
 * Before a run: rows a job wrote into a shared history under words since renamed (lead scoring's
 * test_roc_auc, now auc) are rewritten, so readers find every run's figures under one name. A count
 * first, so a warehouse with nothing to rewrite (every run after the first) gets no write.
 */
async function renameOldValues(engine: Engine, settings: Settings, database: string): Promise<void> {
  for (const t of CATALOG) {
    if (!t.renamed?.length) continue;
    const target = tableLocation(t.name, { settings, database });
    if ((await engine.describeTable(target))?.kind !== "table") continue;
    const conditions = oldValuesConditions(t.renamed);
    const [row] = await engine.query(`SELECT COUNT(*) AS n FROM ${qualified(target)} WHERE ${conditions.map((c) => `(${c.where})`).join(" OR ")}`);
    if (Number(row?.n ?? 0) === 0) continue;
    await engine.execute(renamedValuesStatements(target, t.renamed), { action: `rename old ${conditions.map((c) => `${c.job} ${c.column}`).join(", ")} values in ${t.name}` });
  }
}

/** One per-job table whose rows move into a shared history: where it is and which of its columns exist. */
interface ReplacedRows {
  from: ReplacedTable;
  target: Target;
  columns: readonly string[];
}

/**
 * GoogleSQL that creates a shared history from the per-job tables it replaced (pure; golden-tested):
 * drop what stands in its place (the UNION view that glued the per-job tables together before), then
 * create the table from their rows, each tagged with its job, a column the old table lacks as NULL,
 * old words of the vocabulary mapped (`values`). The old tables are left as they were (no data lost).
 * DuckDB runs the statements in one transaction; BigQuery runs them in order (no DDL in transactions):
 * if the CREATE fails there, the view is gone, the old tables are intact and the next run moves them.
 */
export function replacedTablesStatements(table: CatalogTable, target: Target, sources: readonly ReplacedRows[], dropView: boolean): string[] {
  const selects = sources.map(({ from, target: old, columns }) => {
    const have = new Set(columns.map((c) => c.toLowerCase()));
    const list = table.columns.map((c) => {
      const type = googleSqlType(c);
      if (c.name === "job") return `CAST(${sqlString(from.job)} AS ${type}) AS job`;
      if (!have.has(c.name.toLowerCase())) return `CAST(NULL AS ${type}) AS ${c.name}`;
      const mapped = Object.entries(from.values?.[c.name] ?? {});
      if (!mapped.length) return `CAST(${c.name} AS ${type}) AS ${c.name}`;
      return `CAST(CASE ${c.name} ${mapped.map(([a, b]) => `WHEN ${sqlString(a)} THEN ${sqlString(b)}`).join(" ")} ELSE ${c.name} END AS ${type}) AS ${c.name}`;
    });
    return `SELECT ${list.join(", ")} FROM ${qualified(old)}`;
  });
  return [
    ...(dropView ? [`DROP VIEW IF EXISTS ${qualified(target)}`] : []),
    ...(selects.length ? [`CREATE TABLE ${qualified(target)} AS\n${selects.join("\nUNION ALL\n")}`] : []),
  ];
}

/**
 * Before a run: a shared history that is not a table yet (missing, or the old UNION view in its place)
 * is created from the per-job tables it replaced, where those exist. Returns the `dataset.table` names
 * created this way (the others are created empty by createMissingTables).
 */
async function moveReplacedTables(engine: Engine, settings: Settings, database: string): Promise<string[]> {
  const moved: string[] = [];
  for (const t of CATALOG) {
    if (!t.replaces?.length) continue;
    const target = tableLocation(t.name, { settings, database });
    const shape = await engine.describeTable(target);
    if (shape?.kind === "table") continue;
    const sources: ReplacedRows[] = [];
    for (const from of t.replaces) {
      const old: Target = { database, schema: settings.datasets[t.layer], name: from.table };
      if ((await engine.describeTable(old))?.kind !== "table") continue;
      sources.push({ from, target: old, columns: (await engine.tableSchema(old)).map((c) => c.name) });
    }
    const statements = replacedTablesStatements(t, target, sources, shape?.kind === "view");
    if (!statements.length) continue;
    await engine.execute(statements, { action: `move ${sources.map((x) => x.from.table).join(", ")} into ${t.name}` });
    if (sources.length) moved.push(`${target.schema}.${target.name}`);
  }
  return moved;
}
