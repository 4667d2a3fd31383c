/**
 * ChannelAttribution's own example data (PathData, 10,000 rows) through import → channel_paths →
 * heuristics, channel Markov and Shapley, as a user compares results with that package.
 * Hand check: the file has Σ conversions 19,785 and Σ value 74,802.9715872109 (SOURCE.md); every
 * model must distribute exactly that, over the 12 channels.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { importCsvOrNdjson } from "../src/import/index.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject, SHARED_DATA } from "./support/warehouse.ts";

describe("ChannelAttribution path files (path_source = import)", function () {
  this.timeout(120_000);
  it("runs heuristics, channel Markov and Shapley on PathData and distributes exactly its totals", async () => {
    const project = await compiledProject({ path_source: "import" });
    const engine = await memoryEngine();
    try {
      await ensureSourceTables(engine, project.settings);
      await importCsvOrNdjson(engine.localLoading, "paths", path.join(SHARED_DATA, "channelattribution-pathdata", "PathData.csv"), { schema: project.settings.datasets.sources });
      const run = await runProject(project, engine, { selection: { actions: ["heuristic_channel_credit", "channel_markov", "shapley"], includeDependencies: true } });
      assertRunSucceeded(run);
      // Only the path models ran: nothing built from journeys.
      assert.ok(!run.actions.some((a) => a.action.endsWith(".sessions")));
      const ds = project.settings.datasets;
      const totals = await engine.queryNative(`
        SELECT model, SUM(conversions) AS c, SUM(value) AS v, COUNT(*) AS channels FROM "${ds.outputs}".heuristic_channel_credit GROUP BY model
        UNION ALL SELECT 'markov', SUM(conversions), SUM(value), COUNT(*) FROM "${ds.models}".markov_removal_effects
        UNION ALL SELECT 'shapley', SUM(conversions), SUM(value), COUNT(*) FROM "${ds.models}".shapley_channel_credit
        ORDER BY 1`);
      assert.deepEqual(totals.map((r) => r.model), ["first_touch", "last_touch", "linear", "markov", "shapley"]);
      for (const r of totals) {
        assert.ok(Math.abs(Number(r.c) - 19785) < 1e-6, `${r.model}: ${r.c} conversions`);
        assert.ok(Math.abs(Number(r.v) - 74802.9715872109) < 1e-4, `${r.model}: ${r.v} value`);
        assert.equal(Number(r.channels), 12, `${r.model}: channels`);
      }
      // Linear counts repeated touches separately: "iota > iota > iota > iota" gives iota 4 × 1/4.
      const [{ n }] = (await engine.queryNative(`SELECT COUNT(*) AS n FROM "${ds.outputs}".heuristic_channel_credit WHERE isnan(conversions)`)) as { n: number }[];
      assert.equal(Number(n), 0);
    } finally {
      await engine.close();
    }
  });
});
