import { strict as assert } from "node:assert";
import os from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { compiledProject, memoryEngine, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { timeSplit, stratifiedRandomSplit } from "../src/lead-scoring/split.ts";
import { heldBack, labelOf, tooFewLabels, type LeadRecord } from "../src/lead-scoring/dataset.ts";
import { segmentOf } from "../src/lead-scoring/score.ts";

describe("lead-scoring splits and labels", () => {
  it("trains on the oldest leads, validates on newer and tests on the newest", () => {
    const t = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10].map((d) => d * 86_400_000);
    const ids = t.map((_, i) => `L${i}`);
    const s = timeSplit(t, ids, 0.2, 0.2);
    const days = (idx: number[]): number[] => idx.map((i) => t[i]! / 86_400_000).sort((a, b) => a - b);
    assert.deepEqual(days(s.train), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(days(s.validation), [7, 8]);
    assert.deepEqual(days(s.test), [9, 10]);
    assert.throws(() => timeSplit([1, null], ["a", "b"], 0.2, 0.2), /lead_split=random/);
  });

  it("keeps the base rate in every part of the random stratified split", () => {
    const y = Array.from({ length: 100 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const s = stratifiedRandomSplit(y, 0.2, 0.2, 42);
    const rate = (idx: number[]): number => idx.reduce((a, i) => a + y[i]!, 0) / idx.length;
    assert.equal(s.train.length + s.validation.length + s.test.length, 100);
    for (const part of [s.train, s.validation, s.test]) assert.equal(rate(part), 0.25);
    assert.deepEqual(stratifiedRandomSplit(y, 0.2, 0.2, 42), s, "seeded");
  });

  it("labels only leads whose outcome is known and that had not converted by their cut-off", () => {
    const day = 86_400_000;
    const rec = (p: Partial<LeadRecord>): LeadRecord => ({ leadId: "x", createdAt: 0, cutoffAt: 0, convertedAt: null, converted: false, row: {}, ...p });
    assert.equal(labelOf(rec({ converted: true, convertedAt: 5 * day }), 100 * day, 30), 1);
    assert.equal(labelOf(rec({ converted: true, convertedAt: 0 }), 100 * day, 30), null, "converted at the cut-off");
    assert.equal(labelOf(rec({ createdAt: 80 * day }), 100 * day, 30), null, "too young to be a negative");
    assert.equal(labelOf(rec({ createdAt: 60 * day }), 100 * day, 30), 0);
    assert.equal(heldBack(rec({ createdAt: 80 * day }), 100 * day, 30), true);
    assert.equal(heldBack(rec({ createdAt: 60 * day }), 100 * day, 30), false);
    assert.equal(heldBack(rec({ createdAt: 80 * day, converted: true }), 100 * day, 30), false, "a conversion is a label at any age");
    assert.equal(segmentOf(50, 50), "hot");
    assert.equal(segmentOf(25, 50), "warm");
    assert.equal(segmentOf(24, 50), "cold");
  });
});

describe("lead-scoring: too few labels to train on", () => {
  const labels = (pos: number, neg: number): number[] => [...Array<number>(pos).fill(1), ...Array<number>(neg).fill(0)];
  it("names the shortfall, and the maturity window only when it held leads back", () => {
    assert.equal(tooFewLabels(labels(14, 36)), undefined);
    assert.equal(tooFewLabels(labels(14, 34), 0), "only 48 labelled leads; the lead-scoring model needs at least 50");
    assert.equal(tooFewLabels(labels(14, 34), 3), "only 48 labelled leads; the lead-scoring model needs at least 50; 3 more are younger than vars.lead_label_maturity_days and not labelled yet (lower it to use them)");
    assert.match(tooFewLabels(labels(14, 34))!, /lower vars\.lead_label_maturity_days if recent leads are held back/);
    assert.equal(tooFewLabels(labels(4, 60), 0), "4 converted and 60 unconverted labelled leads; the model needs at least 5 of each");
    assert.equal(tooFewLabels(labels(60, 4), 0), "60 converted and 4 unconverted labelled leads; the model needs at least 5 of each");
  });
});

describe("lead-scoring job on the demo sample (inside the pipeline)", function () {
  this.timeout(600_000);
  it("trains, monitors and scores every open lead; if_needed reuses the saved model unless monitoring asks", async () => {
    const project = await compiledProject({ lead_max_rounds: "80" });
    const engine = await memoryEngine();
    const dir = await mkdtemp(path.join(os.tmpdir(), "fc-lead-"));
    try {
      const ds = project.settings.datasets;
      await generateDemo(engine.localLoading, { users: 4000, days: 21, seed: 7, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await ensureSourceTables(engine, project.settings);
      const artifacts = new LocalArtifactStore(dir);
      const now = () => new Date("2024-06-01T00:00:00Z");
      const run = await runGraph({
        graph: project.graph, engine, settings: project.settings, artifacts, now, runId: "r1",
        selection: { actions: ["lead_scoring"], includeDependencies: true },
      });
      assertRunSucceeded(run);
      const scores = await rowsOf(engine, ds.outputs, "lead_scores", "lead_id");
      const open = await engine.queryNative(`SELECT count(*)::INT AS n FROM ${ds.sources}.leads WHERE converted IS NOT TRUE`);
      assert.equal(scores.length, Number(open[0]!.n));
      assert.ok(scores.length > 0);
      for (const s of scores) {
        const score = Number(s.score);
        assert.ok(Number.isInteger(score) && score >= 0 && score <= 100);
        assert.equal(score, Math.round(100 * Number(s.probability)));
        assert.equal(s.scored_at instanceof Date ? s.scored_at.toISOString() : String(s.scored_at), "2024-06-01T00:00:00.000Z");
        const kf = s.key_factors as { feature: string; contribution: number; direction: string }[];
        assert.ok(kf.length <= 5);
        for (let i = 1; i < kf.length; i++) assert.ok(Math.abs(kf[i - 1]!.contribution) >= Math.abs(kf[i]!.contribution));
        for (const f of kf) assert.equal(f.direction, f.contribution > 0 ? "up" : "down");
      }
      const metrics = new Map((await rowsOf(engine, ds.models, "model_metrics")).filter((r) => r.job === "lead_scoring").map((r) => [r.metric, Number(r.value)]));
      // The small demo sample has too few leads for a useful model (README): only check the figures exist.
      for (const m of ["auc", "pr_auc", "log_loss", "brier"]) assert.ok(Number.isFinite(metrics.get(m)), m);
      // Calibrated mean on the validation window ≈ its base rate (Platt: within 1/(N+2); isotonic: exact).
      assert.ok(Math.abs(metrics.get("validation_mean_calibrated")! - metrics.get("validation_base_rate")!) < 0.02);
      const curves = (await rowsOf(engine, ds.models, "model_curves")).filter((r) => r.job === "lead_scoring");
      assert.deepEqual([...new Set(curves.map((c) => c.curve))].sort(), ["calibration", "lift", "pr", "roc"]);
      const monitoring = await rowsOf(engine, ds.models, "lead_score_monitoring");
      assert.equal(monitoring[0]!.feature === "score" || monitoring.some((m) => m.feature === "score"), true);

      // Second run, retrain only if needed: the saved model is monitored; retrained ⇔ it asked for it.
      const p2 = await compiledProject({ lead_max_rounds: "80", lead_retrain: "if_needed" });
      const run2 = await runGraph({ graph: p2.graph, engine, settings: p2.settings, artifacts, now, runId: "r2", selection: { actions: ["lead_scoring"] } });
      assertRunSucceeded(run2);
      const m2 = new Map((await rowsOf(engine, ds.models, "model_metrics")).filter((r) => r.job === "lead_scoring").filter((r) => r.run_id === "r2").map((r) => [r.metric, Number(r.value)]));
      assert.equal(m2.get("retrained"), m2.get("monitor_requires_retraining"));
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
