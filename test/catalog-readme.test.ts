/**
 * README.md's tables of cataloged SQL-model outputs, job outputs and run bookkeeping are generated from the warehouse catalog
 * (includes/catalog.js), so a table or column added, renamed or retyped there fails here until the
 * README changes with it.
 *
 * After an intended change: `UPDATE_README=1 npx mocha test/catalog-readme.test.ts` rewrites the
 * section between <!-- catalog-tables:start --> and <!-- catalog-tables:end -->; review the diff.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CATALOG, type CatalogTable } from "../src/catalog/index.ts";
import type { ColumnSchema } from "../src/engines/engine.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";

const README = path.join(PROJECT_DIR, "README.md");
const START = "<!-- catalog-tables:start -->";
const END = "<!-- catalog-tables:end -->";

/** How the README names a layer's dataset (`<base>` = vars.base_dataset, the default dataset by default). */
const DATASET: Record<string, string> = {
  outputs: "<base>", models: "<base>_models", meta: "<base>_meta", reporting: "<base>_reporting",
  staging: "<base>_staging", intermediate: "<base>_intermediate", sources: "<sources>", ga4: "<ga4>",
};

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function columnText(c: ColumnSchema): string {
  const type = c.type === "RECORD" ? `STRUCT<${(c.fields ?? []).map((f) => `${f.name} ${f.type}`).join(", ")}>` : c.type;
  const typed = `\`${c.name}\` ${c.mode === "REPEATED" ? `ARRAY<${type}>` : type}`;
  return c.description ? `${typed} (${c.description})` : typed;
}

function producerText(t: CatalogTable): string {
  const p = t.producer as Record<string, string | string[]>;
  if (p.model) return `SQL model \`${p.model}\``;
  if (p.job) return `job \`${p.job}\``;
  if (Array.isArray(p.jobs)) return `jobs ${p.jobs.map((j) => `\`${j}\``).join(", ")} (each its own rows of a run)`;
  if (p.runner) return "the runner";
  if (p.command) return `\`funnelcredit ${p.command}\``;
  if (p.engine) return `the ${p.engine} engine`;
  return String(Object.values(p)[0] ?? "");
}

function tableRows(tables: readonly CatalogTable[]): string[] {
  return [
    "| table | grain | written by | columns |",
    "|---|---|---|---|",
    ...tables.map((t) => `| \`${DATASET[t.layer]}.${t.name}\` | ${cell(t.grain.replace(/^one row per /, ""))} | ${producerText(t)} | ${cell(t.columns.map(columnText).join(", "))} |`),
  ];
}

export function renderCatalogSection(): string {
  const models = CATALOG.filter((t) => "model" in t.producer);
  const jobs = CATALOG.filter((t) => "job" in t.producer || "jobs" in t.producer);
  const bookkeeping = CATALOG.filter((t) => "runner" in t.producer || "command" in t.producer || "engine" in t.producer);
  return [
    START,
    "Generated from `includes/catalog.js` (checked by `test/catalog-readme.test.ts`). Tables SQL models build whose columns the catalog documents (read by BI views and the report; one row per … in *grain*):",
    "",
    ...tableRows(models),
    "",
    "Tables the TypeScript jobs write:",
    "",
    ...tableRows(jobs),
    "",
    "Written by the runner and the commands (run history, import quarantine, CRM push state, benchmark results, the BigQuery run lease):",
    "",
    ...tableRows(bookkeeping),
    END,
  ].join("\n");
}

describe("README: job outputs and bookkeeping tables from the catalog", () => {
  it("documents every catalog table a SQL model, a job, the runner or a command writes, with its columns and types", () => {
    const readme = readFileSync(README, "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    assert.ok(start >= 0 && end > start, `README.md needs ${START} … ${END}`);
    const expected = renderCatalogSection();
    const actual = readme.slice(start, end + END.length);
    if (process.env.UPDATE_README === "1" && actual !== expected) {
      writeFileSync(README, readme.slice(0, start) + expected + readme.slice(end + END.length));
      return;
    }
    assert.equal(actual, expected, "README.md's catalog tables differ from includes/catalog.js: run `UPDATE_README=1 npx mocha test/catalog-readme.test.ts` and review the diff");
  });
});
