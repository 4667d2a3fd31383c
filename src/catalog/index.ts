/**
 * The warehouse catalog (includes/catalog.js, shared with Dataform) as typed data, and what is
 * derived from it on the TypeScript side: table schemas, the one function that locates a table,
 * and the empty source tables every engine creates.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";
import type { ColumnSchema, EmptyTable, Engine, Target } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import { GA4_EVENTS_SCHEMA } from "./ga4-events.ts";
import { packageRoot } from "../util/package-root.ts";

/** A dataset (BigQuery) / schema (DuckDB) of the warehouse: a key of settings.datasets. */
export type Layer = keyof Settings["datasets"];

export type Producer =
  | { import: string }
  | { job: string }
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
  return tables.map((t) => Object.freeze({ ...t, columns: t.columns === "ga4_export" ? GA4_EVENTS_SCHEMA : Object.freeze(t.columns) }));
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
export function ensureSourceTables(engine: Engine, settings: Settings, database = ""): Promise<string[]> {
  return engine.createMissingTables(emptySourceTables(settings, database));
}
