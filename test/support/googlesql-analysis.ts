/**
 * The ZetaSQL check of a compiled project, shared by the tests that run it (test/warehouse-googlesql.test.ts,
 * test/googlesql-all-layers.test.ts): each model's query is resolved against a catalog of the declared source
 * schemas plus the output schemas of the models before it (propagated in DAG order), then the full statement the
 * runner sends (CREATE OR REPLACE TABLE … AS, the incremental DELETE + INSERT with its DECLARE'd variable registered
 * as a constant, assertion queries). A support module, not a test file: a test file imported by another registers
 * its tests a second time in the importing file's mocha worker, so the suite's count depended on which worker ran
 * which file first (1,088–1,092 tests in otherwise equal runs).
 */
import type { Project } from "../../src/compile/project.ts";
import { topoLevels, select } from "../../src/dag/dag.ts";
import type { ColumnSchema } from "../../src/engines/engine.ts";
import { GA4_EVENTS_SCHEMA } from "../../src/import/ga4-schema.ts";
import type { ZetaColumn, ZetaSQL } from "./zetasql.ts";
import { createTableStatement, createViewStatement, incrementalStatement, splitScript } from "../../src/runner/statements.ts";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function typeOf(c: ColumnSchema): string {
  const base = c.type === "RECORD" ? `STRUCT<${(c.fields ?? []).map((f) => `\`${f.name}\` ${typeOf(f)}`).join(", ")}>` : c.type;
  return c.mode === "REPEATED" ? `ARRAY<${base}>` : base;
}

const S = "STRING";
/** Source tables as documented in definitions/sources/sources.js (types as the importers create them). */
const SOURCE_COLUMNS: Record<string, [string, string][]> = {
  crm_transactions: [["transaction_id", S], ["user_id", S], ["client_id", S], ["transaction_created", "TIMESTAMP"], ["transaction_status", S], ["transaction_revenue", "FLOAT64"], ["transaction_region", S]],
  custom_events: ["name", "category", "time", "user_id", "client_id", "transaction_id", "revenue", "cost", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "geo_region"].map((n) => [n, S]),
  costs: [["date", "DATE"], ["source", S], ["medium", S], ["campaign", S], ["cost", "FLOAT64"], ["clicks", "INT64"], ["impressions", "INT64"]],
  leads: [["lead_id", S], ["created_at", "TIMESTAMP"], ["converted", "BOOL"]],
  channel_paths_import: [["path", S], ["total_conversions", "FLOAT64"], ["total_conversion_value", "FLOAT64"], ["total_null", "FLOAT64"]],
};

export interface AnalyzeOptions {
  /** Schemas of tables no model builds (job outputs), by table name. */
  extraTables?: Record<string, ZetaColumn[]>;
  /** Analyze every layer, not only the warehouse layer of this file. */
  allLayers?: boolean;
}

export async function analyzeProject(zeta: ZetaSQL, project: Project, opts: AnalyzeOptions = {}): Promise<{ errors: string[]; analyzed: number }> {
  const graph = project.graph;
  const full = (t: { database: string; schema: string; name: string }) => `${t.database}.${t.schema}.${t.name}`;
  const tables: Record<string, ZetaColumn[]> = {};
  for (const a of graph.actions.filter((x) => x.kind === "declaration")) {
    if (a.target.name === "events_*") tables[full(a.target)] = GA4_EVENTS_SCHEMA.map((c) => ({ name: c.name, type: typeOf(c) }));
    else if (opts.extraTables?.[a.target.name]) tables[full(a.target)] = opts.extraTables[a.target.name]!;
    else if (SOURCE_COLUMNS[a.target.name]) tables[full(a.target)] = SOURCE_COLUMNS[a.target.name]!.map(([name, type]) => ({ name, type }));
  }
  const errors: string[] = [];
  let analyzed = 0;
  const byName = new Map(graph.actions.map((a) => [a.name, a]));
  const names = select(graph, {});
  // The warehouse layer of this test: sources → staging → identity → funnel → aggregates (+ its assertions).
  // Later layers (attribution, reporting) read tables jobs write and are checked by their own tests.
  const mine = (a: { fileName?: string; parentAction?: string }): boolean => {
    const file = a.fileName ?? (a.parentAction ? byName.get(a.parentAction)?.fileName : undefined) ?? "";
    return opts.allLayers ? file.startsWith("definitions/") : /^definitions\/(sources|staging|identity|funnel|aggregates|assertions)\//.test(file);
  };
  for (const level of topoLevels(graph, names)) {
    for (const name of level) {
      const a = byName.get(name)!;
      if (a.kind === "declaration" || a.kind === "job" || !a.query || !mine(a)) continue;
      analyzed++;
      // Script variables a model's pre-operations declare (its full-refresh query may read them too).
      const r = await zeta.analyze(a.query, { tables, constants: SCRIPT_VARIABLES });
      if (!r.ok) { errors.push(`${a.name}: ${r.error}`); continue; }
      if (a.kind === "assertion") continue;
      const columns = r.columns.map((c) => ({ name: c.name, type: c.type }));
      const statements = a.kind === "view" ? [createViewStatement(a, a.query)] : [createTableStatement(a, a.query)];
      if (a.kind === "incremental") {
        const q = a.incrementalQuery ?? a.query;
        const cols = columns.map((c) => c.name);
        statements.push(incrementalStatement(a, q, cols));
      }
      tables[full(a.target)] = columns;
      // Post-operations read the table just built (an incremental model's checks, includes/partitions.js).
      for (const op of [...(a.postOps ?? []), ...(a.incrementalPostOps ?? [])]) statements.push(...splitScript(op).filter((x) => x.trim()));
      for (const s of statements) {
        const rs = await zeta.analyze(s, { tables, constants: SCRIPT_VARIABLES });
        if (!rs.ok) errors.push(`${a.name} (statement ${s.slice(0, 40)}…): ${rs.error}`);
      }
    }
  }
  return { errors, analyzed };
}

/**
 * Variables the pre-operations DECLARE and queries read: stg_ga4_events' first day, includes/partitions.js' window
 * start, lead_web_behaviour's bound of final rows.
 */
const SCRIPT_VARIABLES = { first_table_suffix: "STRING", partition_window_start: "DATE", lead_final_before: "TIMESTAMP" };

