/**
 * Every model's channel credit side by side, and how much the models agree (top-3 channels,
 * Spearman rank correlation): the table BI tools and the report read.
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { ColumnSchema, Row } from "../src/engines/engine.ts";
import { compareModels, type ModelShares } from "../src/models/compare.ts";
import { compareStrings } from "../src/models/numeric.ts";
import { countOf, textOf } from "../src/jobs/tables.ts";
import { tableSchema } from "../src/catalog/index.ts";

const CHANNEL_CREDIT_BY_MODEL_SCHEMA: ColumnSchema[] = tableSchema("channel_credit_by_model");
const MODEL_AGREEMENT_SCHEMA: ColumnSchema[] = tableSchema("model_agreement");

interface Credit { model: string; channel: string; conversions: number; value: number }

export const modelComparisonJob: JobDefinition = {
  name: "model_comparison",
  description: "channel credit of every model side by side, with top-3 agreement",
  // The ML model is compared in its own job (ml_model_agreement): its AUC floor may refuse to publish,
  // and that must not hold back the comparison of the other models.
  reads: ["heuristic_channel_credit", "markov_removal_effects", "shapley_channel_credit", "owox_channel_credit"],
  writes: ["channel_credit_by_model", "model_agreement"],
  tags: ["attribution"],
  async run(ctx) {
    const read = async (table: string, model: string | null): Promise<Credit[]> => {
      const cols = model === null ? "model, channel, conversions, value" : "channel, conversions, value";
      const rows: Row[] = await ctx.query(`SELECT ${cols} FROM ${ctx.ref(table)}`);
      return rows.map((r, i) => ({
        model: model ?? textOf(r, "model", table, i), channel: textOf(r, "channel", table, i),
        conversions: countOf(r, "conversions", table, i), value: countOf(r, "value", table, i),
      }));
    };
    const credits = [
      ...(await read("heuristic_channel_credit", null)),
      ...(await read("markov_removal_effects", `markov_order_${ctx.settings.markovOrder}`)),
      ...(await read("shapley_channel_credit", "shapley")),
      ...(await read("owox_channel_credit", "owox_funnel")),
    ].sort((a, b) => compareStrings(a.model, b.model) || compareStrings(a.channel, b.channel));
    // With no conversion credited by any model there is nothing to compare: every model's "top 3" is
    // empty and would agree perfectly. The tables are emptied so no earlier comparison is shown.
    if (!credits.some((c) => c.conversions > 0)) {
      await ctx.write("channel_credit_by_model", CHANNEL_CREDIT_BY_MODEL_SCHEMA, []);
      await ctx.write("model_agreement", MODEL_AGREEMENT_SCHEMA, []);
      return { rows: 0, skipped: "no conversions credited by any model: nothing to attribute, nothing to compare" };
    }
    const models = [...new Set(credits.map((c) => c.model))];
    const totals = new Map(models.map((m) => [m, credits.filter((c) => c.model === m).reduce((s, c) => s + c.conversions, 0)]));
    const byModel: ModelShares[] = models.map((m) => ({
      model: m,
      shares: Object.fromEntries(credits.filter((c) => c.model === m).map((c) => [c.channel, totals.get(m)! > 0 ? c.conversions / totals.get(m)! : 0])),
    }));
    const comparison = compareModels(byModel, 3);
    let n = await ctx.write("channel_credit_by_model", CHANNEL_CREDIT_BY_MODEL_SCHEMA, credits.map((c) => ({
      ...c, share: totals.get(c.model)! > 0 ? c.conversions / totals.get(c.model)! : 0,
    })));
    n += await ctx.write("model_agreement", MODEL_AGREEMENT_SCHEMA, comparison.pairs.map((p) => ({
      model_a: p.modelA, model_b: p.modelB, top3_jaccard: p.topJaccard, top3_same_order: p.topRanksMatch, spearman: p.spearman,
    })));
    return { rows: n, metrics: { models: models.length } };
  },
};
