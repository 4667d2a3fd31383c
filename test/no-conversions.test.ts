/**
 * A GA4 export without purchases (the shared real sample: 700 events, no purchase event) through the
 * whole project: the models that need conversions are skipped with the reason, the run succeeds, and
 * the report says there is nothing to attribute instead of showing models in perfect agreement.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, readFileSync } from "node:fs";
import { compiledProject, memoryEngine, runProject, SHARED_DATA } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { importGa4 } from "../src/import/ga4.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { writeRunReport } from "../src/report/write.ts";
import { formatSummary } from "../src/runner/summary.ts";

describe("a GA4 export without conversions", function () {
  this.timeout(300_000);
  let engine: DuckDBEngine;
  before(async () => { engine = await memoryEngine(); });
  after(async () => { await engine?.close(); });

  it("skips the models that need conversions with the reason, succeeds, and the report says there is nothing to attribute", async () => {
    const project = await compiledProject();
    const r = await importGa4(engine.localLoading, [path.join(SHARED_DATA, "ga4-obfuscated-sample-ecommerce", "ga4_events_sample.ndjson")], { schema: project.settings.datasets.ga4 });
    assert.equal(r.rows, 700);
    await ensureSourceTables(engine, project.settings);
    const run = await runProject(project, engine, { fullRefresh: true, runId: "no-conversions" });
    const [tx] = await engine.queryNative(`SELECT COUNT(*) AS n FROM "${project.settings.datasets.intermediate}".transactions`);
    assert.equal(Number(tx!.n), 0, "the sample has no purchase");

    assert.deepEqual(run.actions.filter((a) => a.status === "failed").map((a) => `${a.action}: ${a.error}`), []);
    assert.equal(run.status, "succeeded");
    const ml = run.actions.find((a) => a.action === "ml_attribution")!;
    assert.equal(ml.status, "skipped");
    assert.match(ml.note!, /no conversions in ml_journey_features .*nothing to attribute/);
    const comparison = run.actions.find((a) => a.action === "model_comparison")!;
    assert.equal(comparison.status, "skipped");
    assert.match(comparison.note!, /no conversions credited by any model/);
    const [agree] = await engine.queryNative(`SELECT COUNT(*) AS n FROM "${project.settings.datasets.outputs}".model_agreement`);
    assert.equal(Number(agree!.n), 0, "no agreement claimed between models that credited nothing");
    assert.match(formatSummary(run), /SUCCEEDED/);

    const store = new LocalArtifactStore(mkdtempSync(path.join(os.tmpdir(), "fc-noconv-")));
    const file = await writeRunReport(engine, project.settings, run, store, { database: project.graph.projectConfig.defaultDatabase });
    const html = readFileSync(file, "utf8");
    assert.match(html, /Nothing to attribute: no conversions credited by any model/);
    assert.doesNotMatch(html, /Do the models agree on the top 3 channels/);
  });
});
