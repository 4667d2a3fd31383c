/**
 * BigQuery's side of empty sources: the declared inputs a project has not loaded are created empty,
 * with their catalog schema, so a GA4-only project runs past staging (as on DuckDB). Built on the
 * engine's own calls; the DDL is plain GoogleSQL.
 */
import type { EmptyTable, Engine } from "../engine.ts";
import { qualified } from "../engine.ts";
import { googleSqlColumns } from "../../googlesql/ddl.ts";
import { sqlString } from "../../util/sql.ts";
import { TableListing } from "../table-listing.ts";

export async function createMissingTables(engine: Engine, tables: readonly EmptyTable[]): Promise<string[]> {
  // A sharded family (the GA4 export) is the GA4 link's to create, never ours: it may live in
  // another project (vars.ga4_project), and an empty shard would hide a wrong dataset setting.
  // A missing export is reported by the run (location check, "Not found").
  const wanted = tables.filter((t) => !t.wildcard);
  for (const t of wanted) await engine.ensureDataset(t.target.database, t.target.schema);
  // What exists from one tables.list per dataset, not a tables.get per source.
  const listing = new TableListing(engine);
  await listing.list(wanted.map((t) => t.target));
  const created: string[] = [];
  for (const t of wanted) {
    if (await listing.exists(t.target)) continue;
    const options = t.description ? ` OPTIONS (description = ${sqlString(t.description)})` : "";
    await engine.execute([`CREATE TABLE IF NOT EXISTS ${qualified(t.target)} (${googleSqlColumns(t.schema)})${options}`], { action: "create_missing_tables" });
    created.push(`${t.target.schema}.${t.target.name}`);
  }
  return created;
}
