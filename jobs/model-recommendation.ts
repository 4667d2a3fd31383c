/**
 * Which attribution model to use for this data, and why (src/models/recommendation.ts): every model of
 * channel_credit_by_model (every registered model that published credit this run, the ML models included) ranked by its expected distance to the true incremental channel shares — its
 * mean L1 on the benchmark worlds shaped most like this data (channels, touches per journey, conversion
 * rate; the reference is the measured benchmark, src/benchmark/reference.ts) plus its bootstrap
 * instability on this data (from channel_credit_intervals).
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { ColumnSchema } from "../src/engines/engine.ts";
import { dataShape, modelEvidence, recommendModels, type ModelEvidence } from "../src/models/recommendation.ts";
import { BENCHMARK_REFERENCE } from "../src/benchmark/reference.ts";
import { countOf, readChannelPaths, textOf } from "../src/jobs/tables.ts";
import { tableSchema } from "../src/catalog/index.ts";

const RECOMMENDATION_SCHEMA: ColumnSchema[] = tableSchema("model_recommendation");

/**
 * L1 instability from 90 % intervals: for a normal share, E|X − μ| = σ·√(2/π) and the 90 % interval is
 * μ ± 1.645σ, so E|X − μ| = (high − low) / (2 · 1.645) · √(2/π); summed over channels.
 */
export function bootstrapL1FromIntervals(widths: readonly number[]): number {
  return widths.reduce((s, w) => s + w, 0) / (2 * 1.6449) * Math.sqrt(2 / Math.PI);
}

export const modelRecommendationJob: JobDefinition = {
  name: "model_recommendation",
  description: "the attribution model to use for this data: benchmark accuracy on similar worlds and bootstrap stability",
  reads: ["channel_paths", "channel_credit_intervals"],
  writes: ["model_recommendation"],
  tags: ["attribution"],
  async run(ctx) {
    const iv = await ctx.query(`SELECT model, channel, bootstrap_low, bootstrap_high FROM ${ctx.ref("channel_credit_intervals")} ORDER BY model, channel`);
    if (iv.length === 0) {
      await ctx.write("model_recommendation", RECOMMENDATION_SCHEMA, []);
      return { rows: 0, skipped: "no conversions credited by any model: nothing to recommend" };
    }
    // Every registered model with credit this run (the ML models when published), in registry order.
    const evidence: ModelEvidence[] = modelEvidence(ctx.settings.attributionModels.map((m) => m.name), iv.map((r, i) => ({
      model: textOf(r, "model", "channel_credit_intervals", i),
      width: r.bootstrap_low === null || r.bootstrap_high === null ? null : countOf(r, "bootstrap_high", "channel_credit_intervals", i) - countOf(r, "bootstrap_low", "channel_credit_intervals", i),
    })), bootstrapL1FromIntervals);
    const shape = dataShape(await readChannelPaths((sql) => ctx.query(sql), ctx.ref("channel_paths")));
    const ranked = recommendModels(shape, evidence, BENCHMARK_REFERENCE);
    const n = await ctx.write("model_recommendation", RECOMMENDATION_SCHEMA, ranked.map((r) => ({
      model: r.model, rank: r.rank, is_recommended: r.isRecommended, expected_l1: r.expectedL1, benchmark_l1: r.benchmarkL1,
      benchmark_worlds: r.benchmarkWorlds.join(", "), bootstrap_l1: r.bootstrapL1,
      channels: shape.channels, mean_path_length: shape.meanPathLength, conversion_rate: shape.conversionRate, reason: r.reason,
    })));
    const top = ranked.find((r) => r.isRecommended);
    return { rows: n, metrics: { recommended: top?.model ?? "none", channels: shape.channels } };
  },
};
