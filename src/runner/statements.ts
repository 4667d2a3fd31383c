/**
 * GoogleSQL text for each action, built apart from running it (pure functions, golden-file tested).
 * Shapes follow Dataform's own BigQuery execution SQL (engine-feasibility.md §1.3); the DuckDB engine
 * translates them.
 */
import { qualified, type ColumnSchema, type Target } from "../engines/engine.ts";
import type { Action } from "../compile/graph.ts";
export { scriptOf, scriptPart } from "../googlesql/script.ts";

const tick = (c: string): string => "`" + c + "`";

export function createTableStatement(a: Action, query: string): string {
  const parts = [`CREATE OR REPLACE TABLE ${qualified(a.target)}`];
  if (a.partitionBy) parts.push(`PARTITION BY ${a.partitionBy}`);
  if (a.clusterBy?.length) parts.push(`CLUSTER BY ${a.clusterBy.map(tick).join(", ")}`);
  if (a.description) parts.push(`OPTIONS(description=${JSON.stringify(a.description)})`);
  return `${parts.join("\n")}\nAS (\n${query.trim()}\n)`;
}

export function createViewStatement(a: Action, query: string): string {
  return `CREATE OR REPLACE VIEW ${qualified(a.target)} AS (\n${query.trim()}\n)`;
}

/**
 * Incremental update: MERGE on the unique key (updating changed rows: re-processed late data),
 * or a plain INSERT when there is no key. `columns` are the target's columns.
 */
export function incrementalStatement(a: Action, query: string, columns: string[]): string {
  const cols = columns.map(tick).join(", ");
  if (!a.uniqueKey?.length) {
    return `INSERT INTO ${qualified(a.target)} (${cols})\nSELECT ${cols} FROM (\n${query.trim()}\n) AS insertions`;
  }
  // Dataform's own aliases: short ones (T, S) can shadow a model's columns (ZetaSQL caught `S` vs `s`).
  const T = "DATAFORM_DEST";
  const S = "DATAFORM_SOURCE";
  const on = a.uniqueKey.map((k) => `${T}.${tick(k)} = ${S}.${tick(k)}`).join(" AND ");
  const filter = a.updatePartitionFilter ? ` AND ${T}.${a.updatePartitionFilter.trim()}` : "";
  const set = columns.filter((c) => !a.uniqueKey!.includes(c)).map((c) => `${tick(c)} = ${S}.${tick(c)}`).join(", ");
  return [
    `MERGE ${qualified(a.target)} ${T}`,
    `USING (\n${query.trim()}\n) ${S}`,
    `ON ${on}${filter}`,
    set ? `WHEN MATCHED THEN UPDATE SET ${set}` : "",
    `WHEN NOT MATCHED THEN INSERT (${cols}) VALUES (${columns.map((c) => `${S}.${tick(c)}`).join(", ")})`,
  ].filter(Boolean).join("\n");
}

/**
 * An empty table with a declared schema, created only when missing (run history up front: a load of
 * zero rows is no portable way to create a table).
 */
export function createEmptyTableStatement(target: Target, schema: ColumnSchema[]): string {
  const type = (c: ColumnSchema): string => {
    const base = c.type === "RECORD" ? `STRUCT<${(c.fields ?? []).map((f) => `${tick(f.name)} ${type(f)}`).join(", ")}>` : c.type;
    return c.mode === "REPEATED" ? `ARRAY<${base}>` : base;
  };
  const cols = schema.map((c) => `  ${tick(c.name)} ${type(c)}${c.description ? ` OPTIONS(description=${JSON.stringify(c.description)})` : ""}`);
  return `CREATE TABLE IF NOT EXISTS ${qualified(target)} (\n${cols.join(",\n")}\n)`;
}

/** An assertion passes when its query returns no rows. */
export function assertionCountQuery(query: string): string {
  return `SELECT COUNT(*) AS failing_rows FROM (\n${query.trim()}\n)`;
}

export function assertionSampleQuery(query: string, limit = 5): string {
  return `SELECT * FROM (\n${query.trim()}\n) LIMIT ${limit}`;
}

/**
 * Replace whole partitions (re-processing window of a date-partitioned table without a unique
 * key): delete the partitions the new rows cover, insert the rows — run as one atomic unit.
 */
export function replacePartitionsStatements(a: Action, query: string, columns: string[], partitionExpr: string): string[] {
  const cols = columns.map(tick).join(", ");
  return [
    `DELETE FROM ${qualified(a.target)} WHERE ${partitionExpr} IN (SELECT DISTINCT ${partitionExpr} FROM (\n${query.trim()}\n))`,
    `INSERT INTO ${qualified(a.target)} (${cols})\nSELECT ${cols} FROM (\n${query.trim()}\n) AS insertions`,
  ];
}
