/**
 * Every compiled warehouse statement is valid GoogleSQL: ZetaSQL (the offline BigQuery analyzer)
 * resolves each model's query against a catalog of the declared source schemas plus the output
 * schemas of the models before it (propagated in DAG order), then the full statement the runner
 * sends (CREATE OR REPLACE TABLE … AS, the incremental DELETE + INSERT with its DECLARE'd
 * variable registered as a constant, assertion queries).
 */
import assert from "node:assert/strict";
import { loadProject } from "../src/compile/project.ts";
import { startZetaSQL, type ZetaSQL } from "./support/zetasql.ts";
import { PROJECT_DIR, analyzeProject } from "./support/googlesql-analysis.ts";

describe("warehouse models are valid GoogleSQL (ZetaSQL analyzer)", function () {
  this.timeout(120_000);
  let zeta: ZetaSQL;
  before(async () => { zeta = await startZetaSQL(); });
  after(async () => { await zeta?.stop(); });

  for (const vars of [{} as Record<string, string>, { path_source: "import", path_transform: "frequency" }, { path_transform: "first", excluded_sources: "[]", path_remove_channels: '["Direct"]' }]) {
    it(`analyzes every compiled model, incremental statement and assertion with vars ${JSON.stringify(vars)}`, async () => {
      const project = await loadProject(PROJECT_DIR, { vars, jobs: [] });
      const { errors, analyzed } = await analyzeProject(zeta, project);
      assert.deepEqual(errors, []);
      // 12 models + 6 data-quality assertions at least (built-in uniqueness assertions come on top).
      assert.ok(analyzed >= 18, `only ${analyzed} statements analyzed`);
    });
  }
});
