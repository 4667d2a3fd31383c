/**
 * Journey scores in SQL: compiles the published ML attribution conversion model
 * (models/ml-attribution/current.json: booster and journey encoding, written by the ml_attribution job when
 * a run passes vars.ml_min_auc) into GoogleSQL (src/scoring-sql/journey-scores.ts) and runs it in the
 * warehouse, building `ml_journey_scores_sql`: every row of ml_journey_features with the model's conversion
 * probability. The statements are saved beside the model (models/ml-attribution/<run>.sql): on BigQuery
 * they run as they are in a scheduled query, without Node.
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { FeatureEncoding } from "../src/ml-attribution/features.ts";
import { loadModel, type BoostedModel } from "../src/models/xgboost/index.ts";
import { journeyScoresSql } from "../src/scoring-sql/journey-scores.ts";
import { executeScoringSql } from "../src/scoring-sql/execute.ts";
import { ML_CURRENT_MODEL_ARTIFACT } from "../src/ml-attribution/pipeline.ts";

interface PublishedModel {
  runId: string;
  model: BoostedModel;
  encoding: FeatureEncoding;
}

/** The saved model, or why it cannot be used. */
function readPublished(text: string): PublishedModel | string {
  let o: { run_id?: unknown; model?: unknown; encoding?: unknown };
  try {
    o = JSON.parse(text) as typeof o;
  } catch (e) {
    return `it is not JSON (${(e as Error).message})`;
  }
  // Models saved before the run id was recorded: retrain once (the next ml_attribution run writes it).
  if (typeof o.run_id !== "string") return "it has no run_id (saved by an older version; the next ml_attribution run replaces it)";
  const enc = o.encoding as FeatureEncoding | undefined;
  if (!enc || !Array.isArray(enc.featureNames) || !Array.isArray(enc.channels)) return "it has no journey encoding";
  try {
    return { runId: o.run_id, model: loadModel(o.model), encoding: enc };
  } catch (e) {
    return (e as Error).message;
  }
}

export const mlJourneyScoresSqlJob: JobDefinition = {
  name: "ml_journey_scores_sql",
  description: "journey conversion probabilities computed in SQL by the published ML attribution model compiled to GoogleSQL",
  // ml_channel_credit: not read, but it orders this job after ml_attribution, which publishes the model.
  reads: ["ml_journey_features", "ml_channel_credit"],
  writes: ["ml_journey_scores_sql"],
  tags: ["attribution", "ml"],
  async run(ctx) {
    const saved = await ctx.artifacts.get(ML_CURRENT_MODEL_ARTIFACT);
    if (!saved) return { rows: 0, skipped: `no published ML attribution model at ${ML_CURRENT_MODEL_ARTIFACT} yet (the ml_attribution job saves one when a run passes vars.ml_min_auc)` };
    const published = readPublished(saved.toString("utf8"));
    if (typeof published === "string") return { rows: 0, skipped: `the saved ML attribution model cannot be used: ${published}` };
    const { runId, model, encoding } = published;
    const sql = journeyScoresSql(model, encoding, { source: ctx.ref("ml_journey_features"), target: ctx.ref("ml_journey_scores_sql"), modelRunId: runId });
    const rows = await executeScoringSql(ctx, sql, { artifact: `models/ml-attribution/${runId}.sql`, trees: model.numTrees, table: "ml_journey_scores_sql" });
    return {
      rows,
      metrics: { model_run_id: runId, sql_form: sql.form, statements: sql.statements.length, sql_characters: sql.maxStatementChars, trees: model.numTrees },
    };
  },
};
