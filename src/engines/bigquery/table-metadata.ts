/** What the engine reads of an existing table (tables.get): whether it exists, its kind and partitioning, its columns. */
import { EngineError, type ColumnSchema, type Target, type TableShape } from "../engine.ts";
import { fromWireSchema, type WireField } from "./values.ts";
import { CallFailed, toEngineError, type Ctx } from "./errors.ts";
import type { BigQueryParts } from "./parts.ts";

export async function tableExists({ bq, jobs }: BigQueryParts, target: Target): Promise<boolean> {
  const ctx: Ctx = { action: `tableExists ${target.schema}.${target.name}` };
  try {
    await jobs.call("tables.get", ctx, () => bq.dataset(target.schema, { projectId: target.database }).table(target.name).getMetadata());
    return true;
  } catch (err) {
    if (err instanceof CallFailed && err.failure.status === 404) return false;
    throw toEngineError(err, ctx, "tables.get");
  }
}

/** The fields of a table resource (tables.get) or of a tables.list entry that describeTable reads. */
interface ShapeFields {
  type?: string;
  timePartitioning?: { type?: string; field?: string };
  rangePartitioning?: { field?: string };
}

export async function describeTable({ bq, jobs }: BigQueryParts, target: Target): Promise<TableShape | undefined> {
  const ctx: Ctx = { action: `describeTable ${target.database}.${target.schema}.${target.name}` };
  let meta: ShapeFields;
  try {
    [meta] = await jobs.call("tables.get", ctx, () => bq.dataset(target.schema, { projectId: target.database }).table(target.name).getMetadata());
  } catch (err) {
    if (err instanceof CallFailed && err.failure.status === 404) return undefined;
    throw toEngineError(err, ctx, "tables.get");
  }
  return shapeOf(meta);
}

/**
 * describeTable of every table and view of a dataset from tables.list, page by page: each entry carries the table's
 * `type`, `timePartitioning` and `rangePartitioning` (https://cloud.google.com/bigquery/docs/reference/rest/v2/tables/list,
 * "Response body"). A missing dataset (404) has none. Without the permission to list (403: a custom role with
 * `bigquery.tables.get` but not `bigquery.tables.list`), undefined: the caller asks table by table, as before listing.
 */
export async function tableShapesIn({ bq, jobs }: BigQueryParts, database: string | undefined, schema: string): Promise<Map<string, TableShape> | undefined> {
  const ctx: Ctx = { action: `tableShapesIn ${database}.${schema}` };
  let tables: { id?: string; metadata?: ShapeFields & { tableReference?: { tableId?: string } } }[];
  try {
    [tables] = await jobs.call("tables.list", ctx, () => bq.dataset(schema, { projectId: database }).getTables({ autoPaginate: true }));
  } catch (err) {
    if (err instanceof CallFailed && err.failure.status === 404) return new Map();
    if (err instanceof CallFailed && err.failure.status === 403) return undefined;
    throw toEngineError(err, ctx, "tables.list");
  }
  return new Map(tables.map((t) => [t.metadata?.tableReference?.tableId ?? t.id ?? "", shapeOf(t.metadata ?? {})]));
}

/** tables.get / tables.list: type TABLE | VIEW | MATERIALIZED_VIEW | EXTERNAL | SNAPSHOT; only a view is replaced by CREATE OR REPLACE VIEW. */
function shapeOf(meta: ShapeFields): TableShape {
  const kind = meta.type === "VIEW" ? "view" : "table";
  const tp = meta.timePartitioning;
  const partitioning = tp ? `${(tp.type ?? "DAY").toUpperCase()}(${tp.field ?? "_PARTITIONTIME"})` : meta.rangePartitioning ? `RANGE(${meta.rangePartitioning.field})` : undefined;
  return { kind, ...(partitioning ? { partitioning } : {}) };
}

export async function tableSchema({ bq, jobs }: BigQueryParts, target: Target): Promise<ColumnSchema[]> {
  const where = `${target.database}.${target.schema}.${target.name}`;
  const ctx: Ctx = { action: `tableSchema ${where}` };
  let meta: { schema?: { fields?: WireField[] } };
  try {
    [meta] = await jobs.call("tables.get", ctx, () => bq.dataset(target.schema, { projectId: target.database }).table(target.name).getMetadata());
  } catch (err) {
    throw toEngineError(err, ctx, "tables.get");
  }
  return fromWireSchema(meta.schema?.fields ?? [], (path, type) => {
    throw new EngineError({
      engine: "bigquery",
      message: `column ${path} of ${where} has type ${type}, which funnelcredit does not read`,
      hint: "cast it in a staging model to STRING, INT64, FLOAT64, NUMERIC, BOOL, DATE, TIMESTAMP or JSON",
    });
  });
}
