/**
 * Pipeline credit: open leads' calibrated probability × expected deal value, shared over the sessions
 * that brought each lead, per channel and campaign. Hand-computed rules, then the job on the demo
 * sample (DuckDB pipeline): the credit sums to the expected pipeline value.
 */
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { compiledProject, memoryEngine, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { pipelineCredit, touchShares, NO_TOUCH_CHANNEL, type LeadTouch, type TouchRuleOptions } from "../src/models/pipeline-credit.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";
import { startZetaSQL } from "./support/zetasql.ts";
import { leadTouchesSql } from "../jobs/pipeline-credit.ts";

const DAY = 86_400_000;
const opts: TouchRuleOptions = {
  nonDirectExcludedChannels: ["Direct"], timeDecayMode: "continuous", timeDecayHalfLifeDays: 7, timeDecayStepDays: 7, positionBasedWeights: [0.4, 0.2, 0.4],
};
const created = 100 * DAY;
// Four touches 21, 14, 7 and 0 days before the lead: Email (spring), Paid Search (brand), Referral, Direct.
const touches: LeadTouch[] = [
  { channel: "Email", campaign: "spring", at: created - 21 * DAY },
  { channel: "Paid Search", campaign: "brand", at: created - 14 * DAY },
  { channel: "Referral", campaign: null, at: created - 7 * DAY },
  { channel: "Direct", campaign: null, at: created },
];

describe("pipeline credit rules", () => {
  it("shares a lead over its touches as the heuristic models do", () => {
    const shares = (m: Parameters<typeof touchShares>[0]) => Array.from(touchShares(m, touches, created, opts));
    assert.deepEqual(shares("first_touch"), [1, 0, 0, 0]);
    assert.deepEqual(shares("last_touch"), [0, 0, 0, 1]);
    assert.deepEqual(shares("last_non_direct"), [0, 0, 1, 0], "Direct is skipped");
    assert.deepEqual(shares("linear"), [0.25, 0.25, 0.25, 0.25]);
    // Position based: 0.4 first, 0.4 last, 0.2 over the 2 in between.
    assert.deepEqual(shares("position_based"), [0.4, 0.1, 0.1, 0.4]);
    // Time decay, half-life 7 days: weights 1/8, 1/4, 1/2, 1 → /(15/8) = 1/15, 2/15, 4/15, 8/15.
    shares("time_decay").forEach((s, i) => assert.ok(Math.abs(s - [1, 2, 4, 8][i]! / 15) < 1e-15));
    assert.deepEqual(Array.from(touchShares("position_based", touches.slice(0, 2), created, opts)), [0.5, 0.5]);
    assert.deepEqual(Array.from(touchShares("last_non_direct", [touches[3]!], created, opts)), [1], "all Direct: the last touch");
  });

  it("credits probability × deal value per channel and campaign, keeping leads without a web touch", () => {
    // Lead A: p 0.5, value 1000, the four touches, linear → 125 to each touch's channel/campaign.
    // Lead B: p 0.2, value 500, no session → 100 to "(no web touch)".
    // Lead C: p 0.1, value 300, one Email/spring touch → 30 there (Email/spring: 125 + 30 = 155).
    const rows = pipelineCredit([
      { leadId: "A", probability: 0.5, dealValue: 1000, createdAt: created, touches },
      { leadId: "B", probability: 0.2, dealValue: 500, createdAt: created, touches: [] },
      { leadId: "C", probability: 0.1, dealValue: 300, createdAt: created, touches: [touches[0]!] },
    ], "linear", opts);
    assert.deepEqual(rows.map((r) => [r.channel, r.campaign, r.open_leads, r.pipeline_value]), [
      [NO_TOUCH_CHANNEL, "(not set)", 1, 100],
      ["Direct", "(not set)", 0.25, 125],
      ["Email", "spring", 1.25, 155],
      ["Paid Search", "brand", 0.25, 125],
      ["Referral", "(not set)", 0.25, 125],
    ]);
    const email = rows.find((r) => r.channel === "Email")!;
    assert.ok(Math.abs(email.expected_conversions - (0.25 * 0.5 + 0.1)) < 1e-15);
  });

  it("has the settings pipeline_attribution_model, lead_deal_value_column and lead_default_deal_value, each checked", () => {
    const s = loadProjectSettings(PROJECT_DIR).settings;
    assert.deepEqual([s.pipelineAttributionModel, s.leadDealValueColumn, s.leadDefaultDealValue], ["position_based", "", 1]);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { pipeline_attribution_model: "markov" }), /vars\.pipeline_attribution_model = "markov": expected "first_touch", /);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { lead_deal_value_column: "deal value" }), /vars\.lead_deal_value_column = "deal value": expected "" or a snake_case column name/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { lead_default_deal_value: "-5" }), /vars\.lead_default_deal_value = "-5": expected a number from 0/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { lead_challenger_tolerance: "2" }), /vars\.lead_challenger_tolerance = "2": expected a number from 0 to 1/);
  });
});

describe("pipeline_credit job's read", function () {
  this.timeout(120_000);
  it("is GoogleSQL BigQuery accepts (ZetaSQL analyzer), with and without a deal-value column", async () => {
    const zeta = await startZetaSQL();
    try {
      const c = (name: string, type: string) => ({ name, type });
      const tables = {
        "p.o.lead_scores": [c("lead_id", "STRING"), c("score", "INT64"), c("probability", "FLOAT64")],
        "p.i.lead_features": [c("lead_id", "STRING"), c("created_at", "TIMESTAMP"), c("user_id", "STRING"), c("client_id", "STRING"), c("deal_value", "FLOAT64")],
        "p.o.sessions": [c("session_key", "STRING"), c("session_start_at", "TIMESTAMP"), c("channel", "STRING"), c("campaign", "STRING"), c("user_id", "STRING"), c("client_id", "STRING")],
      };
      const ref = { leadScores: "`p.o.lead_scores`", leadFeatures: "`p.i.lead_features`", sessions: "`p.o.sessions`" };
      for (const deal of ["", "deal_value"]) {
        const r = await zeta.analyze(leadTouchesSql(ref, 90, deal), { tables });
        assert.ok(r.ok, r.ok ? "" : r.error);
        assert.deepEqual(r.columns.map((x) => x.name), ["lead_id", "probability", "deal_value", "created_at", "session_key", "session_start_at", "channel", "campaign"]);
      }
    } finally {
      await zeta.stop();
    }
  });
});

describe("pipeline_credit job on the demo sample (DuckDB pipeline)", function () {
  this.timeout(600_000);
  it("sums to the expected pipeline value of the open leads (Σ probability × deal value)", async () => {
    const project = await compiledProject({ lead_max_rounds: "40", lead_deal_value_column: "deal_value", lead_default_deal_value: "250" });
    const engine = await memoryEngine();
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-pipeline-"));
    try {
      const ds = project.settings.datasets;
      await generateDemo(engine.localLoading, { users: 4000, days: 21, seed: 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await ensureSourceTables(engine, project.settings);
      // Deal values: a thousand per employee bucket, missing (→ the default 250) for every 7th lead.
      await engine.runNative(`ALTER TABLE "${ds.sources}".leads ADD COLUMN deal_value DOUBLE;
        UPDATE "${ds.sources}".leads SET deal_value = CASE WHEN hash(lead_id) % 7 = 0 THEN NULL ELSE 1000.0 * (1 + employees % 5) END`);
      const run = await runGraph({
        graph: project.graph, engine, settings: project.settings, artifacts: new LocalArtifactStore(dir), now: () => new Date("2024-06-01T00:00:00Z"), runId: "p1",
        selection: { actions: ["pipeline_credit"], includeDependencies: true },
      });
      assertRunSucceeded(run);
      const expected = await engine.queryNative(`
        SELECT sum(s.probability * coalesce(l.deal_value, 250)) AS value, sum(s.probability) AS conv, count(*) AS n
        FROM "${ds.outputs}".lead_scores s JOIN "${ds.sources}".leads l USING (lead_id)`);
      const credit = await rowsOf(engine, ds.outputs, "pipeline_credit", "channel, campaign");
      const sum = (k: string): number => credit.reduce((a, r) => a + Number(r[k]), 0);
      assert.ok(Number(expected[0]!.n) >= 10, `open leads were scored: ${expected[0]!.n}`);
      assert.ok(Math.abs(sum("pipeline_value") - Number(expected[0]!.value)) < 1e-6, `${sum("pipeline_value")} vs ${expected[0]!.value}`);
      assert.ok(Math.abs(sum("expected_conversions") - Number(expected[0]!.conv)) < 1e-6);
      assert.ok(Math.abs(sum("open_leads") - Number(expected[0]!.n)) < 1e-6);
      // The demo's leads come from the web: most of the value is credited to real channels and campaigns.
      const touched = credit.filter((r) => r.channel !== NO_TOUCH_CHANNEL);
      assert.ok(touched.reduce((a, r) => a + Number(r.pipeline_value), 0) > 0.5 * sum("pipeline_value"));
      assert.ok(new Set(touched.map((r) => r.channel)).size >= 3);
      for (const r of credit) assert.deepEqual([r.model, r.currency], ["position_based", "USD"]);
      // The deal value is what a won lead is worth, never a feature of the score.
      const features = new Set((await rowsOf(engine, ds.models, "feature_importance")).filter((r) => r.job === "lead_scoring").map((r) => r.feature));
      assert.ok(features.has("employees") && !features.has("deal_value"), [...features].join(", "));
      console.log(`      ${credit.length} channel × campaign rows, pipeline value ${sum("pipeline_value").toFixed(2)} over ${expected[0]!.n} open leads`);
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
