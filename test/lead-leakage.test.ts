/**
 * Lead columns that leak the outcome or are ids in time order: found on synthetic columns whose
 * answer is known, and on X Education's Leads.csv (Tags, recorded by sales after the outcome; Lead
 * Number, the order the leads came in). The job warns or refuses by vars.lead_leakage.
 */
import assert from "node:assert/strict";
import path from "node:path";
import os from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { compiledProject, memoryEngine } from "./support/warehouse.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { openDb } from "./support/duckdb.ts";
import { PROJECT_DIR, SHARED_DATA } from "./support/warehouse.ts";
import { importCsvOrNdjson } from "../src/import/index.ts";
import { inferFeatureKinds } from "../src/models/encoding.ts";
import { findLeakage, singleFeatureAuc, spearman } from "../src/lead-scoring/leakage.ts";
import { toLeadRecords, candidateColumns } from "../src/lead-scoring/dataset.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import type { Row } from "../src/engines/engine.ts";

/** Deterministic pseudo-random numbers in [0, 1) (LCG). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("lead leakage checks", () => {
  it("flags a column that alone predicts the label and an id that follows creation time, not an ordinary feature", () => {
    const rnd = lcg(7);
    const n = 400;
    const labels = Array.from({ length: n }, () => (rnd() < 0.4 ? 1 : 0));
    // Shuffled creation times; the id is the creation order; "tag" is set by sales after the outcome
    // (2 % noise); "visits" is a weak honest feature.
    const order = Array.from({ length: n }, (_, i) => i).sort(() => rnd() - 0.5);
    const rows: Row[] = labels.map((y, i) => ({
      tag: (rnd() < 0.02 ? 1 - y : y) ? "Closed by sales" : "Will revert",
      lead_number: 1000 + order[i]!,
      visits: Math.floor(rnd() * 5 + (y ? 1 : 0)),
      city: ["A", "B", "C"][Math.floor(rnd() * 3)]!,
    }));
    const createdAt = order.map((o) => Date.UTC(2024, 0, 1) + o * 3_600_000);
    const { features } = inferFeatureKinds(rows, ["tag", "lead_number", "visits", "city"]);
    const found = findLeakage(rows, labels, createdAt, features, { maxSingleFeatureAuc: 0.95 });
    assert.deepEqual(found.map((f) => [f.column, f.kind]), [["tag", "outcome"], ["lead_number", "time_order_id"]]);
    assert.match(found[0]!.message, /tag alone predicts the outcome \(single-feature AUC 0\.9\d\d > vars\.lead_leakage_max_auc 0\.95\)/);
    assert.match(found[1]!.message, /lead_number is unique per lead and follows creation time/);
    // Hand-checkable pieces: a perfectly ordered pair has ρ = 1, a reversed one −1; city is noise (AUC ≈ 0.5).
    assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
    assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
    assert.ok(singleFeatureAuc(rows, labels, { name: "city", kind: "categorical" }) < 0.6);
  });

  it("names Tags and Lead Number in X Education's leads imported without --exclude", async function () {
    this.timeout(120_000);
    const db = await openDb();
    try {
      await importCsvOrNdjson(db.local, "leads", path.join(SHARED_DATA, "x-education-leads", "Leads.csv"), {
        idColumn: "Prospect ID", labelColumn: "Converted",
        synthesiseCreatedAt: { orderColumn: "Lead Number", start: "2024-01-01", end: "2024-06-30" },
      });
      const raw = (await db.conn.runAndReadAll(`SELECT * FROM funnelcredit_sources.leads ORDER BY lead_id`)).getRowObjectsJS() as Row[];
      const records = toLeadRecords(raw, "leads");
      const labels = records.map((r) => (r.converted ? 1 : 0));
      const { columns } = candidateColumns(raw, []);
      const { features } = inferFeatureKinds(raw, columns);
      const settings = loadProjectSettings(PROJECT_DIR).settings;
      const found = findLeakage(raw, labels, records.map((r) => r.createdAt), features, { maxSingleFeatureAuc: settings.leadLeakageMaxAuc });
      const by = new Map(found.map((f) => [f.column, f]));
      assert.equal(by.get("tags")?.kind, "outcome", JSON.stringify(found));
      assert.equal(by.get("lead_number")?.kind, "time_order_id", JSON.stringify(found));
      // The honest strong features are not flagged.
      for (const c of ["total_time_spent_on_website", "lead_origin", "what_is_your_current_occupation"]) assert.ok(!by.has(c), `${c} flagged: ${JSON.stringify(by.get(c))}`);
      console.log(`      found: ${found.map((f) => `${f.column} (${f.kind} ${f.value.toFixed(3)})`).join(", ")}`);
    } finally {
      db.close();
    }
  });

  it("has the settings lead_leakage (warn|refuse, default warn) and lead_leakage_max_auc (default 0.95)", () => {
    const s = loadProjectSettings(PROJECT_DIR).settings;
    assert.equal(s.leadLeakage, "warn");
    assert.equal(s.leadLeakageMaxAuc, 0.95);
    assert.equal(loadProjectSettings(PROJECT_DIR, { lead_leakage: "refuse" }).settings.leadLeakage, "refuse");
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { lead_leakage: "ignore" }), /vars\.lead_leakage = "ignore": expected "warn" or "refuse"/);
  });
});

describe("lead-scoring job with a leaking column (demo sample)", function () {
  this.timeout(600_000);
  it("refuses to train with lead_leakage=refuse and warns, naming the column, with the default warn", async () => {
    const refuse = await compiledProject({ lead_max_rounds: "20", lead_label_maturity_days: "0", lead_leakage: "refuse" });
    const engine = await memoryEngine();
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-leak-"));
    try {
      const ds = refuse.settings.datasets;
      await generateDemo(engine.localLoading, { users: 3000, days: 21, seed: 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await ensureSourceTables(engine, refuse.settings);
      // A field sales fill in once the outcome is known.
      await engine.runNative(`ALTER TABLE "${ds.sources}".leads ADD COLUMN sales_tag VARCHAR`);
      await engine.runNative(`UPDATE "${ds.sources}".leads SET sales_tag = CASE WHEN converted THEN 'Closed - won' ELSE 'Will revert' END`);
      const artifacts = new LocalArtifactStore(dir);
      const now = () => new Date("2024-06-01T00:00:00Z");
      const run = await runGraph({ graph: refuse.graph, engine, settings: refuse.settings, artifacts, now, runId: "refuse", selection: { actions: ["lead_scoring"], includeDependencies: true } });
      const job = run.actions.find((a) => a.action === "lead_scoring")!;
      assert.equal(job.status, "failed");
      assert.match(job.error!, /lead_scoring refuses to train \(vars\.lead_leakage = "refuse"\): sales_tag alone predicts the outcome \(single-feature AUC 1\.000/);
      assert.match(job.error!, /lead_exclude_columns=\["sales_tag"\]/);

      const warn = await compiledProject({ lead_max_rounds: "20", lead_label_maturity_days: "0" });
      const again = await runGraph({ graph: warn.graph, engine, settings: warn.settings, artifacts, now, runId: "warn", selection: { actions: ["lead_scoring"] } });
      assert.equal(again.actions.find((a) => a.action === "lead_scoring")!.status, "succeeded");
      assert.ok(again.warnings.some((w) => /lead_scoring: possible leakage, trained anyway \(vars\.lead_leakage = "warn"\): sales_tag alone predicts/.test(w)), again.warnings.join("\n"));
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
