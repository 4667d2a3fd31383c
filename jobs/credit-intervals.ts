/**
 * 90 % intervals of every registered model's channel shares. The bootstrap interval (bootstrap_low/high): a Poisson
 * bootstrap of the `channel_paths` aggregate, each replicate re-fitting the model from the paths
 * (src/models/credit-bootstrap.ts); the models SQL computes over sessions (excitation_linear, self_controlled) from
 * SQL's Poisson bootstrap of identity chains (channel_share_replicates), summarised by the same percentile rule —
 * sampling noise of data this size, not a model's bias. The published interval (share_low/high): the bootstrap
 * interval widened by the conformal quantile of how far the true share fell outside it on the benchmark worlds most
 * like this data (src/models/credit-interval.ts; calibratedMargin), share ± that quantile of |share − truth| for a
 * model without a bootstrap (time_decay needs touch times, owox_funnel funnel steps, the ML models read sessions).
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { ColumnSchema, Row } from "../src/engines/engine.ts";
import { bootstrapFromReplicates, bootstrapModels, intervalAround, pathModels, type ModelBootstrap } from "../src/models/credit-bootstrap.ts";
import type { ChannelPathRow } from "../src/models/channel-markov.ts";
import type { ShapleyValueFunction } from "../src/models/shapley.ts";
import type { Settings } from "../src/config/settings.ts";
import { countOf, readChannelPaths, textOf } from "../src/jobs/tables.ts";
import { tableSchema } from "../src/catalog/index.ts";
import { calibratedMargin, dataShape } from "../src/models/recommendation.ts";
import { widenedInterval } from "../src/models/credit-interval.ts";
import { BENCHMARK_REFERENCE } from "../src/benchmark/reference.ts";

const INTERVALS_SCHEMA: ColumnSchema[] = tableSchema("channel_credit_intervals");

/** vars.shapley_value_function → the model's value function (as jobs/shapley.ts). */
const VALUE_FUNCTIONS: Record<Settings["shapleyValueFunction"], ShapleyValueFunction> = {
  subset_conversions: "subsets",
  exact_set_rate: "exact",
  containing_set_rate: "contains",
};

/** The seed of the bootstrap: fixed, so a re-run on the same data writes the same intervals. */
const BOOTSTRAP_SEED = 1;

/** Every refittable model's bootstrap on these paths, for these settings. */
function bootstrapCredit(rows: readonly ChannelPathRow[], settings: Settings, only?: ReadonlySet<string>): Record<string, ModelBootstrap> {
  const all = pathModels({
    positionBasedWeights: settings.positionBasedWeights, nonDirectExcludedChannels: settings.nonDirectExcludedChannels,
    markovOrder: settings.markovOrder, markovUseNulls: settings.markovUseNulls,
    shapleyValueFunction: VALUE_FUNCTIONS[settings.shapleyValueFunction], shapleyMaxExactChannels: settings.shapleyMaxExactChannels,
  });
  const models = Object.fromEntries(Object.entries(all).filter(([m]) => !only || only.has(m)));
  return bootstrapModels(rows, settings.creditBootstrapReplicates, BOOTSTRAP_SEED, models);
}

/**
 * The bootstrap of the models written in SQL over sessions (excitation_linear, self_controlled), which channel_paths
 * cannot re-fit: SQL resamples their identity chains (channel_share_replicates); only the published models'.
 */
/** The replicates SQL computed (channel_share_replicates) of the models that credited this run (`creditTable`). */
async function sqlModelBootstraps(query: (sql: string) => Promise<Row[]>, table: string, creditTable: string): Promise<Record<string, ModelBootstrap>> {
  const rows = await query(
    `SELECT model, replicate, channel, share FROM ${table} WHERE model IN (SELECT DISTINCT model FROM ${creditTable}) ORDER BY model, replicate, channel`,
  );
  const replicates = rows.map((r, i) => ({
    model: textOf(r, "model", "channel_share_replicates", i), replicate: countOf(r, "replicate", "channel_share_replicates", i),
    channel: textOf(r, "channel", "channel_share_replicates", i), share: countOf(r, "share", "channel_share_replicates", i),
  }));
  return bootstrapFromReplicates(replicates);
}

export const creditIntervalsJob: JobDefinition = {
  name: "credit_intervals",
  description: "90 % intervals of every model's channel shares: Poisson bootstrap (of channel_paths, or SQL's of identity chains) widened by the benchmark's conformal margin",
  reads: ["channel_paths", "channel_credit_by_model", "channel_share_replicates"],
  writes: ["channel_credit_intervals"],
  tags: ["attribution"],
  async run(ctx) {
    const credit = await ctx.query(`SELECT model, channel, share FROM ${ctx.ref("channel_credit_by_model")} ORDER BY model, channel`);
    if (credit.length === 0) {
      await ctx.write("channel_credit_intervals", INTERVALS_SCHEMA, []);
      return { rows: 0, skipped: "no conversions credited by any model: no shares to put intervals on" };
    }
    const rows = await readChannelPaths((sql) => ctx.query(sql), ctx.ref("channel_paths"));
    const models = new Set(credit.map((r, i) => textOf(r, "model", "channel_credit_by_model", i)));
    ctx.progress(`${ctx.settings.creditBootstrapReplicates} bootstrap replicates of ${rows.length} paths`);
    const boot = ctx.settings.creditBootstrapReplicates > 0
      ? { ...bootstrapCredit(rows, ctx.settings, models), ...await sqlModelBootstraps((sql) => ctx.query(sql), ctx.ref("channel_share_replicates"), ctx.ref("channel_credit_by_model")) }
      : {};
    const shape = dataShape(rows);
    const out: Row[] = credit.map((r, i) => {
      const model = textOf(r, "model", "channel_credit_by_model", i);
      const channel = textOf(r, "channel", "channel_credit_by_model", i);
      const share = r.share === null ? null : countOf(r, "share", "channel_credit_by_model", i);
      const b = boot[model];
      const iv = b?.intervals[channel];
      const bootstrap = b && iv && share !== null ? intervalAround(share, b.point[channel] ?? 0, iv) : null;
      const noBootstrap = ctx.settings.creditBootstrapReplicates === 0 ? "vars.credit_bootstrap_replicates is 0"
        : !b ? "the model cannot be re-fitted from channel_paths and has no replicates in channel_share_replicates" : "the channel is not in channel_paths";
      // The published interval: the bootstrap widened by the benchmark's conformal margin (share ± q without one).
      const q = share === null ? null : calibratedMargin(shape, model, BENCHMARK_REFERENCE, bootstrap !== null);
      const published = q === null || share === null ? null : widenedInterval(share, bootstrap ?? { lo: share, hi: share }, q);
      const method = published === null ? `none: no benchmark reference for the model${bootstrap ? "" : `; no bootstrap: ${noBootstrap}`}`
        : bootstrap ? "conformal_bootstrap" : `split_conformal (no bootstrap: ${noBootstrap})`;
      return {
        model, channel, share, share_low: published?.lo ?? null, share_high: published?.hi ?? null,
        bootstrap_low: bootstrap?.lo ?? null, bootstrap_high: bootstrap?.hi ?? null, replicates: bootstrap ? b!.replicates : 0, method,
      };
    });
    const n = await ctx.write("channel_credit_intervals", INTERVALS_SCHEMA, out);
    return { rows: n, metrics: { models_with_intervals: Object.keys(boot).length, replicates: ctx.settings.creditBootstrapReplicates } };
  },
};
