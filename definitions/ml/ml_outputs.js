// The ML attribution job's tables (jobs/ml-attribution.ts) and its optional inputs. Declaring them lets
// downstream SQLX ref() them; the runner replaces each output declaration's producer with the job.
//
// Inputs (source tables in settings.datasets.sources; the job treats a missing or empty table as "no input"):
// - incrementality_experiments(channel STRING, period_start DATE, period_end DATE, incremental_conversions FLOAT64):
//   measured incremental conversions of geo holdouts / conversion-lift tests.
// - mmm_channel_shares(channel STRING, share FLOAT64): a media-mix model's channel share of incremental conversions.
for (const name of ["incrementality_experiments", "mmm_channel_shares"]) {
  declare({ schema: settings.datasets.sources, name });
}

// Outputs dataset (replaced on every run, no run ids: a re-run on the same data is byte-identical):
// - ml_channel_credit(method STRING 'removal_effect'|'shapley'|'treeshap', channel, conversions FLOAT64, value FLOAT64, share FLOAT64)
// - ml_channel_credit_daily(credit_date DATE, method, channel, conversions, value)
// - ml_calibrated_credit(channel, attributed_conversions, factor, calibrated_conversions, source 'experiment'|'mmm'|'none')
// - ml_model_agreement(model_a, model_b, top3_jaccard FLOAT64, top3_same_order BOOL, spearman FLOAT64)
for (const name of ["ml_channel_credit", "ml_channel_credit_daily", "ml_calibrated_credit", "ml_model_agreement"]) {
  declare({ schema: settings.datasets.outputs, name });
}

// Models dataset (append-only history, one set of rows per run):
// - ml_attribution_metrics(run_id, model, metric, value FLOAT64, measured_at TIMESTAMP)
// - ml_attribution_curves(run_id, model, curve 'roc'|'calibration', x, y, n)
// - ml_attribution_feature_importance(run_id, model, feature, importance, kind 'gain'|'cover'|'treeshap')
for (const name of ["ml_attribution_metrics", "ml_attribution_curves", "ml_attribution_feature_importance"]) {
  declare({ schema: settings.datasets.models, name });
}
