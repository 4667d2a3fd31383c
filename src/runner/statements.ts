/**
 * GoogleSQL text for each action, built apart from running it (pure functions, golden-file tested).
 * Shapes follow Dataform's own BigQuery execution SQL (engine-feasibility.md §1.3); the DuckDB engine
 * translates them.
 */
import { qualified, type ColumnSchema, type TableShape, type Target } from "../engines/engine.ts";
import type { Action } from "../dag/graph.ts";
import { sqlString } from "../util/sql.ts";
export { scriptOf, scriptPart, splitScript } from "../googlesql/script.ts";

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
 * A `PARTITION BY` expression as the spec BigQuery reports for the table (tables.get timePartitioning /
 * rangePartitioning, as TableShape.partitioning): `event_date` and `DATE(ts)` → `DAY(event_date)` /
 * `DAY(ts)`, `TIMESTAMP_TRUNC(ts, HOUR)` → `HOUR(ts)`, `_PARTITIONDATE` → `DAY(_PARTITIONTIME)`,
 * `RANGE_BUCKET(x, …)` → `RANGE(x)`. undefined: no partitioning; null: a form it does not know (the
 * runner then never drops on partitioning grounds: BigQuery stays the judge).
 */
export function partitionSpec(partitionBy: string | undefined): string | null | undefined {
  const e = (partitionBy ?? "").replace(/`/g, "").replace(/\s+/g, " ").trim();
  if (!e) return undefined;
  const id = "([A-Za-z_][A-Za-z0-9_]*)";
  let m: RegExpExecArray | null;
  if (/^_PARTITION(DATE|TIME)$/i.test(e) || /^(DATE|TIMESTAMP_TRUNC) ?\( ?_PARTITIONTIME ?(, ?DAY ?)?\)$/i.test(e)) return "DAY(_PARTITIONTIME)";
  if ((m = new RegExp(`^${id}$`).exec(e))) return `DAY(${m[1]})`;
  if ((m = new RegExp(`^DATE ?\\( ?${id} ?\\)$`, "i").exec(e))) return `DAY(${m[1]})`;
  if ((m = new RegExp(`^(?:DATE|DATETIME|TIMESTAMP)_TRUNC ?\\( ?${id} ?, ?(HOUR|DAY|MONTH|YEAR) ?\\)$`, "i").exec(e))) return `${m[2]!.toUpperCase()}(${m[1]})`;
  if ((m = new RegExp(`^RANGE_BUCKET ?\\( ?${id} ?,`, "i").exec(e))) return `RANGE(${m[1]})`;
  return null;
}

/**
 * The kind of object to drop before an action creates `want` over `have`, or undefined. `CREATE OR
 * REPLACE` cannot replace a view by a table or back (BigQuery and DuckDB alike), nor, on BigQuery, a
 * table by one with another partitioning spec (compared only where the engine has real partitions).
 */
export function dropBeforeReplace(have: TableShape | undefined, want: { kind: "table" | "view"; partitionBy?: string }, comparePartitioning: boolean): "table" | "view" | undefined {
  if (!have) return undefined;
  if (have.kind !== want.kind) return have.kind;
  if (want.kind === "view" || !comparePartitioning) return undefined;
  const spec = partitionSpec(want.partitionBy);
  if (spec === null) return undefined;
  return (have.partitioning ?? undefined) !== spec ? "table" : undefined;
}

/** Dataform's own statement for the same case (`drop <type> if exists <target>`), in GoogleSQL. */
export function dropStatement(target: Target, kind: "table" | "view"): string {
  return `DROP ${kind === "view" ? "VIEW" : "TABLE"} IF EXISTS ${qualified(target)}`;
}

/**
 * What a job wrote to a shared history in one run, deleted before it writes again: a re-run (resume,
 * retry) replaces its own rows instead of adding a second copy, and never touches another job's rows.
 */
export function deleteJobRunRowsStatement(target: Target, job: string, runId: string): string {
  return `DELETE FROM ${qualified(target)} WHERE job = ${sqlString(job)} AND run_id = ${sqlString(runId)}`;
}
