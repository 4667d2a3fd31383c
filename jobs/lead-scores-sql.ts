/**
 * Lead scores in SQL: compiles the current lead-scoring model (models/lead-scoring/current.json) into
 * GoogleSQL (src/scoring-sql/) and runs it in the warehouse, building `lead_scores_sql` for every lead of
 * lead_features. The statements are saved beside the model (models/lead-scoring/<version>.sql): on
 * BigQuery they run as they are in a scheduled query, without Node.
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import { CURRENT_MODEL_ARTIFACT, loadLeadModel, type LoadedLeadModel } from "../src/lead-scoring/artifact.ts";
import { leadScoresSql } from "../src/scoring-sql/lead-scores.ts";
import { executeScoringSql } from "../src/scoring-sql/execute.ts";

export const leadScoresSqlJob: JobDefinition = {
  name: "lead_scores_sql",
  description: "lead scores computed in SQL by the current lead-scoring model compiled to GoogleSQL",
  // lead_scores: not read, but it orders this job after lead_scoring, which chooses the current model.
  reads: ["lead_features", "lead_scores"],
  writes: ["lead_scores_sql"],
  tags: ["leads", "ml"],
  async run(ctx) {
    const saved = await ctx.artifacts.get(CURRENT_MODEL_ARTIFACT);
    if (!saved) return { rows: 0, skipped: `no lead-scoring model at ${CURRENT_MODEL_ARTIFACT} yet (the lead_scoring job saves one)` };
    let model: LoadedLeadModel;
    try {
      model = loadLeadModel(saved);
    } catch (e) {
      // As the lead_scoring job does with a saved model it cannot read: nothing to compile until it trains one.
      return { rows: 0, skipped: `the saved lead-scoring model cannot be read (${(e as Error).message})` };
    }
    const columns = (await ctx.engine.tableSchema(ctx.target("lead_features"))).map((c) => c.name);
    const absent = model.artifact.encoder.features.map((f) => f.name).filter((c) => !columns.includes(c));
    if (absent.length) ctx.warn(`lead_features has no column ${absent.join(", ")}, which ${model.artifact.modelVersion} uses: scored as missing (as the TypeScript scorer does)`);
    const sql = leadScoresSql(model, { source: ctx.ref("lead_features"), target: ctx.ref("lead_scores_sql"), scoreCutoff: ctx.settings.leadScoreCutoff, columns });
    const rows = await executeScoringSql(ctx, sql, { artifact: `models/lead-scoring/${model.artifact.modelVersion.replace("@", "-")}.sql`, trees: model.booster.numTrees, table: "lead_scores_sql" });
    return {
      rows,
      metrics: { model_version: model.artifact.modelVersion, sql_form: sql.form, statements: sql.statements.length, sql_characters: sql.maxStatementChars, trees: model.booster.numTrees },
    };
  },
};
