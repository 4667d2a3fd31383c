/**
 * Channel-path Markov attribution (ChannelAttribution's markov_model) on the `channel_paths`
 * aggregate: exact removal effects from the absorbing chain, order from vars.markov_order. The model is
 * fitted from the chain's step counts, summed by the warehouse (sql/jobs/channel_markov_transitions.sql), not
 * from the paths: at order 1 a few hundred rows instead of every path.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { JobContext, JobDefinition, JobResult } from "../src/jobs/job.ts";
import type { ColumnSchema, Row } from "../src/engines/engine.ts";
import { fitChannelMarkovFromSteps, channelMarkovToJSON, type ChannelMarkovModel, type ChannelStepRow, type MarkovOrder } from "../src/models/channel-markov.ts";
import { decodePathChannel } from "../src/models/paths.ts";
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
    const order = ctx.settings.markovOrder as MarkovOrder;
    const steps = await readChannelSteps(ctx, order);
    return writeModel(ctx, fitChannelMarkovFromSteps(steps, { order, useNulls: ctx.settings.markovUseNulls }), { steps: steps.length });
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

/** sql/jobs/channel_markov_transitions.sql: the chain's step counts, summed in the warehouse. */
const STEPS_SQL = path.join(packageRoot(), "sql", "jobs", "channel_markov_transitions.sql");

/**
 * The chain's steps from channel_paths, counted by the warehouse (so no path row reaches the job).
 * A NaN, infinite or negative amount fails as reading the paths would, naming the row (its place in path
 * order), column and value.
 */
async function readChannelSteps(ctx: JobContext, order: MarkovOrder): Promise<ChannelStepRow[]> {
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
  const raw = await ctx.query(readFileSync(STEPS_SQL, "utf8").replace("{{channel_paths}}", paths).replace(/\{\{order\}\}/g, String(order)));
  ctx.progress(`fitting order ${order} on ${raw.length} step counts`);
  const state = (r: Row, side: "from" | "to"): string[] | null => {
    if (r[`${side}_channel`] === null) return null;
    const names: string[] = [];
    for (const column of [`${side}_channel`, `${side}_channel_2`, `${side}_channel_3`, `${side}_channel_4`]) if (r[column] !== null) names.push(decodePathChannel(String(r[column])));
    return names;
  };
  return raw.map((r, i) => ({
    from: state(r, "from"),
    to: state(r, "to"),
    conversions: countOf(r, "total_conversions", "channel_markov_transitions", i),
    nulls: countOf(r, "total_null", "channel_markov_transitions", i),
    value: countOf(r, "total_conversion_value", "channel_markov_transitions", i),
    convertingValue: countOf(r, "converting_value", "channel_markov_transitions", i),
  }));
}
