/**
 * The in-process Dataform compile (src/compile/dataform-core.ts) against the Dataform CLI it replaces: the same
 * graph, byte for byte as JSON, on this project (with and without vars and a default database) and on a small project
 * using what this one does not (publish() in a .js definition, actions.yaml with a .sql operation, a package required
 * from a definition); the same compilation errors on a broken one.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compileDataform, DATAFORM_COMPILER_ENV, type DataformCompiled } from "../src/compile/compile.ts";
import { CompileError } from "../src/util/errors.ts";
import { copyCompilableProject, linkNodeModules } from "./support/project-copy.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";

/** Compile with the given compiler; a compilation error comes back as its errors (message and file). */
async function compileWith(compiler: "cli" | "in-process", projectDir: string, opts: { vars?: Record<string, string>; defaultDatabase?: string } = {}): Promise<string> {
  const before = process.env[DATAFORM_COMPILER_ENV];
  process.env[DATAFORM_COMPILER_ENV] = compiler;
  try {
    return JSON.stringify(await compileDataform({ projectDir, ...opts }));
  } catch (e) {
    if (e instanceof CompileError) return `CompileError ${e.message}`;
    throw e;
  } finally {
    if (before === undefined) delete process.env[DATAFORM_COMPILER_ENV];
    else process.env[DATAFORM_COMPILER_ENV] = before;
  }
}

async function assertSameGraph(projectDir: string, opts: { vars?: Record<string, string>; defaultDatabase?: string } = {}): Promise<DataformCompiled> {
  const cli = await compileWith("cli", projectDir, opts);
  const inProcess = await compileWith("in-process", projectDir, opts);
  if (inProcess !== cli) {
    const i = [...inProcess].findIndex((c, k) => c !== cli[k]);
    assert.fail(`the graphs differ at character ${i}:\n in process: …${inProcess.slice(Math.max(0, i - 150), i + 150)}…\n CLI:        …${cli.slice(Math.max(0, i - 150), i + 150)}…`);
  }
  assert.ok(!inProcess.startsWith("CompileError"), inProcess);
  return JSON.parse(inProcess) as DataformCompiled;
}

/** A project of the given files (paths relative to it), with this one's package.json and node_modules linked. */
function smallProject(name: string, files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fc-df-core-${name}-`));
  cpSync(path.join(PROJECT_DIR, "package.json"), path.join(dir, "package.json"));
  linkNodeModules(dir);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

describe("Dataform compile in process = the Dataform CLI", function () {
  this.timeout(180_000);
  let project: string;
  before(() => {
    project = mkdtempSync(path.join(os.tmpdir(), "fc-df-core-"));
    copyCompilableProject(project);
  });

  it("compiles this project to the CLI's graph, and with vars (commas, quotes, unicode) and a default database", async () => {
    const plain = await assertSameGraph(project);
    assert.ok((plain.tables?.length ?? 0) > 40, "the project's tables are in the graph");
    const vars = { start_date: "20240201", excluded_sources: JSON.stringify(["(direct) / (none)", "x'; -- é"]) };
    const varied = await assertSameGraph(project, { vars, defaultDatabase: "prod-project" });
    assert.equal(varied.projectConfig.defaultDatabase, "prod-project");
    assert.notEqual(JSON.stringify(varied.tables), JSON.stringify(plain.tables), "the vars reached the SQL");
  });

  it("compiles publish() in a .js definition, an actions.yaml operation and a required package the same way", async () => {
    const dir = smallProject("small", {
      "workflow_settings.yaml": "defaultProject: p\ndefaultDataset: d\ndefaultLocation: EU\nvars:\n  n: \"3\"\n",
      "includes/consts.js": "const tiny = require('tiny-consts');\nmodule.exports = { names: ['a', 'b'], parsed: tiny.k };\n",
      "definitions/base.sqlx": 'config { type: "table", tags: ["t"], bigquery: { partitionBy: "d" } }\nSELECT ${consts.parsed} AS k, CURRENT_DATE() AS d, ${dataform.projectConfig.vars.n} AS n\n',
      "definitions/sub/many.js": 'consts.names.forEach((n) => publish(`p_${n}`, { type: "view" }).query((ctx) => `SELECT * FROM ${ctx.ref("base")} WHERE k > 0`));\n',
      "definitions/actions.yaml": "actions:\n- operation:\n    filename: op.sql\n    dependencyTargets:\n    - name: base\n",
      "definitions/op.sql": "DELETE FROM d.base WHERE FALSE\n",
      // a package installed in the project (a real folder, as npm ci leaves it)
      "node_modules/tiny-consts/package.json": '{"name":"tiny-consts","main":"main.js"}',
      "node_modules/tiny-consts/main.js": "module.exports = { k: require('./seven') };\n",
      "node_modules/tiny-consts/seven.js": "module.exports = 7;\n",
    });
    const g = await assertSameGraph(dir);
    assert.deepEqual((g.tables ?? []).map((t) => t.target.name).sort(), ["base", "p_a", "p_b"]);
    assert.equal(g.operations?.length, 1);
  });

  it("reports the same compilation errors (an unresolved ref, a throwing include, a package linked from outside the project, a builtin) as the CLI", async () => {
    const dir = smallProject("bad", {
      "workflow_settings.yaml": "defaultProject: p\ndefaultDataset: d\ndefaultLocation: EU\n",
      "includes/bad.js": "throw new Error('include broke');\n",
      "includes/linked.js": "module.exports = require('yaml');\n",
      "includes/builtin.js": "module.exports = require('fs');\n",
      "definitions/a.sqlx": 'config { type: "view" }\nSELECT * FROM ${ref("missing_table")}\n',
    });
    const cli = await compileWith("cli", dir);
    const inProcess = await compileWith("in-process", dir);
    assert.match(cli, /^CompileError /);
    // One difference: where the CLI's worker names the unresolved ref's file index.js (vm2 hides the frame of the
    // definition that called ref()), core names the definition here.
    assert.match(inProcess, /definitions\/a\.sqlx:2: Could not resolve "missing_table"/);
    assert.equal(inProcess.replace('definitions/a.sqlx:2: Could not resolve', 'index.js: Could not resolve'), cli);
    assert.match(inProcess, /include broke/);
    assert.match(inProcess, /Cannot find module 'yaml'/);
    assert.match(inProcess, /Cannot find module 'fs'/);
    assert.match(inProcess, /missing_table/);
  });
});
