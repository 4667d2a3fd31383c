/**
 * Credit intervals and the model recommendation on imported paths (DuckDB): every model of
 * channel_credit_by_model gets a row in channel_credit_intervals (an interval when the model can be
 * re-fitted from channel_paths) and in model_recommendation, exactly one of them recommended.
 */
import assert from "node:assert/strict";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs } from "./fixtures/warehouse/builders.ts";

describe("credit intervals and model recommendation jobs", function () {
  this.timeout(180_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  // Paths: Brand closes, Display and Email open; 3 channels, 1,500 journeys.
  const PATHS: [string, number, number, number][] = [["Brand", 9, 900, 1], ["Display > Brand", 30, 3000, 70], ["Display", 0, 0, 1000], ["Email > Display > Brand", 12, 1200, 40], ["Email", 5, 500, 200]];

  async function run(vars: Record<string, string> = {}) {
    await loadInputs(engine, { paths: PATHS });
    const project = await compiledProject({ path_source: "import", ...vars });
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["model_recommendation"], includeDependencies: true } }));
    const out = project.settings.datasets.outputs;
    return {
      credit: await engine.queryNative(`SELECT model, channel, share FROM "${out}".channel_credit_by_model ORDER BY model, channel`),
      intervals: await engine.queryNative(`SELECT * FROM "${out}".channel_credit_intervals ORDER BY model, channel`),
      recommendation: await engine.queryNative(`SELECT * FROM "${out}".model_recommendation ORDER BY rank`),
    };
  }

  it("puts a 90 % bootstrap interval around every share of every model re-fittable from the paths", async () => {
    const { credit, intervals } = await run();
    assert.deepEqual(intervals.map((r) => `${r.model}/${r.channel}`), credit.map((r) => `${r.model}/${r.channel}`));
    for (const r of intervals) {
      assert.equal(r.method, "poisson_bootstrap", `${r.model}/${r.channel}`);
      assert.equal(r.replicates, 100);
      assert.ok(Number(r.share_low) <= Number(r.share) + 1e-12 && Number(r.share) <= Number(r.share_high) + 1e-12, JSON.stringify(r));
      // The benchmark band (bias included) is symmetric around the share unless clipped at 0 or 1, and wider than sampling noise alone.
      const q = Number(r.band_high) - Number(r.share);
      assert.ok(q > 0.01 && (Math.abs(Number(r.share) - Number(r.band_low) - q) < 1e-9 || Number(r.band_low) === 0 || Number(r.band_high) === 1), JSON.stringify(r));
    }
    // Brand closes 51 of 56 conversions (Email alone the other 5): last touch keeps it near 0.91 in every replicate.
    const lt = intervals.find((r) => r.model === "last_touch" && r.channel === "Brand")!;
    assert.ok(Number(lt.share_low) > 0.8 && Number(lt.share_high) < 0.99, JSON.stringify(lt));
    // Email opens 17 of 56 conversions under first touch: a share that varies between resamples.
    const ft = intervals.find((r) => r.model === "first_touch" && r.channel === "Email")!;
    assert.ok(Number(ft.share_high) - Number(ft.share_low) > 0.02, JSON.stringify(ft));
  });

  it("writes no interval, and says why, when vars.credit_bootstrap_replicates is 0", async () => {
    const { intervals, recommendation } = await run({ credit_bootstrap_replicates: "0" });
    assert.ok(intervals.length > 0 && intervals.every((r) => r.share_low === null && r.share_high === null && r.replicates === 0));
    assert.match(String(intervals[0]!.method), /vars\.credit_bootstrap_replicates is 0/);
    assert.ok(recommendation.every((r) => r.bootstrap_l1 === null));
  });

  it("ranks every model and recommends one, with the data's shape and the reason", async () => {
    const { credit, recommendation } = await run();
    assert.deepEqual(recommendation.map((r) => r.rank), recommendation.map((_, i) => i + 1));
    assert.deepEqual(recommendation.map((r) => r.model).sort(), [...new Set(credit.map((r) => String(r.model)))].sort());
    const top = recommendation.filter((r) => r.is_recommended === true);
    assert.equal(top.length, 1);
    assert.equal(top[0]!.rank, 1);
    assert.match(String(top[0]!.reason), /closest to the true incremental shares on the 10 benchmark worlds most like this data \(3 channels, 1\.1 touches per journey, 4\.1 % converting\)/);
    assert.equal(String(top[0]!.benchmark_worlds).split(", ").length, 10);
    for (const r of recommendation) {
      assert.equal(r.channels, 3);
      assert.ok(Number(r.expected_l1) >= Number(r.benchmark_l1), JSON.stringify(r));
    }
    // Ranked by expected L1.
    const l1 = recommendation.map((r) => Number(r.expected_l1));
    assert.deepEqual(l1, [...l1].sort((a, b) => a - b));
  });

  it("names the var when credit_bootstrap_replicates is not a whole number in range", async () => {
    await assert.rejects(compiledProject({ credit_bootstrap_replicates: "-1" }), /credit_bootstrap_replicates/);
  });
});
