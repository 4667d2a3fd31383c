/**
 * Tables written by the lead-scoring job (jobs/lead-scoring.ts). Declaring them lets downstream SQLX
 * (rpt_lead_scores) ref() them; the runner replaces each declaration's producer with the job.
 * Columns: README "Lead scoring" and LEAD_*_SCHEMA in src/lead-scoring/tables.ts.
 */
declare({ schema: settings.datasets.outputs, name: "lead_scores" });
for (const name of ["lead_scoring_metrics", "lead_scoring_curves", "lead_scoring_feature_importance", "lead_score_monitoring"]) {
  declare({ schema: settings.datasets.models, name });
}
