/**
 * Channel-path Markov attribution (ChannelAttribution's markov_model) on the `channel_paths`
 * aggregate: exact removal effects from the absorbing chain, order from vars.markov_order.
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { ColumnSchema } from "../src/engines/engine.ts";
import { fitChannelMarkov, channelMarkovToJSON, type MarkovOrder } from "../src/models/channel-markov.ts";
import { readChannelPaths } from "../src/jobs/tables.ts";
import { tableSchema } from "../src/catalog/index.ts";

const MARKOV_REMOVAL_EFFECTS_SCHEMA: ColumnSchema[] = tableSchema("markov_removal_effects");
const MARKOV_TRANSITIONS_SCHEMA: ColumnSchema[] = tableSchema("markov_transition_matrix");

export const channelMarkovJob: JobDefinition = {
  name: "channel_markov",
  description: "Markov-chain removal effects per channel (exact absorbing-chain solve)",
  reads: ["channel_paths"],
  writes: ["markov_removal_effects", "markov_transition_matrix"],
  tags: ["attribution"],
  async run(ctx) {
    const rows = await readChannelPaths((sql) => ctx.query(sql), ctx.ref("channel_paths"), { value: true });
    ctx.progress(`fitting order ${ctx.settings.markovOrder} on ${rows.length} paths`);
    const order = ctx.settings.markovOrder as MarkovOrder;
    const model = fitChannelMarkov(rows, { order, useNulls: ctx.settings.markovUseNulls });
    const total = model.totalConversions;
    let n = await ctx.write("markov_removal_effects", MARKOV_REMOVAL_EFFECTS_SCHEMA, model.credits.map((c) => ({
      channel: c.channel, removal_effect: c.removalEffect, removal_effect_value: c.removalEffectValue,
      conversions: c.conversions, value: c.value, share: total > 0 ? c.conversions / total : 0, markov_order: order,
    })));
    n += await ctx.write("markov_transition_matrix", MARKOV_TRANSITIONS_SCHEMA, model.transitions.map((t) => ({
      from_state: t.from, to_state: t.to, probability: t.probability, transitions: t.count, markov_order: order,
    })));
    await ctx.artifacts.put(`models/channel-markov/${ctx.runId}.json`, channelMarkovToJSON(model), "application/json");
    return { rows: n, metrics: { paths: rows.length, channels: model.channels.length, conversion_probability: model.conversionProbability, solver: model.solver.method } };
  },
};
