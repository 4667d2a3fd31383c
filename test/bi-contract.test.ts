/**
 * The BI contract: the columns of every `reporting` view are what README.md documents. The views
 * are compiled from the real project and run on an in-memory DuckDB over empty upstream tables of
 * the contract shapes (test/report-fixtures.ts), and analyzed by ZetaSQL (BigQuery's analyzer)
 * for the types BigQuery will report. A column renamed, retyped, added or dropped fails here
 * until the README's table changes with it.
 *
 * After an intended change: `UPDATE_README=1 npx mocha test/bi-contract.test.ts` rewrites the
 * section between <!-- output-tables:start --> and <!-- output-tables:end -->; review the diff.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Action } from "../src/dag/graph.ts";
import type { Project } from "../src/compile/project.ts";
import type { ColumnSchema } from "../src/engines/engine.ts";
import { RUN_HISTORY_SCHEMA } from "../src/runner/run-record.ts";
import { createViewStatement } from "../src/runner/statements.ts";
import { PROJECT_DIR, compiledProject, memoryEngine } from "./support/warehouse.ts";
import { startZetaSQL, type ZetaColumn, type ZetaSQL } from "./support/zetasql.ts";
import { SCHEMAS } from "./report-fixtures.ts";
import { CATALOG, tableSchema } from "../src/catalog/index.ts";
import { END, START, parseReadmeContract, type ViewColumns } from "./support/readme-contract.ts";

const README = path.join(PROJECT_DIR, "README.md");

/** Contract shapes of what the views read, by table name (SQLX outputs the catalog describes: their catalog columns). */
const UPSTREAM: Record<string, ColumnSchema[]> = {
  ...SCHEMAS,
  run_history: RUN_HISTORY_SCHEMA,
  ...Object.fromEntries(CATALOG.filter((t) => "model" in t.producer).map((t) => [t.name, tableSchema(t.name)])),
};

interface ViewContract { view: string; columns: ViewColumns[] }

function typeOf(c: ColumnSchema): string {
  const base = c.type === "RECORD" ? `STRUCT<${(c.fields ?? []).map((f) => `\`${f.name}\` ${typeOf(f)}`).join(", ")}>` : c.type;
  return c.mode === "REPEATED" ? `ARRAY<${base}>` : base;
}

function reportingViews(project: Project): Action[] {
  return project.graph.actions
    .filter((a) => a.kind === "view" && a.target.schema === project.settings.datasets.reporting)
    .sort((a, b) => a.target.name.localeCompare(b.target.name));
}

function upstreamOf(project: Project, view: Action): Action[] {
  const byName = new Map(project.graph.actions.map((a) => [a.name, a]));
  return view.dependencies.map((d) => byName.get(d)!).filter(Boolean);
}

/** The README section for the views as they are (used with UPDATE_README=1). */
function renderReadmeSection(project: Project, views: Action[], contracts: ViewContract[]): string {
  const parts = [
    START,
    `Views for BI tools live in the \`<base>_reporting\` dataset (\`${project.settings.datasets.reporting}\` with the default settings); their column names and types are a contract checked by \`test/bi-contract.test.ts\`. Money columns are in the currency of \`vars.currency\`, named in each row's \`currency\` column. Timestamps are UTC.`,
    "",
  ];
  for (const v of views) {
    const contract = contracts.find((c) => c.view === v.target.name)!;
    const firstLine = readFileSync(path.join(PROJECT_DIR, v.fileName!), "utf8").split("\n")[0] ?? "";
    const grain = firstLine.replace(/^--\s*Grain:\s*/i, "").trim();
    parts.push(`### \`${v.target.name}\``, "", `${v.description ?? ""}`, "", `**Grain:** ${grain}`, "", "| column | type | meaning |", "|---|---|---|");
    for (const c of contract.columns) parts.push(`| \`${c.name}\` | ${c.type} | ${(v.columns?.[c.name] ?? "").replace(/\|/g, "\\|")} |`);
    parts.push("");
  }
  parts.push(END);
  return parts.join("\n");
}

describe("BI contract: reporting views match the README", function () {
  this.timeout(120_000);
  let project: Project;
  let views: Action[];
  let zeta: ZetaSQL;

  before(async () => {
    project = await compiledProject({}, []);
    views = reportingViews(project);
    zeta = await startZetaSQL();
  });
  after(async () => zeta?.stop());

  it("has one view per subject, each documenting every column and its grain", () => {
    assert.deepEqual(views.map((v) => v.target.name), [
      "rpt_assisted_conversions", "rpt_campaign_performance", "rpt_channel_credit_daily", "rpt_channel_performance", "rpt_conversion_paths",
      "rpt_lead_scores", "rpt_model_metrics", "rpt_path_length_distribution", "rpt_run_history", "rpt_segment_credit_daily",
      "rpt_session_credit", "rpt_time_lag_distribution", "rpt_transaction_credit",
    ]);
    for (const v of views) {
      assert.match(readFileSync(path.join(PROJECT_DIR, v.fileName!), "utf8").split("\n")[0]!, /^-- Grain: one row per /, `${v.fileName}: first line states the grain`);
      assert.ok(v.description, `${v.fileName}: config needs a description`);
    }
  });

  it("gives each view the columns and types README.md documents (run on DuckDB, analyzed as BigQuery SQL)", async () => {
    const engine = await memoryEngine();
    const contracts: ViewContract[] = [];
    try {
      const catalog: Record<string, ZetaColumn[]> = {};
      for (const v of views) {
        for (const up of upstreamOf(project, v)) {
          const schema = UPSTREAM[up.target.name];
          assert.ok(schema, `${v.name} reads ${up.name}: add its contract shape to this test`);
          if (!(await engine.tableExists(up.target))) await engine.writeRows(up.target, schema, [], { mode: "replace" });
          catalog[`${up.target.database}.${up.target.schema}.${up.target.name}`] = schema.map((c) => ({ name: c.name, type: typeOf(c) }));
        }
        await engine.ensureDataset(v.target.database, v.target.schema);
        await engine.execute([createViewStatement(v, v.query!)], { action: v.name });
        const duck = await engine.tableSchema(v.target);
        const zetaResult = await zeta.analyze(v.query!, { tables: catalog });
        assert.ok(zetaResult.ok, `${v.name} is not valid BigQuery SQL: ${zetaResult.ok ? "" : zetaResult.error}`);
        // BigQuery's types (ZetaSQL) are the contract; DuckDB must agree on names and types.
        const columns = zetaResult.columns.map((c) => ({ name: c.name, type: c.type === "DOUBLE" ? "FLOAT64" : c.type }));
        assert.deepEqual(duck.map((c) => ({ name: c.name, type: c.type })), columns, `${v.name}: DuckDB and BigQuery disagree on the columns`);
        for (const c of columns) assert.ok(v.columns?.[c.name], `${v.fileName}: column ${c.name} has no description in config.columns`);
        contracts.push({ view: v.target.name, columns });
      }
      // The view query runs, not only binds: select from each (empty upstream → no rows).
      for (const v of views) assert.deepEqual(await engine.query(`SELECT * FROM \`${v.target.database}.${v.target.schema}.${v.target.name}\``), []);
    } finally {
      await engine.close();
    }

    const readme = readFileSync(README, "utf8");
    if (process.env.UPDATE_README) {
      const start = readme.indexOf(START);
      const end = readme.indexOf(END) + END.length;
      writeFileSync(README, readme.slice(0, start) + renderReadmeSection(project, views, contracts) + readme.slice(end));
    }
    const documented = parseReadmeContract(readFileSync(README, "utf8"));
    assert.deepEqual([...documented.keys()].sort(), contracts.map((c) => c.view).sort(), "README documents exactly the reporting views");
    for (const c of contracts) {
      assert.deepEqual(documented.get(c.view), c.columns, `README.md's table for ${c.view} is out of date (UPDATE_README=1 regenerates it)`);
    }
  });
});
