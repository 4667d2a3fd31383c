/**
 * OWOX-style ML funnel-based attribution, fitting step: transition probabilities per
 * (user type, device, region) with the reliability fallback to coarser levels. Scores and value
 * distribution are applied to events in SQL (definitions/attribution/funnel_*), so per-event work
 * stays in the warehouse.
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { ColumnSchema } from "../src/engines/engine.ts";
import { fitFunnelMarkov, funnelMarkovToJSON, type FunnelTransitionRow, type ReliabilityRule } from "../src/models/funnel-markov.ts";
import { countOf, textOf } from "../src/jobs/tables.ts";
import type { Settings } from "../src/config/settings.ts";
import { tableSchema } from "../src/catalog/index.ts";

const FUNNEL_PROBABILITIES_SCHEMA: ColumnSchema[] = tableSchema("funnel_transition_probabilities");

export function owoxReliabilityRule(s: Settings): ReliabilityRule {
  return s.owoxReliabilityRule === "min_count"
    ? { kind: "min-transitions", minTransitions: s.owoxReliabilityMinTransitions }
    : { kind: "wald-half-width", z: 1.96, maxHalfWidth: s.owoxReliabilityMaxHalfWidth, minTransitions: 1 };
}

export const funnelMarkovJob: JobDefinition = {
  name: "funnel_markov",
  description: "OWOX funnel transition probabilities with reliability fallback",
  reads: ["funnel_transitions"],
  writes: ["funnel_transition_probabilities"],
  tags: ["attribution", "owox"],
  async run(ctx) {
    const raw = await ctx.query(`SELECT from_step, to_step, user_type, device, region, transitions FROM ${ctx.ref("funnel_transitions")} ORDER BY 1, 2, 3, 4, 5`);
    const rows: FunnelTransitionRow[] = raw.map((r, i) => ({
      fromStep: textOf(r, "from_step", "funnel_transitions", i), toStep: textOf(r, "to_step", "funnel_transitions", i),
      userType: textOf(r, "user_type", "funnel_transitions", i), device: textOf(r, "device", "funnel_transitions", i),
      region: textOf(r, "region", "funnel_transitions", i), n: countOf(r, "transitions", "funnel_transitions", i, ["from_step", "to_step", "user_type", "device", "region"]),
    }));
    const steps = ctx.settings.funnelSteps.filter((s) => s.enabled).map((s) => s.name);
    const model = fitFunnelMarkov(rows, { steps, reliability: owoxReliabilityRule(ctx.settings) });
    const n = await ctx.write("funnel_transition_probabilities", FUNNEL_PROBABILITIES_SCHEMA, model.probabilities.map((p) => ({
      from_step: p.fromStep, to_step: p.toStep, user_type: p.userType, device: p.device, region: p.region,
      probability: p.p, level: p.level, sample_size: p.n, transitions: p.count,
    })));
    await ctx.artifacts.put(`models/funnel-markov/${ctx.runId}.json`, funnelMarkovToJSON(model), "application/json");
    const byLevel: Record<string, number> = {};
    for (const p of model.probabilities) byLevel[`level_${p.level}`] = (byLevel[`level_${p.level}`] ?? 0) + 1;
    return { rows: n, metrics: { transition_rows: rows.length, ...byLevel } };
  },
};
