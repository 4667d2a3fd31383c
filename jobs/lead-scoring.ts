/**
 * Predictive lead scoring: reads `lead_features` (SQL, as of each lead's cut-off), trains an XGBoost
 * model with a time-based split and calibration when asked to (vars.lead_retrain), monitors the model
 * in use against its training baseline, and scores every open lead with its top factors.
 */
import { aucEvidenceFromMetrics, aucFloorVerdict } from "../src/ml-attribution/validation.ts";
import type { JobDefinition } from "../src/jobs/job.ts";
import type { BoostParams } from "../src/models/xgboost/index.ts";
import { toLeadRecords, candidateColumnsOf, labelOf, labelShortfall, type LeadRecord } from "../src/lead-scoring/dataset.ts";
import { trainLeadModel, type TrainedLeadModel } from "../src/lead-scoring/train.ts";
import { scoreLeadsOnAllCores } from "../src/lead-scoring/score.ts";
import { monitorModel, currentPopulation, type MonitoringResult } from "../src/lead-scoring/monitor.ts";
import { loadLeadModel, CURRENT_MODEL_ARTIFACT, type LoadedLeadModel } from "../src/lead-scoring/artifact.ts";
import { comparisonWindow, decideChallenger, type ChallengerDecision } from "../src/lead-scoring/champion.ts";
import { recordTrainedModel } from "../src/lead-scoring/versions.ts";
import type { Row } from "../src/engines/engine.ts";
import {
  LEAD_SCORES_SCHEMA, LEAD_METRICS_SCHEMA, LEAD_CURVES_SCHEMA, LEAD_IMPORTANCE_SCHEMA, LEAD_MONITORING_SCHEMA, MODEL_NAME,
} from "../src/lead-scoring/tables.ts";
import { UserError } from "../src/util/errors.ts";
import { inferFeatureKinds } from "../src/models/encoding.ts";
import { findLeakage } from "../src/lead-scoring/leakage.ts";

export const leadScoringJob: JobDefinition = {
  name: "lead_scoring",
  description: "lead conversion model (XGBoost, time split, calibrated), monitoring and lead scores",
  reads: ["lead_features"],
  writes: ["lead_scores", "model_metrics", "model_curves", "feature_importance", "lead_score_monitoring"],
  tags: ["leads", "ml"],
  async run(ctx) {
    const s = ctx.settings;
    const now = ctx.now();
    const mem = (phase: string): void => memoryNote(ctx, phase);
    // Column-wise (src/jobs/column-table.ts): at 446k leads, row objects took ≈ 1.5 GB of heap.
    const table = await ctx.queryTable(`SELECT * FROM ${ctx.ref("lead_features")} ORDER BY lead_id`);
    const records = toLeadRecords(table.rows());
    mem("read");
    if (!records.length) {
      ctx.warn("lead_scoring: lead_features is empty (no leads imported); nothing scored");
      await ctx.write("lead_scores", LEAD_SCORES_SCHEMA, []);
      return { rows: 0, metrics: { leads: 0 } };
    }
    const labelsAll = records.map((r) => labelOf(r, now.getTime(), s.leadLabelMaturityDays));

    // The model in use, if any.
    let prior: LoadedLeadModel | undefined;
    const saved = await ctx.artifacts.get(CURRENT_MODEL_ARTIFACT);
    if (saved) {
      try {
        prior = loadLeadModel(saved);
      } catch (e) {
        ctx.warn(`lead_scoring: ignoring the saved model (${(e as Error).message})`);
      }
    }
    let priorMonitoring: MonitoringResult | undefined;
    const monitorOpts = { leadPsiMax: s.leadPsiMax, maxAucDrop: s.driftMaxAucDrop };
    if (prior) {
      const current = currentPopulation(prior, records);
      const byId = new Map(records.map((r, i) => [r.leadId, labelsAll[i]!]));
      priorMonitoring = monitorModel(prior, current, current.map((r) => byId.get(r.leadId) ?? null), monitorOpts);
    }
    const retrain = s.leadRetrain === "always" || !prior || (s.leadRetrain === "if_needed" && priorMonitoring!.requiresRetraining);
    if (!prior && s.leadRetrain === "never") throw new UserError(`vars.lead_retrain is "never" but no saved lead-scoring model exists at ${CURRENT_MODEL_ARTIFACT}; run once with lead_retrain=always`);

    let model: LoadedLeadModel;
    let trained: TrainedLeadModel | undefined;
    let decision: ChallengerDecision | undefined;
    let rows = 0;
    if (retrain) {
      const labelledIdx = labelsAll.flatMap((y, i) => (y === null ? [] : [i]));
      const tooFew = labelShortfall(records, now.getTime(), s.leadLabelMaturityDays);
      if (tooFew) throw new UserError(tooFew);
      const labelled: LeadRecord[] = labelledIdx.map((i) => records[i]!);
      // The expected deal value (pipeline credit) is what a won lead is worth, not a sign that it will be won.
      const { columns, unknownExcluded: unknown } = candidateColumnsOf(table.names, [...s.leadExcludeColumns, ...(s.leadDealValueColumn ? [s.leadDealValueColumn] : [])]);
      const unknownExcluded = unknown.filter((c) => c !== s.leadDealValueColumn);
      if (unknownExcluded.length) ctx.warn(`lead_scoring: vars.lead_exclude_columns names ${unknownExcluded.join(", ")}, which lead_features does not have`);
      // Leaking columns: named in a warning, or the job fails (vars.lead_leakage).
      const leakLabels = labelledIdx.map((i) => labelsAll[i]!);
      const { features: leakSpecs } = inferFeatureKinds(labelled.map((r) => r.row), columns);
      const leaks = findLeakage(labelled.map((r) => r.row), leakLabels, labelled.map((r) => r.createdAt), leakSpecs, { maxSingleFeatureAuc: s.leadLeakageMaxAuc });
      if (leaks.length) {
        const fix = `exclude ${leaks.length === 1 ? "it" : "them"} with --vars 'lead_exclude_columns=${JSON.stringify([...s.leadExcludeColumns, ...leaks.map((l) => l.column)])}' (or import leads --exclude)`;
        const text = `${leaks.map((l) => l.message).join("; ")}; ${fix}`;
        if (s.leadLeakage === "refuse") throw new UserError(`lead_scoring refuses to train (vars.lead_leakage = "refuse"): ${text}`);
        ctx.warn(`lead_scoring: possible leakage, trained anyway (vars.lead_leakage = "warn"): ${text}`);
      }
      const known = new Set(table.names);
      const segmentColumns = s.leadMonitorSegments.filter((c) => known.has(c));
      const missingSegments = s.leadMonitorSegments.filter((c) => !known.has(c));
      if (missingSegments.length) ctx.warn(`lead_scoring: vars.lead_monitor_segments names ${missingSegments.join(", ")}, which lead_features does not have; not monitored`);
      ctx.progress(`training on ${labelled.length} labelled leads (${columns.length} candidate columns)`);
      trained = await trainLeadModel(labelled, labelledIdx.map((i) => labelsAll[i]!), {
        featureColumns: columns, baselineL2: s.leadBaselineL2, segments: segmentColumns, split: s.leadSplit, validationShare: s.leadValidationShare, testShare: s.leadTestShare,
        seed: s.leadSplitSeed, categorical: s.leadCategoricalEncoding, params: s.leadXgbParams as BoostParams,
        maxRounds: s.leadMaxRounds, scoreCutoff: s.leadScoreCutoff, runId: ctx.runId, now, logger: ctx.logger, backend: s.xgboostBackend,
      });
      mem("trained");
      const challenger: LoadedLeadModel = { artifact: trained.artifact, booster: trained.booster };
      // Champion and challenger: the retrained model replaces the one in use only if it is at least as
      // good on the same newest leads; otherwise the model in use keeps scoring.
      if (prior) {
        const testLabels = trained.split.test.map((i) => leakLabels[i]!);
        const window = comparisonWindow(prior, trained.split.test.map((i) => labelled[i]!), testLabels);
        decision = decideChallenger(prior, challenger, window, s.leadChallengerTolerance);
      } else {
        decision = undefined;
      }
      const promote = decision?.promote ?? true;
      const reason = decision?.reason ?? (saved ? "promoted: the saved model could not be read" : "promoted: no model was in use");
      await recordTrainedModel(ctx.artifacts, trained.artifact, { promote, reason }, now);
      if (!promote) ctx.warn(`lead_scoring: ${reason}`);
      model = promote ? challenger : prior!;
      // The ML attribution's rule (vars.ml_min_auc: the lower end of the test AUC's 95 % interval), here a warning only.
      const evidence = aucEvidenceFromMetrics(trained.metrics);
      const verdict = evidence && aucFloorVerdict(evidence, s.mlMinAuc);
      if (promote && evidence && verdict && !verdict.clears) ctx.warn(`lead_scoring: test AUC ${evidence.auc.toFixed(3)} (${Math.round(evidence.positives)} converted test leads) has a 95 % lower bound ${verdict.lowerBound.toFixed(3)} below ml_min_auc ${s.mlMinAuc}`);
    } else {
      model = prior!;
    }

    // Monitoring: the model that was in use (it decided about retraining); on a first run, the new
    // model's baseline (validation window) against the newer leads.
    let monitoring = priorMonitoring;
    if (!monitoring) {
      const current = currentPopulation(model, records);
      const byId = new Map(records.map((r, i) => [r.leadId, labelsAll[i]!]));
      monitoring = monitorModel(model, current, current.map((r) => byId.get(r.leadId) ?? null), monitorOpts);
    }
    mem("monitored");
    rows += await ctx.write("lead_score_monitoring", LEAD_MONITORING_SCHEMA, monitoring.rows.map((r) => ({ run_id: ctx.runId, ...r })), "append");

    const promoted = trained !== undefined && model.artifact.modelVersion === trained.artifact.modelVersion;
    const metricRows: Record<string, number> = { ...(promoted ? trained!.metrics : {}) };
    if (monitoring.scorePsi !== null) metricRows.monitor_score_psi = monitoring.scorePsi;
    if (monitoring.auc !== null) metricRows.monitor_auc = monitoring.auc;
    metricRows.monitor_requires_retraining = monitoring.requiresRetraining ? 1 : 0;
    metricRows.retrained = retrain ? 1 : 0;
    const metricsOut: Row[] = Object.entries(metricRows).map(([metric, value]) => ({
      run_id: ctx.runId, model: MODEL_NAME, metric, value, measured_at: now, model_version: model.artifact.modelVersion, note: null,
    }));
    if (trained && decision) metricsOut.push(...challengerRows(ctx.runId, now, trained, decision));
    // The logistic-regression baseline, fitted on the same split: what boosting adds.
    if (trained?.baseline && "metrics" in trained.baseline) {
      for (const [metric, value] of Object.entries(trained.baseline.metrics)) {
        metricsOut.push({ run_id: ctx.runId, model: `${MODEL_NAME}_logistic`, metric, value, measured_at: now, model_version: trained.artifact.modelVersion, note: "L2 logistic regression on the booster's split and encoded columns (standardised)" });
      }
    } else if (trained?.baseline && "error" in trained.baseline) {
      ctx.warn(`lead_scoring: the logistic-regression baseline could not be fitted (${trained.baseline.error})`);
    }
    rows += await ctx.write("model_metrics", LEAD_METRICS_SCHEMA, metricsOut, "append");
    if (trained && promoted) {
      rows += await ctx.write("model_curves", LEAD_CURVES_SCHEMA, trained.curves.map((c) => ({ run_id: ctx.runId, model: MODEL_NAME, ...c })), "append");
      rows += await ctx.write("feature_importance", LEAD_IMPORTANCE_SCHEMA, trained.importance.map((f) => ({ run_id: ctx.runId, model: MODEL_NAME, ...f })), "append");
    }

    // Score every open lead (not converted yet).
    const open = records.filter((r) => r.converted !== true);
    ctx.progress(`scoring ${open.length} open leads`);
    const scores = await scoreLeadsOnAllCores(model, open, now, s.leadScoreCutoff);
    mem("scored");
    rows += await ctx.write("lead_scores", LEAD_SCORES_SCHEMA, scores as unknown as Row[], "replace");
    mem("written");

    return {
      rows,
      metrics: {
        leads: records.length, scored: scores.length, retrained: retrain, model_version: model.artifact.modelVersion,
        requires_retraining: monitoring.requiresRetraining,
        ...(decision ? { challenger_promoted: decision.promote } : {}),
        ...(trained ? { auc: round(trained.metrics.auc), pr_auc: round(trained.metrics.pr_auc), log_loss: round(trained.metrics.log_loss) } : {}),
      },
    };
  },
};

/** Memory at a phase of the job (debug log): what the 30M-event run's peak is made of. */
function memoryNote(ctx: { logger: { debug(msg: string, fields?: Record<string, unknown>): void } }, phase: string): void {
  const m = process.memoryUsage();
  const mb = (b: number): number => Math.round(b / 1048576);
  ctx.logger.debug(`lead_scoring: memory after ${phase}`, { rss_mb: mb(m.rss), heap_used_mb: mb(m.heapUsed), external_mb: mb(m.external), array_buffers_mb: mb(m.arrayBuffers) });
}

const round = (x: number): number => Math.round(x * 10000) / 10000;

/**
 * The champion/challenger comparison in model_metrics: both models' AUC and log loss on the
 * same window and the decision (`challenger_promoted`), each row with the version it measures and the
 * reason; a challenger that was not promoted also gets its training figures, as model
 * lead_scoring_challenger (the model in use keeps the name lead_scoring).
 */
function challengerRows(runId: string, now: Date, trained: TrainedLeadModel, d: ChallengerDecision): Row[] {
  const championName = d.promote ? `${MODEL_NAME}_replaced` : MODEL_NAME;
  const challengerName = d.promote ? MODEL_NAME : `${MODEL_NAME}_challenger`;
  const row = (model: string, version: string, metric: string, value: number): Row => ({ run_id: runId, model, metric, value, measured_at: now, model_version: version, note: d.reason });
  const out: Row[] = [
    row(championName, d.champion.modelVersion, "window_auc", d.champion.rocAuc),
    row(championName, d.champion.modelVersion, "window_log_loss", d.champion.logLoss),
    row(challengerName, d.challenger.modelVersion, "window_auc", d.challenger.rocAuc),
    row(challengerName, d.challenger.modelVersion, "window_log_loss", d.challenger.logLoss),
    row(MODEL_NAME, d.challenger.modelVersion, "window_leads", d.window.leads),
    row(MODEL_NAME, d.challenger.modelVersion, "challenger_promoted", d.promote ? 1 : 0),
  ];
  if (!d.promote) for (const [metric, value] of Object.entries(trained.metrics)) out.push(row(challengerName, d.challenger.modelVersion, metric, value));
  return out;
}
