/**
 * Every compiled statement of every layer is valid GoogleSQL, including the SQL that reads what the
 * TypeScript jobs write (attribution, ML, leads, reporting). The jobs' output schemas are taken from
 * a real run on DuckDB (a small demo), mapped back to GoogleSQL types, so the catalog is what the
 * jobs actually write.
 */
import assert from "node:assert/strict";
import { generateDemo } from "../src/demo/generate.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import { startZetaSQL, type ZetaColumn, type ZetaSQL } from "./support/zetasql.ts";
import { analyzeProject } from "./support/googlesql-analysis.ts";

/** A DuckDB type as information_schema prints it → the GoogleSQL type the jobs mean by it. */
export function googleSqlType(duck: string): string {
  const t = duck.trim();
  if (t.endsWith("[]")) return `ARRAY<${googleSqlType(t.slice(0, -2))}>`;
  const struct = /^STRUCT\((.*)\)$/s.exec(t);
  if (struct) {
    const fields: string[] = [];
    let depth = 0;
    let cur = "";
    for (const ch of struct[1]!) {
      if (ch === "(") depth++;
      if (ch === ")") depth--;
      if (ch === "," && depth === 0) { fields.push(cur); cur = ""; } else cur += ch;
    }
    fields.push(cur);
    return `STRUCT<${fields.map((f) => {
      const m = /^\s*"?([^"\s]+)"?\s+(.*)$/s.exec(f)!;
      return `\`${m[1]}\` ${googleSqlType(m[2]!)}`;
    }).join(", ")}>`;
  }
  if (/^(BIGINT|INTEGER|HUGEINT|SMALLINT)$/.test(t)) return "INT64";
  if (/^(DOUBLE|FLOAT|REAL)$/.test(t) || t.startsWith("DECIMAL")) return "FLOAT64";
  if (t === "BOOLEAN") return "BOOL";
  if (t === "DATE") return "DATE";
  if (t.startsWith("TIMESTAMP")) return "TIMESTAMP";
  return "STRING";
}

describe("every layer is valid GoogleSQL (ZetaSQL analyzer, job outputs from a real run)", function () {
  this.timeout(300_000);
  let zeta: ZetaSQL;
  before(async () => { zeta = await startZetaSQL(); });
  after(async () => { await zeta?.stop(); });

  it("analyzes every compiled model, view and assertion of the project", async () => {
    const project = await compiledProject({ ml_min_auc: "0", lead_label_maturity_days: "0" });
    const engine = await memoryEngine();
    const extraTables: Record<string, ZetaColumn[]> = {};
    try {
      const ds = project.settings.datasets;
      await generateDemo(engine.localLoading, { users: 4000, days: 21, seed: 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await ensureSourceTables(engine, project.settings);
      assertRunSucceeded(await runProject(project, engine, { fullRefresh: true }));
      for (const a of project.graph.actions.filter((x) => x.kind === "declaration" && !x.target.name.endsWith("*"))) {
        const cols = await engine.tableSchema(a.target);
        const raw = await engine.queryNative(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '${a.target.schema}' AND table_name = '${a.target.name}' ORDER BY ordinal_position`);
        if (cols.length) extraTables[a.target.name] = raw.map((r) => ({ name: String(r.column_name), type: googleSqlType(String(r.data_type)) }));
      }
    } finally {
      await engine.close();
    }
    const { errors, analyzed } = await analyzeProject(zeta, project, { extraTables, allLayers: true });
    assert.deepEqual(errors, []);
    assert.ok(analyzed >= 60, `only ${analyzed} statements analyzed`);
  });
});
