/**
 * Data-driven Shapley credit over channel coalitions, from the `channel_paths` aggregate
 * (a path's coalition is the set of its channels), with the value function of vars.shapley_value_function.
 * Exact up to vars.shapley_max_exact_channels. Raw φ and its negative part are written beside the (clipped) share.
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { ColumnSchema } from "../src/engines/engine.ts";
import { fitShapley, shapleyToJSON, coalitionMask, type CoalitionRow, type ShapleyValueFunction } from "../src/models/shapley.ts";
import type { Settings } from "../src/config/settings.ts";
import { compareStrings } from "../src/models/numeric.ts";
import { readChannelPaths } from "../src/jobs/tables.ts";
import { tableSchema } from "../src/catalog/index.ts";

const SHAPLEY_SCHEMA: ColumnSchema[] = tableSchema("shapley_channel_credit");

/** vars.shapley_value_function → the model's value function (src/models/shapley.ts). */
const VALUE_FUNCTIONS: Record<Settings["shapleyValueFunction"], ShapleyValueFunction> = {
  subset_conversions: "subsets",
  exact_set_rate: "exact",
  containing_set_rate: "contains",
};

export const shapleyJob: JobDefinition = {
  name: "shapley",
  description: "Shapley credit per channel over channel coalitions (vars.shapley_value_function)",
  reads: ["channel_paths"],
  writes: ["shapley_channel_credit"],
  tags: ["attribution"],
  async run(ctx) {
    const paths = await readChannelPaths((sql) => ctx.query(sql), ctx.ref("channel_paths"), { value: true });
    const channels = [...new Set(paths.flatMap((p) => p.path))].sort(compareStrings);
    const rows: CoalitionRow[] = paths.map((p) => ({ channels: coalitionMask(p.path, channels), conversions: p.conversions, nulls: p.nulls, value: p.value }));
    const valueFunction = ctx.settings.shapleyValueFunction;
    const model = fitShapley(rows, { channels, valueFunction: VALUE_FUNCTIONS[valueFunction], maxExactChannels: ctx.settings.shapleyMaxExactChannels, seed: 1 });
    if (model.method === "sampled") ctx.warn(`${channels.length} channels is more than vars.shapley_max_exact_channels: Shapley values are sampled (${model.samples} permutations; see standard_error)`);
    const n = await ctx.write("shapley_channel_credit", SHAPLEY_SCHEMA, model.credits.map((c) => ({
      channel: c.channel, shapley_value: c.shapley, negative_contribution: c.negativeContribution, standard_error: c.standardError, share: c.share,
      conversions: c.conversions, value: c.value, method: model.method, value_function: valueFunction,
    })));
    await ctx.artifacts.put(`models/shapley/${ctx.runId}.json`, shapleyToJSON(model), "application/json");
    return { rows: n, metrics: { channels: channels.length, method: model.method } };
  },
};
