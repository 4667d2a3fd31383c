/**
 * LookML for the reporting views, checked against the view contracts README.md documents (test/bi-contract.test.ts
 * checks the views against the same contract): every contract column is exactly one field of its view's file, with the
 * LookML type its GoogleSQL type calls for, numeric columns have a measure, and no field reads a column the contract
 * lacks. Then on a real warehouse file: `funnelcredit bi lookml` writes the same fields from the built views, and the
 * file opens read-only (as Metabase, Evidence or DuckDB's UI would) once the run has ended and released its lease.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { lookmlView, type BiView } from "../src/bi/lookml.ts";
import { PROJECT_DIR, compiledProject } from "./support/warehouse.ts";
import { parseReadmeContract, type ViewColumns } from "./support/readme-contract.ts";
import { runCli } from "./support/cli.ts";

/** What each GoogleSQL type must become in LookML (Looker's dimension types), written out independently of the generator. */
const EXPECTED: Record<string, { field: "dimension" | "dimension_group"; type: string; measure: boolean }> = {
  STRING: { field: "dimension", type: "string", measure: false },
  BOOL: { field: "dimension", type: "yesno", measure: false },
  INT64: { field: "dimension", type: "number", measure: true },
  FLOAT64: { field: "dimension", type: "number", measure: true },
  NUMERIC: { field: "dimension", type: "number", measure: true },
  DATE: { field: "dimension_group", type: "time", measure: false },
  TIMESTAMP: { field: "dimension_group", type: "time", measure: false },
};

interface Field { kind: string; name: string; type: string; sql: string }
/** The fields of a LookML view file: kind, name, type and sql of each block. */
function parseLookml(text: string): { view: string; table: string; fields: Field[] } {
  const view = /^view: (\w+) \{/m.exec(text)?.[1] ?? "";
  const table = /sql_table_name: `([^`]+)` ;;/.exec(text)?.[1] ?? "";
  const fields: Field[] = [];
  for (const m of text.matchAll(/^ {2}(dimension|dimension_group|measure): (\w+) \{\n([\s\S]*?)\n {2}\}/gm)) {
    fields.push({ kind: m[1]!, name: m[2]!, type: /type: (\w+)/.exec(m[3]!)?.[1] ?? "", sql: /sql: (.*) ;;/.exec(m[3]!)?.[1] ?? "" });
  }
  return { view, table, fields };
}

/** Every contract column against the file's fields. */
function checkAgainstContract(file: string, view: string, contract: ViewColumns[]): void {
  const { view: name, fields } = parseLookml(file);
  assert.equal(name, view);
  const columnOf = (f: Field) => /^\$\{TABLE\}\.(\w+)$/.exec(f.sql)?.[1];
  const readers = fields.filter((f) => f.kind !== "measure");
  for (const c of contract) {
    const want = EXPECTED[c.type];
    const reading = readers.filter((f) => columnOf(f) === c.name);
    if (!want) {
      assert.equal(reading.length, 0, `${view}.${c.name} (${c.type}) is nested: no plain field`);
      assert.match(file, new RegExp(`# ${c.name} .* is nested`));
      continue;
    }
    assert.equal(reading.length, 1, `${view}.${c.name}: one field reads it`);
    assert.equal(reading[0]!.kind, want.field, `${view}.${c.name}: ${c.type} is a ${want.field}`);
    assert.equal(reading[0]!.type, want.type, `${view}.${c.name}: ${c.type} is type ${want.type}`);
    const measures = fields.filter((f) => f.kind === "measure" && f.sql === `\${${reading[0]!.name}}`);
    assert.equal(measures.length, want.measure ? 1 : 0, `${view}.${c.name}: ${want.measure ? "a measure" : "no measure"}`);
  }
  for (const f of readers) assert.ok(contract.some((c) => c.name === columnOf(f)), `${view}: field ${f.name} reads ${f.sql}, not in the contract`);
}

describe("BI: LookML views generated from the reporting views", function () {
  this.timeout(900_000);
  const contracts = parseReadmeContract(readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8"));

  it("gives every documented column of every reporting view one field of the LookML type its contract type calls for", async () => {
    const project = await compiledProject({}, []);
    const views = project.graph.actions.filter((a) => a.kind === "view" && a.target.schema === project.settings.datasets.reporting);
    assert.ok(views.length >= 6);
    for (const v of views) {
      const contract = contracts.get(v.target.name);
      assert.ok(contract?.length, `${v.target.name} is documented`);
      const view: BiView = { name: v.target.name, sqlTableName: `p.${v.target.schema}.${v.target.name}`, description: v.description, columns: contract.map((c) => ({ ...c, description: v.columns?.[c.name] })) };
      checkAgainstContract(lookmlView(view), v.target.name, contract);
    }
  });

  it("writes the files from a built warehouse with `bi lookml`, and the warehouse opens read-only after the run", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-bi-"));
    try {
      const warehouse = path.join(dir, "warehouse.duckdb");
      const common = ["--warehouse", warehouse, "--artifacts", path.join(dir, "artifacts")];
      const demo = runCli(["demo", "--users", "300", "--days", "5", ...common]);
      assert.ok(existsSync(warehouse), demo.stderr);
      assert.ok(!existsSync(`${warehouse}.lease`), "the run released its lease");
      const out = path.join(dir, "lookml");
      const bi = runCli(["bi", "lookml", "--out", out, ...common]);
      assert.equal(bi.code, 0, bi.stderr);
      // One file per reporting view the run built (the small sample has too few leads to score: rpt_lead_scores is named as missing).
      const built = await DuckDBInstance.create(warehouse, { access_mode: "READ_ONLY" }).then(async (i) => {
        const c = await i.connect();
        const names = (await c.runAndReadAll("SELECT table_name FROM information_schema.tables WHERE table_schema = 'funnelcredit_reporting' ORDER BY 1")).getRowObjects().map((r) => String(r.table_name));
        c.closeSync();
        i.closeSync();
        return names;
      });
      assert.ok(built.includes("rpt_channel_credit_daily"), built.join(", "));
      const files = readdirSync(out).sort();
      assert.deepEqual(files, built.map((v) => `${v}.view.lkml`));
      for (const v of [...contracts.keys()].filter((x) => !built.includes(x))) assert.match(bi.stderr + bi.stdout, new RegExp(`not built yet, so no LookML: .*${v}`));
      for (const f of files) {
        const view = f.replace(".view.lkml", "");
        const text = readFileSync(path.join(out, f), "utf8");
        assert.equal(parseLookml(text).table, `funnelcredit-local.funnelcredit_reporting.${view}`);
        checkAgainstContract(text, view, contracts.get(view)!);
      }
      // What a BI tool does: open the file read-only and query a reporting view.
      const instance = await DuckDBInstance.create(warehouse, { access_mode: "READ_ONLY" });
      const conn = await instance.connect();
      const rows = (await conn.runAndReadAll("SELECT COUNT(*) AS n FROM funnelcredit_reporting.rpt_channel_credit_daily")).getRowObjects();
      assert.ok(Number(rows[0]!.n) > 0);
      await assert.rejects(conn.run("CREATE TABLE funnelcredit_reporting.x (a INT)"), /read-only/i);
      conn.closeSync();
      instance.closeSync();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
