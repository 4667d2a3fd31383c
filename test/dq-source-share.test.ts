/**
 * dq_sessions_without_source reports a share, not every direct session: 2 of 4 sessions without a
 * source is 50 % (not above the default 0.5: passes); 3 of 4 is 75 % (one warning row with the figures).
 */
import assert from "node:assert/strict";
import { compiledProject, fixtureTable, memoryEngine, runProject } from "./support/warehouse.ts";

describe("data quality: share of sessions without a source", function () {
  this.timeout(60_000);
  for (const [withoutSource, expected] of [[2, "succeeded"], [3, "warning"]] as const) {
    it(`${withoutSource} of 4 sessions without a source → ${expected}`, async () => {
      const project = await compiledProject();
      const engine = await memoryEngine();
      try {
        await fixtureTable(engine, project.settings.datasets.staging, "stg_ga4_sessions", { session_key: "VARCHAR", has_traffic_source: "BOOLEAN" },
          [1, 2, 3, 4].map((i) => [`s${i}`, i > withoutSource]));
        const run = await runProject(project, engine, { selection: { actions: ["dq_sessions_without_source"] } });
        const a = run.actions.find((x) => x.action.endsWith("dq_sessions_without_source"))!;
        assert.equal(a.status, expected, a.error ?? a.note);
        if (expected === "warning") assert.match(a.note!, /"sessions_without_source":3,"sessions":4,"share_without_source":0\.75/);
      } finally {
        await engine.close();
      }
    });
  }
});
