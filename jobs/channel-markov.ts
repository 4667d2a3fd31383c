/**
 * Channel-path Markov attribution (ChannelAttribution's markov_model) on the `channel_paths`
 * aggregate: exact removal effects from the absorbing chain, order from vars.markov_order. Order 1 is
 * fitted from the chain's step counts, summed by the warehouse (sql/jobs/channel_markov_transitions.sql):
 * a few hundred rows instead of every path. Higher orders read the paths.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { JobContext, JobDefinition, JobResult } from "../src/jobs/job.ts";
import type { ColumnSchema } from "../src/engines/engine.ts";
import {
  fitChannelMarkov,
  fitChannelMarkovFromSteps,
  channelMarkovToJSON,
  type ChannelMarkovModel,
  type ChannelPathRow,
  type ChannelStepRow,
  type MarkovOrder,
} from "../src/models/channel-markov.ts";
import { decodePathChannel, splitChannelPath } from "../src/models/paths.ts";
import { countOf, textOf } from "../src/jobs/tables.ts";
import { tableSchema } from "../src/catalog/index.ts";
import { packageRoot } from "../src/util/package-root.ts";

const MARKOV_REMOVAL_EFFECTS_SCHEMA: ColumnSchema[] = tableSchema("markov_removal_effects");
const MARKOV_TRANSITIONS_SCHEMA: ColumnSchema[] = tableSchema("markov_transition_matrix");

export const channelMarkovJob: JobDefinition = {
  name: "channel_markov",
  description: "Markov-chain removal effects per channel (exact absorbing-chain solve)",
  reads: ["channel_paths"],
  writes: ["markov_removal_effects", "markov_transition_matrix"],
  tags: ["attribution"],
  async run(ctx) {
    if (ctx.settings.markovOrder === 1) {
      const steps = await readChannelSteps(ctx);
      return writeModel(ctx, fitChannelMarkovFromSteps(steps, { useNulls: ctx.settings.markovUseNulls }), { steps: steps.length });
    }
    const raw = await ctx.query(`SELECT path, total_conversions, total_conversion_value, total_null FROM ${ctx.ref("channel_paths")} ORDER BY path`);
    const rows: ChannelPathRow[] = raw.map((r, i) => ({
      path: splitChannelPath(textOf(r, "path", "channel_paths", i)),
      conversions: countOf(r, "total_conversions", "channel_paths", i, ["path"]),
      value: countOf(r, "total_conversion_value", "channel_paths", i, ["path"]),
      nulls: countOf(r, "total_null", "channel_paths", i, ["path"]),
    })).filter((r) => r.path.length > 0);
    ctx.progress(`fitting order ${ctx.settings.markovOrder} on ${rows.length} paths`);
    const order = ctx.settings.markovOrder as MarkovOrder;
    const model = fitChannelMarkov(rows, { order, useNulls: ctx.settings.markovUseNulls });
    return writeModel(ctx, model, { paths: rows.length });
  },
};

/** The model's tables and its artifact; the metrics say what it was fitted on. */
async function writeModel(ctx: JobContext, model: ChannelMarkovModel, fittedOn: Record<string, number> = {}): Promise<JobResult> {
  const order = model.order;
  const total = model.totalConversions;
  let n = await ctx.write("markov_removal_effects", MARKOV_REMOVAL_EFFECTS_SCHEMA, model.credits.map((c) => ({
    channel: c.channel, removal_effect: c.removalEffect, removal_effect_value: c.removalEffectValue,
    conversions: c.conversions, value: c.value, share: total > 0 ? c.conversions / total : 0, markov_order: order,
  })));
  n += await ctx.write("markov_transition_matrix", MARKOV_TRANSITIONS_SCHEMA, model.transitions.map((t) => ({
    from_state: t.from, to_state: t.to, probability: t.probability, transitions: t.count, markov_order: order,
  })));
  await ctx.artifacts.put(`models/channel-markov/${ctx.runId}.json`, channelMarkovToJSON(model), "application/json");
  return { rows: n, metrics: { ...fittedOn, channels: model.channels.length, conversion_probability: model.conversionProbability, solver: model.solver.method } };
}

/** sql/jobs/channel_markov_transitions.sql: the order-1 step counts, summed in the warehouse. */
const STEPS_SQL = path.join(packageRoot(), "sql", "jobs", "channel_markov_transitions.sql");

/**
 * The order-1 chain's steps from channel_paths, counted by the warehouse (so no path row reaches the job).
 * A NaN, infinite or negative amount fails as reading the paths would, naming the row (its place in path
 * order), column and value.
 */
async function readChannelSteps(ctx: JobContext): Promise<ChannelStepRow[]> {
  const paths = ctx.ref("channel_paths");
  const amounts = ["total_conversions", "total_conversion_value", "total_null"];
  // A range test is FALSE for NaN and ±inf on both engines (as helpers.amountIssue).
  const bad = `path IS NULL OR NOT (${amounts.map((c) => `(${c} IS NULL OR ${c} BETWEEN 0 AND 1.7976931348623157e308)`).join(" AND ")})`;
  const [check] = await ctx.query(`SELECT COUNTIF(${bad}) AS bad_rows FROM ${paths}`);
  if (Number(check?.bad_rows ?? 0) > 0) {
    const [row] = await ctx.query(`WITH paths_in_order AS (SELECT path, ${amounts.join(", ")}, ROW_NUMBER() OVER (ORDER BY path) - 1 AS row_index FROM ${paths})
SELECT * FROM paths_in_order WHERE ${bad} ORDER BY row_index LIMIT 1`);
    const i = Number(row!.row_index);
    textOf(row!, "path", "channel_paths", i);
    for (const c of amounts) countOf(row!, c, "channel_paths", i, ["path"]);
  }
  const raw = await ctx.query(readFileSync(STEPS_SQL, "utf8").replace("{{channel_paths}}", paths));
  ctx.progress(`fitting order 1 on ${raw.length} step counts`);
  const name = (v: unknown): string | null => (v === null ? null : decodePathChannel(String(v)));
  return raw.map((r, i) => ({
    from: name(r.from_channel),
    to: name(r.to_channel),
    conversions: countOf(r, "total_conversions", "channel_markov_transitions", i),
    nulls: countOf(r, "total_null", "channel_markov_transitions", i),
    value: countOf(r, "total_conversion_value", "channel_markov_transitions", i),
    convertingValue: countOf(r, "converting_value", "channel_markov_transitions", i),
  }));
}
