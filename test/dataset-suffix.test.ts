/**
 * Dev/prod separation: vars.dataset_suffix (or `--dataset-suffix`) ends every dataset funnelcredit writes — every
 * model's, every job table's, run history's — while the inputs are read where they are.
 */
import assert from "node:assert/strict";
import { compiledProject, PROJECT_DIR } from "./support/warehouse.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { tableLocation } from "../src/catalog/index.ts";
import { parseVars } from "../src/cli/options.ts";
import { runCli } from "./support/cli.ts";

describe("dataset suffix (dev/prod separation)", function () {
  this.timeout(120_000);

  it("suffixes every dataset a model or job writes, and none it only reads", async () => {
    const dev = await compiledProject({ dataset_suffix: "dev" });
    const prod = await compiledProject({});
    const inputs = new Set([prod.settings.datasets.ga4, prod.settings.datasets.sources]);
    const prodByName = new Map(prod.graph.actions.map((a) => [a.name.split(".").pop()!, a]));
    let written = 0;
    for (const a of dev.graph.actions) {
      if (a.kind === "assertion") continue; // Dataform's assertion dataset: set per release (docs/deploy-gcp.md)
      const p = prodByName.get(a.name.split(".").pop()!);
      assert.ok(p, `${a.name} exists without the suffix`);
      if (a.kind === "declaration" && inputs.has(p.target.schema)) {
        assert.equal(a.target.schema, p.target.schema, `${a.name}: an input stays where it is`);
        continue;
      }
      assert.equal(a.target.schema, `${p.target.schema}_dev`, `${a.name}: ${a.target.schema}`);
      written++;
    }
    assert.ok(written > 40, `${written} actions`);
    // Tables jobs and the runner write (catalog locations) follow the same settings.
    const where = { settings: dev.settings, database: "p" };
    assert.equal(tableLocation("run_history", where).schema, `${prod.settings.datasets.meta}_dev`);
    assert.equal(tableLocation("model_metrics", where).schema, `${prod.settings.datasets.models}_dev`);
    assert.equal(tableLocation("crm_transactions", where).schema, prod.settings.datasets.sources);
  });

  it("refuses a suffix that is no part of a dataset name, naming the var", () => {
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { dataset_suffix: "dev-1" }), /vars\.dataset_suffix = "dev-1": expected letters, digits and underscores/);
  });

  it("--dataset-suffix is the var, and a disagreeing --vars is refused", () => {
    assert.deepEqual(parseVars({ vars: ["lookback_days=30"], "dataset-suffix": "dev" }), { lookback_days: "30", dataset_suffix: "dev" });
    assert.throws(() => parseVars({ vars: ["dataset_suffix=prod"], "dataset-suffix": "dev" }), /--dataset-suffix dev and --vars dataset_suffix=prod disagree/);
  });

  it("the compile command prints suffixed targets with --dataset-suffix", () => {
    const r = runCli(["compile", "--dataset-suffix", "ci"]);
    assert.equal(r.code, 0, r.stderr);
    const graph = JSON.parse(r.stdout) as { actions: { name: string; target: { schema: string } }[] };
    const sessions = graph.actions.find((a) => a.name.endsWith(".sessions"))!;
    assert.equal(sessions.target.schema, "funnelcredit_intermediate_ci");
  });
});
