/**
 * The run report in a real browser: headless Debian Chromium (no downloaded browser) driven by
 * playwright-core, launched with the flags this machine needs. Shared by the report tests.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { LocalArtifactStore } from "../../src/artifacts/store.ts";
import type { Settings } from "../../src/config/settings.ts";
import { writeRunReport } from "../../src/report/write.ts";
import type { RunRecord } from "../../src/runner/run-record.ts";
import type { Engine } from "../../src/engines/engine.ts";
import { PROJECT_DIR } from "./warehouse.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const OUT = path.join(PROJECT_DIR, "test-output");

export interface PageCheck {
  figures: number;
  emptyFigures: string[];
  consoleErrors: string[];
  text: string;
}

/** Launch Chromium, or skip the suite where it is missing (never under CI, which installs it). */
export async function launchChromium(ctx: Mocha.Context): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) throw new Error(`${CHROMIUM} not found: .ci/run installs Debian's chromium`);
    ctx.skip();
  }
  await mkdir(OUT, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Write the run's report, open it offline, and check every figure's SVG; screenshot to test-output/<name>.png. */
export async function renderAndOpen(browser: Browser, engine: Engine, settings: Settings, run: RunRecord, name: string, database: string): Promise<PageCheck> {
  const artifacts = new LocalArtifactStore(path.join(OUT, "artifacts"));
  const file = await writeRunReport(engine, settings, run, artifacts, { database });
  const { page, consoleErrors, figures } = await openOffline(browser, file, { width: 1366, height: 900 });
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  const text = await page.innerText("main");
  await page.close();
  return { figures: figures.length, emptyFigures: figures.filter((f) => !f.ok).map((f) => f.title), consoleErrors, text };
}

/**
 * A report file open in a new page, offline: console errors, page errors and any request beyond the file
 * itself (the report must need no CDN) are collected; every figure is checked for a drawn SVG.
 */
async function openOffline(browser: Browser, file: string, viewport: { width: number; height: number }) {
  const page = await browser.newPage({ viewport });
  const consoleErrors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.route(/^(?!file:).*/, (route) => { consoleErrors.push(`network request: ${route.request().url()}`); return route.abort(); });
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  const figures = await page.$$eval("figure", (els) => els.map((el) => {
    const svg = el.querySelector("svg");
    const box = svg?.getBoundingClientRect();
    const ok = !!svg && svg.querySelectorAll("path, rect, line, text").length > 3 && !!box && box.width > 50 && box.height > 50;
    return { ok, title: el.querySelector("figcaption")?.textContent ?? "(untitled)" };
  }));
  return { page, consoleErrors, figures };
}

export interface ReportInspection extends PageCheck {
  /** axe-core violations of impact serious or critical: "rule (impact): target, …". */
  seriousA11y: string[];
  /** Section ids in page order. */
  sections: string[];
  /** The page is wider than the viewport (horizontal scrolling of the whole page). */
  overflows: boolean;
}

/**
 * Open a written report at one viewport, offline: console errors and any request beyond the file are
 * errors; axe-core (injected from node_modules, no network) checks accessibility; a full-page
 * screenshot goes to test-output/<name>.png.
 */
export async function inspectReport(browser: Browser, file: string, name: string, viewport: { width: number; height: number }): Promise<ReportInspection> {
  const { page, consoleErrors, figures } = await openOffline(browser, file, viewport);
  const sections = await page.$$eval("main > section", (els) => els.map((el) => el.id));
  // Strings, not functions: the test project compiles without the DOM library.
  const overflows = await page.evaluate<boolean>("document.documentElement.scrollWidth > window.innerWidth + 1");
  await page.addScriptTag({ path: createRequire(import.meta.url).resolve("axe-core/axe.min.js") });
  const violations = await page.evaluate<{ id: string; impact: string; targets: string[] }[]>(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })))`);
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  const text = await page.innerText("main");
  await page.close();
  return {
    figures: figures.length, emptyFigures: figures.filter((f) => !f.ok).map((f) => f.title), consoleErrors, text, sections, overflows,
    seriousA11y: violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}): ${v.targets.join(", ")}`),
  };
}
