/**
 * Credit intervals and the model recommendation on imported paths (DuckDB): every model of
 * channel_credit_by_model gets a row in channel_credit_intervals (a published interval; a bootstrap interval
 * under it when the model can be re-fitted from channel_paths) and in model_recommendation, exactly one of
 * them recommended.
 */
import assert from "node:assert/strict";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadInputs } from "./fixtures/warehouse/builders.ts";
import { calibratedMargin, dataShape } from "../src/models/recommendation.ts";
import { widenedInterval } from "../src/models/credit-interval.ts";
import { readChannelPaths } from "../src/jobs/tables.ts";
import { BENCHMARK_REFERENCE } from "../src/benchmark/reference.ts";

describe("credit intervals and model recommendation jobs", function () {
  this.timeout(180_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  // Paths: Brand closes, Display and Email open; 3 channels, 1,500 journeys.
  const PATHS: [string, number, number, number][] = [["Brand", 9, 900, 1], ["Display > Brand", 30, 3000, 70], ["Display", 0, 0, 1000], ["Email > Display > Brand", 12, 1200, 40], ["Email", 5, 500, 200]];

  let project: Awaited<ReturnType<typeof compiledProject>>;
  async function run(vars: Record<string, string> = {}) {
    await loadInputs(engine, { paths: PATHS });
    project = await compiledProject({ path_source: "import", ...vars });
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["model_recommendation"], includeDependencies: true } }));
    const out = project.settings.datasets.outputs;
    return {
      credit: await engine.queryNative(`SELECT model, channel, share FROM "${out}".channel_credit_by_model ORDER BY model, channel`),
      intervals: await engine.queryNative(`SELECT * FROM "${out}".channel_credit_intervals ORDER BY model, channel`),
      recommendation: await engine.queryNative(`SELECT * FROM "${out}".model_recommendation ORDER BY rank`),
    };
  }

  it("publishes a 90 % interval on every share: the bootstrap widened by the benchmark's margin, share ± q without a bootstrap", async () => {
    const { credit, intervals } = await run();
    assert.deepEqual(intervals.map((r) => `${r.model}/${r.channel}`), credit.map((r) => `${r.model}/${r.channel}`));
    // Each interval is the bootstrap widened by the margin the benchmark reference gives for this data's shape
    // (bootstrap scores for a bootstrapped model, its errors otherwise), clipped to [0, 1].
    const shape = dataShape(await readChannelPaths((sql) => engine.query(sql), `\`${project.settings.datasets.intermediate}.channel_paths\``));
    const bootstrapped = new Set<string>();
    for (const r of intervals) {
      const share = Number(r.share);
      const hasBootstrap = r.method === "conformal_bootstrap";
      if (hasBootstrap) {
        bootstrapped.add(String(r.model));
        assert.equal(r.replicates, 100);
        assert.ok(Number(r.bootstrap_low) <= share + 1e-12 && share <= Number(r.bootstrap_high) + 1e-12, JSON.stringify(r));
      } else {
        // No bootstrap (time_decay, owox_funnel and the SQL models read sessions, not paths): share ± q.
        assert.equal(r.method, "split_conformal (no bootstrap: the model cannot be re-fitted from channel_paths and has no replicates in channel_share_replicates)");
        assert.ok(r.bootstrap_low === null && r.bootstrap_high === null && r.replicates === 0, JSON.stringify(r));
      }
      const q = calibratedMargin(shape, String(r.model), BENCHMARK_REFERENCE, hasBootstrap)!;
      const want = widenedInterval(share, hasBootstrap ? { lo: Number(r.bootstrap_low), hi: Number(r.bootstrap_high) } : { lo: share, hi: share }, q);
      assert.ok(Math.abs(Number(r.share_low) - want.lo) < 1e-9 && Math.abs(Number(r.share_high) - want.hi) < 1e-9, `${JSON.stringify(r)} vs q ${q}`);
      // The bias margin is more than sampling noise: wider than the bootstrap alone.
      assert.ok(Number(r.share_high) - Number(r.share_low) > (hasBootstrap ? Number(r.bootstrap_high) - Number(r.bootstrap_low) : 0) + 0.01, JSON.stringify(r));
    }
    // On imported paths every model is one re-fittable from them (the session-reading models have no sessions to read).
    assert.deepEqual([...bootstrapped].sort(), ["first_touch", "last_touch", "linear", "markov_order_1", "shapley"]);
    assert.equal(bootstrapped.size, new Set(intervals.map((r) => r.model)).size);
    // Brand closes 51 of 56 conversions (Email alone the other 5): last touch keeps it near 0.91 in every replicate.
    const lt = intervals.find((r) => r.model === "last_touch" && r.channel === "Brand")!;
    assert.ok(Number(lt.bootstrap_low) > 0.8 && Number(lt.bootstrap_high) < 0.99, JSON.stringify(lt));
    // Email opens 17 of 56 conversions under first touch: a share that varies between resamples.
    const ft = intervals.find((r) => r.model === "first_touch" && r.channel === "Email")!;
    assert.ok(Number(ft.bootstrap_high) - Number(ft.bootstrap_low) > 0.02, JSON.stringify(ft));
  });

  it("publishes share ± q, and says there is no bootstrap, when vars.credit_bootstrap_replicates is 0", async () => {
    const { intervals, recommendation } = await run({ credit_bootstrap_replicates: "0" });
    assert.ok(intervals.length > 0 && intervals.every((r) => r.bootstrap_low === null && r.bootstrap_high === null && r.replicates === 0));
    assert.ok(intervals.every((r) => r.share_low !== null && Number(r.share_high) > Number(r.share_low)));
    assert.match(String(intervals[0]!.method), /^split_conformal \(no bootstrap: vars\.credit_bootstrap_replicates is 0\)$/);
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
