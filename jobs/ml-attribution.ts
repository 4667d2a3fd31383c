/**
 * ML attribution: an XGBoost conversion model on the `ml_journey_features` aggregate (time split, weighted
 * aggregated training, early stopping), then per-journey channel credit by removal effect, model-as-value-
 * function Shapley and TreeSHAP, rolled up to channel and day. Validated on the newest days (AUC floor:
 * vars.ml_min_auc), compared with the Markov and Shapley models, calibrated to measured incrementality
 * (experiments, MMM shares) and checked for drift against the previous run.
 */
import type { JobContext, JobDefinition, JobResult } from "../src/jobs/job.ts";
import type { ColumnSchema, Row } from "../src/engines/engine.ts";
import { UserError } from "../src/util/errors.ts";
import { getOrMake } from "../src/util/maps.ts";
import { compareModels, type ModelShares } from "../src/models/compare.ts";
import { compareStrings } from "../src/models/numeric.ts";
import { countOf, textOf } from "../src/jobs/tables.ts";
import { channelsKey, featureKey, parseChannelStats, segmentKey, type ChannelStat, type FeatureRow, type JourneyFeatures } from "../src/ml-attribution/features.ts";
import { attributeCredit, fitXgboostOn, lastTouchTotals, prepareData, CREDIT_METHODS, ML_CURRENT_MODEL_ARTIFACT, type ConversionModel, type CreditMethod, type MethodCredit, type TestMetrics } from "../src/ml-attribution/pipeline.ts";
import { counterfactualCredit, estimateCausalEffects, fitLogisticFamily, fitStackedEnsemble, mlCreditModel, predictiveCredit, type CausalEstimate, type FamilyCredit, type PredictiveFamilyFit } from "../src/ml-attribution/families.ts";
import { capChannelCredit } from "../src/ml-attribution/credit.ts";
import { fitSequenceFamily, parseTouchSequence, sequenceFamilyCredit, sequenceKey, sequenceRow, type SequenceFamilyFit, type SequenceRow } from "../src/ml-attribution/sequences.ts";
import { featureBase, fitSequenceStack, sequenceBase, sequenceStackCredit, trainConversionRate, type SequenceStackFit } from "../src/ml-attribution/ensemble.ts";
import { TooFewDaysError } from "../src/ml-attribution/split.ts";
import { AucBelowFloorError, aucLowerBoundFor, calibrateCredit, checkAucFloor, checkDrift, type ExperimentResult, type MmmShare } from "../src/ml-attribution/validation.ts";
import { tableSchema } from "../src/catalog/index.ts";
import { onAllCores } from "../src/models/xgboost/forest-team.ts";

const ML_MODEL_NAME = "ml_attribution";

const ML_CHANNEL_CREDIT_SCHEMA: ColumnSchema[] = tableSchema("ml_channel_credit");
const ML_CHANNEL_CREDIT_DAILY_SCHEMA: ColumnSchema[] = tableSchema("ml_channel_credit_daily");
const ML_CALIBRATED_CREDIT_SCHEMA: ColumnSchema[] = tableSchema("ml_calibrated_credit");
const ML_MODEL_AGREEMENT_SCHEMA: ColumnSchema[] = tableSchema("ml_model_agreement");
const ML_METRICS_SCHEMA: ColumnSchema[] = tableSchema("model_metrics");
const ML_CURVES_SCHEMA: ColumnSchema[] = tableSchema("model_curves");
const ML_FEATURE_IMPORTANCE_SCHEMA: ColumnSchema[] = tableSchema("feature_importance");
const ML_FAMILY_CREDIT_SCHEMA: ColumnSchema[] = tableSchema("ml_family_credit");
const ML_CAUSAL_EFFECTS_SCHEMA: ColumnSchema[] = tableSchema("ml_causal_effects");
const ML_CHANNEL_WEIGHTS_SCHEMA: ColumnSchema[] = tableSchema("ml_channel_weights");

/** Held-out metrics of a family as (metric, value) pairs, named as XGBoost's. */
function familyMetrics(test: TestMetrics, fitSeconds: number, details: Record<string, number>): Array<[string, number]> {
  return [
    ["auc", test.auc], ["pr_auc", test.prAuc], ["log_loss", test.logLoss], ["brier", test.brier],
    ["calibration_error", test.calibrationError], ["base_rate", test.baseRate], ["validation_auc", test.validationAuc],
    ["fit_seconds", Math.round(fitSeconds * 1000) / 1000], ...Object.entries(details),
  ];
}

/** Points kept of the ROC curve in model_curves (evenly by index, ends always kept). */
const MAX_ROC_POINTS = 201;

const FEATURES_TABLE = "ml_journey_features";
/** Key columns of ml_journey_features, named in errors about a row. */
const FEATURE_KEY = ["journey_end_date", "channel_stats", "user_type", "device", "region", "engagement"];

async function readFeatureRows(ctx: JobContext): Promise<FeatureRow[]> {
  const [count] = await ctx.query(`SELECT COUNT(*) AS n FROM ${ctx.ref(FEATURES_TABLE)}`);
  const n = Number(count?.n ?? 0);
  if (n > ctx.settings.mlMaxFeatureRows) {
    throw new UserError(`${FEATURES_TABLE} has ${n.toLocaleString("en-US")} rows, more than vars.ml_max_feature_rows = ${ctx.settings.mlMaxFeatureRows.toLocaleString("en-US")}; raise it in workflow_settings.yaml if the job has the memory, or coarsen the journeys (vars.max_path_length, vars.path_remove_channels)`);
  }
  const raw = await ctx.query(
    `SELECT journey_end_date, channel_stats, user_type, device, region, engagement, conversions, non_conversions, conversion_value
     FROM ${ctx.ref(FEATURES_TABLE)}
     ORDER BY journey_end_date, channel_stats, user_type, device, region, engagement`,
  );
  // Rows of many days and segments share a channel_stats text: parsed once, its channels shared (read-only).
  const parsed = new Map<string, { channels: ChannelStat[]; key: string }>();
  const channelsOf = (text: string, i: number): { channels: ChannelStat[]; key: string } =>
    getOrMake(parsed, text, () => {
      const channels = parseChannelStats(text, `${FEATURES_TABLE} row ${i + 1}`);
      return { channels, key: channelsKey(channels) };
    });
  // Likewise the few segments (user type × device × region × engagement): each segment's part of the key is written
  // once, looked up by its four values in turn (no separator that a value could hold).
  const segments = new Map<string, Map<string, Map<string, Map<string, string>>>>();
  const segmentOf = (j: Omit<JourneyFeatures, "channels">): string => {
    const byEngagement = getOrMake(getOrMake(getOrMake(segments, j.userType, () => new Map()), j.device, () => new Map()), j.region, () => new Map<string, string>());
    return getOrMake(byEngagement, j.engagement, () => segmentKey(j));
  };
  return raw.map((r, i) => {
    const stats = channelsOf(textOf(r, "channel_stats", FEATURES_TABLE, i), i);
    const row = {
      channels: stats.channels,
      userType: textOf(r, "user_type", FEATURES_TABLE, i),
      device: textOf(r, "device", FEATURES_TABLE, i),
      region: textOf(r, "region", FEATURES_TABLE, i),
      engagement: textOf(r, "engagement", FEATURES_TABLE, i),
      date: dateOf(r, "journey_end_date", FEATURES_TABLE, i),
      conversions: countOf(r, "conversions", FEATURES_TABLE, i, FEATURE_KEY),
      nonConversions: countOf(r, "non_conversions", FEATURES_TABLE, i, FEATURE_KEY),
      value: countOf(r, "conversion_value", FEATURES_TABLE, i, FEATURE_KEY),
      key: "",
    };
    row.key = featureKey(row, stats.key, segmentOf(row));
    return row;
  });
}

const SEQUENCES_TABLE = "ml_journey_sequences";
const SEQUENCE_KEY = ["journey_end_date", "touch_sequence", "channel_stats", "user_type", "device", "region", "engagement"];

/** The ordered-touch aggregate of the sequence families (read only when one of them is on). */
async function readSequenceRows(ctx: JobContext): Promise<SequenceRow[]> {
  const [count] = await ctx.query(`SELECT COUNT(*) AS n FROM ${ctx.ref(SEQUENCES_TABLE)}`);
  const n = Number(count?.n ?? 0);
  if (n > ctx.settings.mlMaxFeatureRows) {
    throw new UserError(`${SEQUENCES_TABLE} has ${n.toLocaleString("en-US")} rows, more than vars.ml_max_feature_rows = ${ctx.settings.mlMaxFeatureRows.toLocaleString("en-US")}; raise it if the job has the memory, or lower vars.ml_sequence_max_touches`);
  }
  const raw = await ctx.query(
    `SELECT journey_end_date, touch_sequence, channel_stats, user_type, device, region, engagement, conversions, non_conversions, conversion_value
     FROM ${ctx.ref(SEQUENCES_TABLE)}
     ORDER BY journey_end_date, touch_sequence, channel_stats, user_type, device, region, engagement`,
  );
  return raw.map((r, i) => {
    const text = textOf(r, "touch_sequence", SEQUENCES_TABLE, i);
    const stats = textOf(r, "channel_stats", SEQUENCES_TABLE, i);
    const userType = textOf(r, "user_type", SEQUENCES_TABLE, i);
    const device = textOf(r, "device", SEQUENCES_TABLE, i);
    const region = textOf(r, "region", SEQUENCES_TABLE, i);
    const engagement = textOf(r, "engagement", SEQUENCES_TABLE, i);
    return sequenceRow({
      date: dateOf(r, "journey_end_date", SEQUENCES_TABLE, i),
      key: sequenceKey(text, stats, userType, device, region, engagement),
      features: { channels: parseChannelStats(stats, `${SEQUENCES_TABLE} row ${i + 1}`), userType, device, region, engagement },
      userType, device, region, engagement,
      touches: parseTouchSequence(text, `${SEQUENCES_TABLE} row ${i + 1}`),
      conversions: countOf(r, "conversions", SEQUENCES_TABLE, i, SEQUENCE_KEY),
      nonConversions: countOf(r, "non_conversions", SEQUENCES_TABLE, i, SEQUENCE_KEY),
      value: countOf(r, "conversion_value", SEQUENCES_TABLE, i, SEQUENCE_KEY),
    });
  });
}

/** A DATE cell ("YYYY-MM-DD" at the engine boundary). */
function dateOf(r: Row, column: string, table: string, i: number): string {
  const v = r[column];
  const s = v instanceof Date ? v.toISOString().slice(0, 10) : v;
  if (typeof s !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new UserError(`${table} row ${i + 1}: column ${column} must be a DATE, got ${JSON.stringify(v)}`);
  return s;
}

/** Rows of an optional table (a source or another job's output); [] when the table does not exist. */
async function optionalRows(ctx: JobContext, table: string, sql: string): Promise<Row[] | null> {
  if (!(await ctx.engine.tableExists(ctx.target(table)))) return null;
  return ctx.query(sql);
}

async function previousAuc(ctx: JobContext): Promise<number | null> {
  const rows = await optionalRows(ctx, "model_metrics",
    `SELECT value FROM ${ctx.ref("model_metrics")}
     WHERE job = '${mlAttributionJob.name}' AND model = '${ML_MODEL_NAME}' AND metric = 'auc' AND run_id != '${ctx.runId.replace(/'/g, "")}'
     ORDER BY measured_at DESC, run_id DESC LIMIT 1`);
  const v = rows?.[0]?.value;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(points[Math.round((k * (points.length - 1)) / (max - 1))]!);
  return out;
}

function modelHistoryRows(ctx: JobContext, fit: ConversionModel): { curves: Row[]; importance: Row[] } {
  const base = { run_id: ctx.runId, model: ML_MODEL_NAME };
  let wPos = 0;
  let wNeg = 0;
  for (const b of fit.calibration) {
    wPos += b.weight * b.observedRate;
    wNeg += b.weight * (1 - b.observedRate);
  }
  const roc = fit.roc.fpr.map((x, i) => ({ x, y: fit.roc.tpr[i]!, n: fit.roc.tpr[i]! * wPos + x * wNeg }));
  const curves: Row[] = [
    ...thin(roc, MAX_ROC_POINTS).map((p) => ({ ...base, curve: "roc", ...p })),
    ...fit.calibration.map((b) => ({ ...base, curve: "calibration", x: b.meanPredicted, y: b.observedRate, n: b.weight })),
  ];
  const importance: Row[] = [];
  for (const kind of ["gain", "cover"] as const) {
    const imp = fit.model.featureImportance(kind);
    for (const f of fit.encoding.featureNames) importance.push({ ...base, feature: f, importance: imp[f] ?? 0, kind });
  }
  return { curves, importance };
}

export const mlAttributionJob: JobDefinition = {
  name: "ml_attribution",
  description: "XGBoost conversion model with removal-effect, Shapley and TreeSHAP channel credit, validated, calibrated and drift-checked",
  reads: [FEATURES_TABLE, SEQUENCES_TABLE, "markov_removal_effects", "shapley_channel_credit", "incrementality_experiments", "mmm_channel_shares"],
  writes: [
    "ml_channel_credit", "ml_channel_credit_daily", "ml_calibrated_credit", "ml_model_agreement",
    "model_metrics", "model_curves", "feature_importance", "ml_family_credit", "ml_causal_effects", "ml_channel_weights",
  ],
  tags: ["attribution", "ml"],
  async run(ctx) {
    const s = ctx.settings;
    const measuredAt = ctx.now();
    const rows = await readFeatureRows(ctx);
    // What the registered ML models publish (session_credit, the model comparison): emptied whenever this
    // run publishes nothing, so a refused or idle model credits no session instead of an earlier run's credit.
    const unpublish = (): Promise<number> => ctx.write("ml_channel_weights", ML_CHANNEL_WEIGHTS_SCHEMA, []);
    // No conversion in the data (e.g. a GA4 export without purchases): nothing to learn nor attribute.
    // Skipped, not failed; earlier ML credit tables are left as they were (as below the AUC floor).
    if (!rows.some((r) => r.conversions > 0)) {
      await unpublish();
      return { rows: 0, skipped: `no conversions in ${FEATURES_TABLE} (${rows.length} journey rows): nothing to attribute; check the transactions sources and vars.conversion_events` };
    }
    ctx.progress(`fitting on ${rows.length} feature rows`);
    let data: ReturnType<typeof prepareData>;
    try {
      data = prepareData(rows, s.mlSplit, s.mlCensorDays);
    } catch (e) {
      // Too short a history to split by calendar: nothing to fit yet. Skipped like no conversions, so the
      // other registered models are still credited (a failure would block session_credit for all of them).
      if (!(e instanceof TooFewDaysError)) throw e;
      await unpublish();
      return { rows: 0, skipped: `${e.message}: nothing published this run` };
    }
    const fit = await fitXgboostOn(data, {
      split: s.mlSplit, censorDays: s.mlCensorDays, maxRounds: s.mlMaxRounds, maxDepth: s.mlMaxDepth, learningRate: s.mlLearningRate,
      earlyStoppingRounds: s.mlEarlyStoppingRounds, seed: s.mlSeed, backend: s.xgboostBackend, logger: ctx.logger,
    });
    // The other families of vars.ml_families, on the same split (their metrics are recorded even below the AUC floor).
    const predictive: PredictiveFamilyFit[] = [];
    let causal: CausalEstimate | null = null;
    if (s.mlFamilies.includes("logistic_regression")) {
      ctx.progress("fitting logistic_regression");
      const lr = fitLogisticFamily(data);
      predictive.push(lr);
      if (s.mlFamilies.includes("stacked_ensemble")) {
        ctx.progress("fitting stacked_ensemble");
        predictive.push(fitStackedEnsemble(data, [{ name: "xgboost", predict: (X) => fit.model.predict(X) }, { name: "logistic_regression", predict: lr.predict }]));
      }
    }
    if (s.mlFamilies.includes("causal_dml")) {
      ctx.progress("estimating causal_dml effects");
      causal = estimateCausalEffects([...data.parts.train, ...data.parts.validation, ...data.parts.test], data.encoding, rows);
      if (causal.unidentified.length) ctx.warn(`causal_dml: ${causal.unidentified.join(", ")} ${causal.unidentified.length > 1 ? "are" : "is"} in every fitted journey or in none, so ${causal.unidentified.length > 1 ? "their" : "its"} effect cannot be estimated: no causal_dml credit`);
    }
    const sequenceFits: SequenceFamilyFit[] = [];
    const sequenceKinds = (["lstm", "attention"] as const).filter((k) => s.mlFamilies.includes(k));
    const sequenceRows = sequenceKinds.length ? await readSequenceRows(ctx) : [];
    for (const kind of sequenceKinds) {
      ctx.progress(`fitting ${kind} on ${sequenceRows.length} sequence rows`);
      sequenceFits.push(fitSequenceFamily(sequenceRows, data, kind, { hidden: s.mlSequenceHiddenUnits, maxEpochs: s.mlSequenceMaxEpochs, seed: s.mlSeed }));
    }
    // stacked_ensemble with a sequence family on: a second ensemble that stacks the sequence families too, on the
    // key ml_journey_sequences shares with ml_journey_features (channel_stats); the feature-only one stays for comparison.
    let sequenceStack: SequenceStackFit | null = null;
    const lrFit = predictive.find((f) => f.family === "logistic_regression");
    if (s.mlFamilies.includes("stacked_ensemble") && lrFit && sequenceFits.length > 0) {
      ctx.progress("fitting stacked_ensemble_sequences");
      const prior = trainConversionRate(sequenceRows, data);
      sequenceStack = fitSequenceStack(sequenceRows, data, [
        featureBase("xgboost", data.encoding, (X) => fit.model.predict(X)), featureBase("logistic_regression", data.encoding, lrFit.predict),
        ...sequenceFits.map((f) => sequenceBase(f, prior)),
      ]);
    }
    const familyMetricRows = (): Row[] => [
      ...sequenceFits.flatMap((f) => familyMetrics(f.test, f.fitSeconds, f.details).map(([metric, value]) => ({ model: `ml_${f.family}`, metric, value }))),
      ...predictive.flatMap((f) => familyMetrics(f.test, f.fitSeconds, f.details).map(([metric, value]) => ({ model: `ml_${f.family}`, metric, value }))),
      ...(sequenceStack ? familyMetrics(sequenceStack.test, sequenceStack.fitSeconds, sequenceStack.details) : [])
        .map(([metric, value]) => ({ model: "ml_stacked_ensemble_sequences", metric, value })),
      ...(causal ? [["fit_seconds", Math.round(causal.fitSeconds * 1000) / 1000], ["units", causal.units]] as Array<[string, number]> : [])
        .map(([metric, value]) => ({ model: "ml_causal_dml", metric, value })),
    ].map((r) => ({ run_id: ctx.runId, ...r, measured_at: measuredAt }));
    const prev = await previousAuc(ctx);
    const drift = checkDrift(prev, fit.test.auc, s.driftMaxAucDrop);
    if (drift.message) ctx.warn(drift.message);

    const metrics: Array<[string, number]> = [
      ["auc", fit.test.auc], ["pr_auc", fit.test.prAuc], ["log_loss", fit.test.logLoss], ["brier", fit.test.brier],
      ["calibration_error", fit.test.calibrationError], ["base_rate", fit.test.baseRate], ["validation_auc", fit.test.validationAuc],
      ["n_train", fit.split.train.journeys], ["n_validation", fit.split.validation.journeys], ["n_test", fit.split.test.journeys],
      ["train_rows", fit.trainRows], ["train_vectors", fit.trainVectors], ["features", fit.encoding.featureNames.length],
      ["trees", fit.model.numTrees], ["fit_seconds", Math.round(fit.fitSeconds * 1000) / 1000],
      ["min_auc", s.mlMinAuc], ["censored_journeys", fit.censoredJourneys], ["drift_flag", drift.flagged ? 1 : 0],
    ];
    if (drift.previousAuc !== null) metrics.push(["previous_auc", drift.previousAuc]);
    if (drift.relativeDrop !== null) metrics.push(["auc_relative_drop", drift.relativeDrop]);
    const history = modelHistoryRows(ctx, fit);
    const writeHistory = async (extra: Array<[string, number]>, importance: Row[]): Promise<number> => {
      let n = await ctx.write("model_metrics", ML_METRICS_SCHEMA,
        [...[...metrics, ...extra].map(([metric, value]) => ({ run_id: ctx.runId, model: ML_MODEL_NAME, metric, value, measured_at: measuredAt })), ...familyMetricRows()], "append");
      n += await ctx.write("model_curves", ML_CURVES_SCHEMA, history.curves, "append");
      n += await ctx.write("feature_importance", ML_FEATURE_IMPORTANCE_SCHEMA, [...history.importance, ...importance], "append");
      return n;
    };
    const registeredMl = s.attributionModels.filter((m) => m.job === mlAttributionJob.name).map((m) => m.name);
    const windowText = `test days ${fit.split.test.from} … ${fit.split.test.to}, ${fit.split.test.journeys} journeys`;
    const evidence = { auc: fit.test.auc, positives: fit.test.positives, negatives: fit.test.negatives };
    metrics.push(["auc_lower_bound", aucLowerBoundFor(evidence)], ["test_conversions", fit.test.positives]);
    try {
      checkAucFloor(evidence, s.mlMinAuc, windowText);
    } catch (e) {
      if (!(e instanceof AucBelowFloorError)) throw e;
      // Refused: skipped, not failed, so the other registered models are still credited and compared
      // (what reads the tables left as they were is skipped).
      const n = await writeHistory([["published", 0]], []) + await unpublish();
      ctx.warn(`not published: test AUC ${fit.test.auc.toFixed(4)} (${Math.round(fit.test.positives)} test conversions) has a 95 % lower bound ${e.lowerBound.toFixed(4)} below vars.ml_min_auc = ${s.mlMinAuc}; ${registeredMl.join(", ")} credit no session this run`);
      const refused: JobResult = { rows: n, skipped: e.message, metrics: { auc: fit.test.auc, published: false } };
      return refused;
    }

    ctx.progress(`crediting with ${fit.model.numTrees} trees`);
    // The XGBoost credits predict (and explain) coalitions in the millions at 10M events: on every core. Its
    // counterfactual removal (every journey, covariates held fixed) is in ml_family_credit only.
    const [credit, xgbCounterfactual] = await onAllCores(fit.model, () => [
      attributeCredit(rows, fit, { shapleyMaxExactChannels: s.mlShapleyMaxExactChannels, shapleyPermutations: s.mlShapleyPermutations, seed: s.mlSeed }),
      counterfactualCredit(rows, data.encoding, "xgboost", (X) => fit.model.predict(X)),
    ] as const);
    if (credit.sampledShapleyVectors > 0) {
      ctx.warn(`${credit.sampledShapleyVectors} of ${credit.creditedVectors} journey shapes have more channels than vars.ml_shapley_max_exact_channels = ${s.mlShapleyMaxExactChannels}: their Shapley credit is sampled (${s.mlShapleyPermutations} permutations each)`);
    }
    const capped = {} as Record<CreditMethod, MethodCredit>;
    for (const m of CREDIT_METHODS) {
      const c = capChannelCredit(credit.byMethod[m].totals, credit.byMethod[m].daily, s.mlMaxChannelShare);
      if (!c.feasible) ctx.warn(`vars.ml_max_channel_share = ${s.mlMaxChannelShare} cannot hold for ${m} (too few channels with credit): they get equal shares`);
      capped[m] = c;
    }
    const familyCredit: FamilyCredit[] = CREDIT_METHODS.map((m) => ({ family: "xgboost", method: m, ...capped[m] }));
    const xgbCounterfactualCapped = capChannelCredit(xgbCounterfactual.totals, xgbCounterfactual.daily, s.mlMaxChannelShare);
    familyCredit.push({ family: "xgboost", method: "counterfactual_removal", totals: xgbCounterfactualCapped.totals, daily: xgbCounterfactualCapped.daily });
    const familyCreditSeconds: Array<[string, number]> = [];
    for (const f of predictive) {
      ctx.progress(`crediting with ${f.family}`);
      const t0 = performance.now();
      familyCredit.push(...predictiveCredit(rows, data.encoding, f.family, f.predict, { shapleyMaxExactChannels: s.mlShapleyMaxExactChannels, shapleyPermutations: s.mlShapleyPermutations, seed: s.mlSeed }));
      familyCreditSeconds.push([`ml_${f.family}`, (performance.now() - t0) / 1000]);
    }
    for (const f of sequenceFits) {
      ctx.progress(`crediting with ${f.family}`);
      const t0 = performance.now();
      familyCredit.push(...sequenceFamilyCredit(sequenceRows, f, { shapleyMaxExactChannels: s.mlShapleyMaxExactChannels, shapleyPermutations: s.mlShapleyPermutations, seed: s.mlSeed }));
      familyCreditSeconds.push([`ml_${f.family}`, (performance.now() - t0) / 1000]);
    }
    if (sequenceStack) {
      ctx.progress("crediting with stacked_ensemble_sequences");
      const t0 = performance.now();
      familyCredit.push(...sequenceStackCredit(sequenceRows, sequenceStack, { shapleyMaxExactChannels: s.mlShapleyMaxExactChannels, shapleyPermutations: s.mlShapleyPermutations, seed: s.mlSeed }));
      familyCreditSeconds.push(["ml_stacked_ensemble_sequences", (performance.now() - t0) / 1000]);
    }
    if (causal) familyCredit.push(causal.credit);
    for (const f of familyCredit) {
      if (f.family === "xgboost") continue;
      const c = capChannelCredit(f.totals, f.daily, s.mlMaxChannelShare);
      if (!c.feasible) ctx.warn(`vars.ml_max_channel_share = ${s.mlMaxChannelShare} cannot hold for ${f.family} ${f.method} (too few channels with credit): they get equal shares`);
      f.totals = c.totals;
      f.daily = c.daily;
    }

    // Calibration of the configured method against measured incrementality.
    const experiments: ExperimentResult[] = ((await optionalRows(ctx, "incrementality_experiments",
      `SELECT channel, period_start, period_end, incremental_conversions FROM ${ctx.ref("incrementality_experiments")} ORDER BY channel, period_start, period_end`)) ?? [])
      .map((r, i) => ({
        channel: textOf(r, "channel", "incrementality_experiments", i),
        periodStart: dateOf(r, "period_start", "incrementality_experiments", i),
        periodEnd: dateOf(r, "period_end", "incrementality_experiments", i),
        incrementalConversions: countOf(r, "incremental_conversions", "incrementality_experiments", i),
      }));
    const mmm: MmmShare[] = ((await optionalRows(ctx, "mmm_channel_shares",
      `SELECT channel, share FROM ${ctx.ref("mmm_channel_shares")} ORDER BY channel`)) ?? [])
      .map((r, i) => ({ channel: textOf(r, "channel", "mmm_channel_shares", i), share: countOf(r, "share", "mmm_channel_shares", i) }));
    const primary = capped[s.mlCalibratedMethod];
    const calibration = calibrateCredit(primary.totals, primary.daily, experiments, mmm);
    for (const w of calibration.warnings) ctx.warn(w);

    // Agreement with the other models (and last touch on the same journeys).
    const models: ModelShares[] = CREDIT_METHODS.map((m) => ({ model: `ml_${m}`, shares: Object.fromEntries(capped[m].totals.map((t) => [t.channel, t.share])) }));
    const other = async (table: string, model: string): Promise<void> => {
      const r = await optionalRows(ctx, table, `SELECT channel, conversions FROM ${ctx.ref(table)} ORDER BY channel`);
      if (r === null || r.length === 0) {
        ctx.warn(`${table} is missing or empty: ml_model_agreement has no ${model} pairs this run`);
        return;
      }
      models.push({ model, shares: Object.fromEntries(r.map((x, i) => [textOf(x, "channel", table, i), countOf(x, "conversions", table, i)])) });
    };
    await other("markov_removal_effects", `markov_order_${s.markovOrder}`);
    await other("shapley_channel_credit", "shapley");
    models.push({ model: "last_touch", shares: Object.fromEntries(lastTouchTotals(rows)) });
    const comparison = compareModels(models, 3);
    const pairs = comparison.pairs.filter((p) => p.modelA.startsWith("ml_") || p.modelB.startsWith("ml_"));

    // Credit tables: replaced, no run ids or timestamps (a re-run on the same data is byte-identical).
    let n = await ctx.write("ml_channel_credit", ML_CHANNEL_CREDIT_SCHEMA, CREDIT_METHODS.flatMap((m) =>
      capped[m].totals.map((t) => ({ method: m, channel: t.channel, conversions: t.conversions, value: t.value, share: t.share }))));
    n += await ctx.write("ml_channel_credit_daily", ML_CHANNEL_CREDIT_DAILY_SCHEMA, CREDIT_METHODS.flatMap((m) =>
      capped[m].daily.map((d) => ({ credit_date: d.date, method: m, channel: d.channel, conversions: d.conversions, value: d.value })))
      .sort((a, b) => compareStrings(a.credit_date, b.credit_date) || compareStrings(a.method, b.method) || compareStrings(a.channel, b.channel)));
    n += await ctx.write("ml_family_credit", ML_FAMILY_CREDIT_SCHEMA, familyCredit.flatMap((f) =>
      f.totals.map((t) => ({ family: f.family, method: f.method, channel: t.channel, conversions: t.conversions, value: t.value, share: t.share }))));
    // The registered models' credit (includes/attribution_models.js): a series no registration names
    // (e.g. the attention family's attention weights) is not credit for sessions.
    const registered = new Set(registeredMl);
    n += await ctx.write("ml_channel_weights", ML_CHANNEL_WEIGHTS_SCHEMA, familyCredit
      .flatMap((f) => f.totals.map((t) => ({ model: mlCreditModel(f.family, f.method), channel: t.channel, conversions: t.conversions, value: t.value, share: t.share })))
      .filter((r) => registered.has(r.model))
      .sort((a, b) => compareStrings(a.model, b.model) || compareStrings(a.channel, b.channel)));
    n += await ctx.write("ml_causal_effects", ML_CAUSAL_EFFECTS_SCHEMA, (causal?.effects ?? []).map((e) => ({
      channel: e.channel, effect: e.effect, standard_error: e.standardError, effect_low: e.effectLow, effect_high: e.effectHigh,
      treated_journeys: e.treatedJourneys, incremental_conversions: e.incrementalConversions, incremental_low: e.incrementalLow, incremental_high: e.incrementalHigh,
      share: causal!.credit.totals.find((t) => t.channel === e.channel)?.share ?? 0,
    })));
    n += await ctx.write("ml_calibrated_credit", ML_CALIBRATED_CREDIT_SCHEMA, calibration.rows.map((r) => ({
      channel: r.channel, attributed_conversions: r.attributedConversions, factor: r.factor, calibrated_conversions: r.calibratedConversions, source: r.source,
    })));
    n += await ctx.write("ml_model_agreement", ML_MODEL_AGREEMENT_SCHEMA, pairs.map((p) => ({
      model_a: p.modelA, model_b: p.modelB, top3_jaccard: p.topJaccard, top3_same_order: p.topRanksMatch, spearman: p.spearman,
    })));

    const extra: Array<[string, number]> = [
      ["published", 1], ["credit_seconds", Math.round(credit.creditSeconds * 1000) / 1000],
      ["credited_vectors", credit.creditedVectors], ["sampled_shapley_vectors", credit.sampledShapleyVectors],
    ];
    for (const [c, f] of calibration.experimentFactors) extra.push([`calibration_factor:experiment:${c}`, f]);
    for (const [c, f] of calibration.mmmFactors) extra.push([`calibration_factor:mmm:${c}`, f]);
    for (const p of pairs) {
      extra.push([`top3_jaccard:${p.modelA}~${p.modelB}`, p.topJaccard]);
      if (p.spearman !== null) extra.push([`spearman:${p.modelA}~${p.modelB}`, p.spearman]);
    }
    const shapImportance = [...credit.treeShapImportance].map(([feature, importance]) => ({ run_id: ctx.runId, model: ML_MODEL_NAME, feature, importance, kind: "mean_abs_shap" }));
    const creditSecondsRows = familyCreditSeconds.map(([model, sec]) => ({ run_id: ctx.runId, model, metric: "credit_seconds", value: Math.round(sec * 1000) / 1000, measured_at: measuredAt }));
    n += await writeHistory(extra, shapImportance);
    n += await ctx.write("model_metrics", ML_METRICS_SCHEMA, creditSecondsRows, "append");
    const saved = JSON.stringify({ run_id: ctx.runId, model: fit.model.toJSON(), families: [...predictive.map((f) => f.json), ...sequenceFits.map((f) => f.json), ...(sequenceStack ? [sequenceStack.json] : [])], encoding: fit.encoding, split: { train: fit.split.train, validation: fit.split.validation, test: fit.split.test } });
    await ctx.artifacts.put(`models/ml-attribution/${ctx.runId}.json`, saved, "application/json");
    // The published model (this run passed the AUC floor): what ml_journey_scores_sql compiles to SQL.
    await ctx.artifacts.put(ML_CURRENT_MODEL_ARTIFACT, saved, "application/json");
    return {
      rows: n,
      metrics: {
        auc: fit.test.auc, log_loss: fit.test.logLoss, trees: fit.model.numTrees, train_rows: fit.trainRows,
        drift: drift.flagged, test_window: `${fit.split.test.from}..${fit.split.test.to}`,
        ...(drift.flagged ? { action: "retrain: test AUC dropped (see warnings)" } : {}),
      },
    };
  },
};
