/**
 * The run report in a real browser: headless Debian Chromium (no downloaded browser) driven by
 * playwright-core. Every chart must have rendered to a non-empty SVG, the page must log no
 * console errors, and a screenshot goes to test-output/ for people to look at.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { loadProjectSettings } from "../src/config/settings.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { PROJECT_DIR, memoryEngine } from "./support/warehouse.ts";
import path from "node:path";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { writeRunReport } from "../src/report/write.ts";
import { OUT, inspectReport, launchChromium, renderAndOpen } from "./support/browser.ts";
import { DB, fixtureRun, writeFixtureTables, type FixtureTable } from "./report-fixtures.ts";

const settings = loadProjectSettings(PROJECT_DIR).settings;

describe("run report in headless Chromium", function () {
  this.timeout(120_000);
  let browser: Browser;
  let engine: DuckDBEngine;

  before(async function () {
    browser = await launchChromium(this);
  });
  after(async () => browser?.close());
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => engine?.close());

  it("renders every chart of a complete run with no console errors", async () => {
    await writeFixtureTables(engine, settings);
    const page = await renderAndOpen(browser, engine, settings, fixtureRun(), "report", DB);
    assert.deepEqual(page.consoleErrors, []);
    assert.deepEqual(page.emptyFigures, [], "figures without a rendered SVG");
    // Answer, share heatmap, agreement heatmap, over time, funnel ×2, ROC, calibration, importance, scores, lift, PSI, actions.
    assert.equal(page.figures, 13);
    assert.doesNotMatch(page.text, /not produced in this run|could not read/);
    assert.match(page.text, /Retraining recommended/);
  });

  it("answers with spend, ROAS and the change vs last click, and shows campaigns and paths, at desktop and phone widths with no serious axe violations", async () => {
    await writeFixtureTables(engine, settings);
    const file = await writeRunReport(engine, settings, fixtureRun(), new LocalArtifactStore(path.join(OUT, "artifacts")), { database: DB });
    for (const [name, viewport] of [["report-fixture-desktop", { width: 1366, height: 900 }], ["report-fixture-phone", { width: 390, height: 844 }]] as const) {
      const page = await inspectReport(browser, file, name, viewport);
      assert.deepEqual(page.consoleErrors, [], name);
      assert.deepEqual(page.seriousA11y, [], name);
      assert.equal(page.overflows, false, name);
      assert.deepEqual(page.sections.slice(0, 2), ["answer", "compare"]);
      assert.equal(page.sections[page.sections.length - 1], "run");
      // Paid Search: spend 21,500; markov_order_1 (model_recommendation's pick) credits it TOTAL_VALUE × its share, published interval ±12 points, bootstrap ±2 points (report-fixtures.ts).
      assert.match(page.text, /Paid Search\t[\d.]+%\t[\d.]+% – [\d.]+%\t[\d.]+% – [\d.]+%\t[\d,.]+\t\$[\d,]+\t[+-][\d.]+ pt\t[+-][\d.]+%\t\$21,500\t[\d.]+×/);
      assert.match(page.text, /spring_sale/);
      assert.match(page.text, /Paid Social > Paid Search > Email/);
      assert.match(page.text, /Why the models differ/);
    }
  });

  it("still renders the report of a pipeline with a failed action, showing the failure", async () => {
    const tables = ["channel_credit_by_model", "model_agreement", "funnel_transition_probabilities"] satisfies FixtureTable[];
    await writeFixtureTables(engine, settings, { only: tables });
    const page = await renderAndOpen(browser, engine, settings, fixtureRun({ failing: true, runId: "20261124T101500-fa11ed00" }), "report-failed-run", DB);
    assert.deepEqual(page.consoleErrors, []);
    assert.deepEqual(page.emptyFigures, []);
    assert.match(page.text, /1 action failed/);
    assert.match(page.text, /ml_attribution/);
    assert.match(page.text, /column "path_features.days_to_convert" not found/);
    assert.match(page.text, /Lead scores: not produced in this run/);
  });
});
