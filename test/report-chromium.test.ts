/**
 * The run report in a real browser: headless Debian Chromium (no downloaded browser) driven by
 * playwright-core. Every chart must have rendered to a non-empty SVG, the page must log no
 * console errors, and a screenshot goes to test-output/ for people to look at.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { writeRunReport } from "../src/report/write.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { PROJECT_DIR, memoryEngine } from "./support/warehouse.ts";
import { DB, fixtureRun, writeFixtureTables, type FixtureTable } from "./report-fixtures.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OUT = path.join(PROJECT_DIR, "test-output");
const settings = loadProjectSettings(PROJECT_DIR).settings;

interface PageCheck {
  figures: number;
  emptyFigures: string[];
  consoleErrors: string[];
  text: string;
}

async function renderAndOpen(browser: Browser, engine: DuckDBEngine, run: RunRecord, name: string): Promise<PageCheck> {
  const artifacts = new LocalArtifactStore(path.join(OUT, "artifacts"));
  const file = await writeRunReport(engine, settings, run, artifacts, { database: DB });
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const consoleErrors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  // Offline: any request beyond the file itself is an error (the report must need no CDN).
  await page.route(/^(?!file:).*/, (route) => { consoleErrors.push(`network request: ${route.request().url()}`); return route.abort(); });
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  const figures = await page.$$eval("figure", (els) => els.map((el) => {
    const svg = el.querySelector("svg");
    const box = svg?.getBoundingClientRect();
    const ok = !!svg && svg.querySelectorAll("path, rect, line, text").length > 3 && !!box && box.width > 50 && box.height > 50;
    return { ok, title: el.querySelector("figcaption")?.textContent ?? "(untitled)" };
  }));
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  const text = await page.innerText("main");
  await page.close();
  return { figures: figures.length, emptyFigures: figures.filter((f) => !f.ok).map((f) => f.title), consoleErrors, text };
}

describe("run report in headless Chromium", function () {
  this.timeout(120_000);
  let browser: Browser;
  let engine: DuckDBEngine;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} not found: .ci/run installs Debian's chromium`);
      this.skip();
    }
    await mkdir(OUT, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  after(async () => browser?.close());
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => engine?.close());

  it("renders every chart of a complete run with no console errors", async () => {
    await writeFixtureTables(engine, settings);
    const page = await renderAndOpen(browser, engine, fixtureRun(), "report");
    assert.deepEqual(page.consoleErrors, []);
    assert.deepEqual(page.emptyFigures, [], "figures without a rendered SVG");
    // Actions, credit, over time, funnel ×2, ROC, calibration, importance, scores, lift, PSI, ROAS.
    assert.equal(page.figures, 12);
    assert.doesNotMatch(page.text, /not produced in this run|could not read/);
    assert.match(page.text, /Retraining recommended/);
  });

  it("still renders the report of a pipeline with a failed action, showing the failure", async () => {
    const tables = ["channel_credit_by_model", "model_agreement", "funnel_transition_probabilities"] satisfies FixtureTable[];
    await writeFixtureTables(engine, settings, { only: tables });
    const page = await renderAndOpen(browser, engine, fixtureRun({ failing: true, runId: "20261124T101500-fa11ed00" }), "report-failed-run");
    assert.deepEqual(page.consoleErrors, []);
    assert.deepEqual(page.emptyFigures, []);
    assert.match(page.text, /1 action failed/);
    assert.match(page.text, /ml_attribution/);
    assert.match(page.text, /column "path_features.days_to_convert" not found/);
    assert.match(page.text, /Lead scores: not produced in this run/);
  });
});
