/**
 * How much the registered attribution models agree (top-3 channels, Spearman rank correlation),
 * from their channel credit side by side (channel_credit_by_model, built in SQL from the registry).
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { ColumnSchema, Row } from "../src/engines/engine.ts";
import { compareModels, type ModelShares } from "../src/models/compare.ts";
import { countOf, textOf } from "../src/jobs/tables.ts";
import { compareStrings } from "../src/models/numeric.ts";
import { tableSchema } from "../src/catalog/index.ts";

const MODEL_AGREEMENT_SCHEMA: ColumnSchema[] = tableSchema("model_agreement");

export const modelComparisonJob: JobDefinition = {
  name: "model_comparison",
  description: "top-3 agreement and rank correlation of every pair of registered attribution models",
  // Every registered model, the ML attribution models included (their AUC floor may refuse to publish:
  // then they have no credit and are named as not published, and the others are still compared).
  reads: ["channel_credit_by_model"],
  writes: ["model_agreement"],
  tags: ["attribution"],
  async run(ctx) {
    const rows: Row[] = await ctx.query(`SELECT model, channel, share FROM ${ctx.ref("channel_credit_by_model")} ORDER BY model, channel`);
    // channel_credit_by_model is empty when no model credited a conversion: there is nothing to compare,
    // and the agreement table is emptied so no earlier comparison is shown.
    if (rows.length === 0) {
      await ctx.write("model_agreement", MODEL_AGREEMENT_SCHEMA, []);
      return { rows: 0, skipped: "no conversions credited by any model: nothing to attribute, nothing to compare" };
    }
    const shares = new Map<string, Record<string, number>>();
    rows.forEach((r, i) => {
      const model = textOf(r, "model", "channel_credit_by_model", i);
      shares.set(model, { ...(shares.get(model) ?? {}), [textOf(r, "channel", "channel_credit_by_model", i)]: countOf(r, "share", "channel_credit_by_model", i) });
    });
    const byModel: ModelShares[] = [...shares].sort(([a], [b]) => compareStrings(a, b)).map(([model, s]) => ({ model, shares: s }));
    // A registered model with no credit published nothing this run (e.g. ML below vars.ml_min_auc): said, not compared.
    const unpublished = ctx.settings.attributionModels.map((m) => m.name).filter((m) => !shares.has(m));
    if (unpublished.length) ctx.warn(`not compared: ${unpublished.join(", ")} published no credit this run`);
    const comparison = compareModels(byModel, 3);
    const n = await ctx.write("model_agreement", MODEL_AGREEMENT_SCHEMA, comparison.pairs.map((p) => ({
      model_a: p.modelA, model_b: p.modelB, top3_jaccard: p.topJaccard, top3_same_order: p.topRanksMatch, spearman: p.spearman,
    })));
    return { rows: n, metrics: { models: byModel.length, ...(unpublished.length ? { not_published: unpublished.join(", ") } : {}) } };
  },
};
