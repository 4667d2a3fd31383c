/**
 * One benchmark world through the real pipeline: draw the world, compute its truth (truth.ts), write its
 * observed GA4 export and CRM transactions with the demo's writers into a fresh embedded warehouse, run the
 * attribution models (`model_comparison` and `ml_attribution` with everything they depend on: staging,
 * identity, sessions, paths, heuristics, Markov, Shapley, OWOX funnel, ML) and measure each model's
 * distance to the truth.
 */
import os from "node:os";
import path from "node:path";
import { loadProject } from "../compile/project.ts";
import type { JobDefinition } from "../jobs/job.ts";
import { engineDriver } from "../engines/registry.ts";
import { ensureSourceTables } from "../catalog/index.ts";
import { writeGa4Export } from "../demo/ga4-export.ts";
import { writeCrmTransactions } from "../demo/source-tables.ts";
import { runGraph } from "../runner/runner.ts";
import { LocalArtifactStore } from "../artifacts/store.ts";
import type { Logger } from "../util/logger.ts";
import { drawWorld, type Family, type World } from "./worlds.ts";
import { trueShares, type TrueShares } from "./truth.ts";
import { observeWorld } from "./observe.ts";
import { l1Distance, rankCorrelation } from "./accuracy.ts";
import { intervalCoverage, type ShareInterval } from "../models/credit-bootstrap.ts";
import { mlCreditModel } from "../ml-attribution/families.ts";
import { readChannelPaths } from "../jobs/tables.ts";
import { dataShape, type DataShape } from "../models/recommendation.ts";
import { selectMarkovOrder } from "../models/markov-order.ts";
import { fitChannelMarkov, type MarkovOrder } from "../models/channel-markov.ts";

/** First day of every benchmark world (fixed: results never depend on the clock). */
const BENCHMARK_START = "2024-03-01";

interface WorldOptions {
  family: Family;
  seed: number;
  users: number;
  /** Users of the truth population (drawn apart from the observed ones). */
  truthUsers: number;
  projectDir: string;
  /** The jobs the pipeline runs (the caller's registry: jobs/index.ts ALL_JOBS), as loadProject takes them. */
  jobs: JobDefinition[];
  /** Settings for the pipeline on top of the world's channel rules (e.g. ml_min_auc). */
  vars?: Record<string, string>;
  logger?: Logger;
  threads?: number;
  /** How strongly intent shows in the export (worlds.ts intentSignal; 0 = hidden); drawn per world when absent. */
  intentSignal?: number;
}

interface ModelAccuracy {
  model: string;
  shares: Record<string, number>;
  l1Shapley: number;
  l1Incremental: number;
  spearman: number | null;
  spearmanIncremental: number | null;
  /**
   * Share of the world's channels whose true share lies in the model's published 90 % interval (channel_credit_intervals
   * share_low/high, calibrated on src/benchmark/reference.ts: in-sample on the reference's own worlds; null: none).
   */
  coverageShapley: number | null;
  coverageIncremental: number | null;
  /** Likewise for the model's bootstrap interval alone (bootstrap_low/high; null: not bootstrapped). */
  bootstrapCoverageIncremental: number | null;
  /** The model's bootstrap 90 % interval per channel (channel_credit_intervals bootstrap_low/high); null: not bootstrapped. */
  bootstrapIntervals: Record<string, ShareInterval> | null;
}

export interface WorldResult {
  world: World;
  name: string;
  truth: TrueShares;
  observedConversions: number;
  models: ModelAccuracy[];
  /** ML test AUC (vars.ml_min_auc is relaxed so the model is measured even below its floor). */
  mlAuc: number | null;
  /** The ML model's metrics of this run (n_train, n_validation, n_test, base_rate, …). */
  mlMetrics: Record<string, number>;
  /**
   * The ML attribution job's model families (vars.ml_families) × credit methods: the benchmark model name of
   * the credit (in `models`) and the family's held-out metrics (auc, log_loss, brier, calibration_error,
   * fit_seconds, credit_seconds; none for causal_dml but its fit_seconds).
   */
  mlFamilies: Array<{ family: string; method: string; model: string; metrics: Record<string, number> }>;
  /** model_recommendation of this run: the recommended model (null: none) and each model's bootstrap L1. */
  recommended: string | null;
  bootstrapL1: Record<string, number>;
  /** The observed `channel_paths` aggregate's shape (what model_recommendation matches worlds on). */
  shape: DataShape | null;
  /** The Markov order with the best held-out likelihood on channel_paths (model markov_heldout_order); null: no paths. */
  selectedMarkovOrder: number | null;
  /** Failed pipeline actions (their models are missing from `models`). */
  failed: { action: string; error: string }[];
  /** Wall seconds of each pipeline action (as the run record names it), e.g. what the SQL models cost. */
  actionSeconds: Record<string, number>;
  seconds: { truth: number; generate: number; pipeline: number };
}

function worldName(family: Family, seed: number, users: number): string {
  return `${family}/s${seed}/u${users}`;
}

export async function runWorld(opts: WorldOptions): Promise<WorldResult> {
  const world = drawWorld(opts.family, opts.seed, opts.users, { intentSignal: opts.intentSignal });
  const t0 = Date.now();
  const truth = trueShares(world, opts.truthUsers);
  const t1 = Date.now();
  const startMs = Date.parse(`${BENCHMARK_START}T00:00:00Z`);
  const obs = observeWorld(world, startMs);
  const vars: Record<string, string> = {
    channel_rules: JSON.stringify(obs.channelRules),
    non_direct_excluded_channels: JSON.stringify(["direct"]),
    // Measure the ML model even when its AUC floor would refuse to publish it; the AUC is reported.
    ml_min_auc: "0",
    ...opts.vars,
  };
  const project = await loadProject(opts.projectDir, { vars, jobs: opts.jobs });
  // An in-memory embedded warehouse per world: the real pipeline, nothing left on disk.
  const engine = await engineDriver("duckdb").open({ path: ":memory:", memoryLimit: "3GB", threads: opts.threads ?? 2 });
  const local = engine.localLoading!;
  try {
    const ds = project.settings.datasets;
    await engine.ensureDataset("", ds.ga4);
    await engine.ensureDataset("", ds.sources);
    await writeGa4Export(local, obs.sessions, { ga4Schema: ds.ga4, startMs, days: world.days, seed: opts.seed, intradayDays: 0 });
    await writeCrmTransactions(local, ds.sources, obs.transactions);
    await ensureSourceTables(engine, project.settings);
    const t2 = Date.now();
    const run = await runGraph({
      graph: project.graph, engine, settings: project.settings,
      artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "funnelcredit-benchmark-artifacts")),
      selection: { actions: ["model_comparison", "ml_attribution", "model_recommendation"], includeDependencies: true },
      fullRefresh: true, logger: opts.logger,
    });
    const t3 = Date.now();
    const failed = run.actions.filter((a) => a.status === "failed").map((a) => ({ action: a.action, error: String(a.error ?? "") }));
    const actionSeconds = Object.fromEntries(run.actions.map((a) => [a.action, (a.endedAt.getTime() - a.startedAt.getTime()) / 1000]));
    const shares = new Map<string, Record<string, number>>();
    const add = (model: string, channel: string, share: number): void => {
      if (!shares.has(model)) shares.set(model, {});
      shares.get(model)![channel] = (shares.get(model)![channel] ?? 0) + share;
    };
    const has = async (schema: string, table: string): Promise<boolean> =>
      engine.tableExists({ database: "", schema, name: table });
    if (await has(ds.outputs, "channel_credit_by_model")) {
      for (const r of await engine.query(`SELECT model, channel, share FROM \`${ds.outputs}.channel_credit_by_model\``)) add(String(r.model), String(r.channel), Number(r.share));
    }
    // The registered ML models are in channel_credit_by_model; the ML tables add the series the registry
    // does not list (e.g. the attention weights), never one twice.
    const registered = new Set(shares.keys());
    if (await has(ds.outputs, "ml_channel_credit")) {
      for (const r of await engine.query(`SELECT method, channel, share FROM \`${ds.outputs}.ml_channel_credit\``)) {
        const model = mlCreditModel("xgboost", String(r.method));
        if (!registered.has(model)) add(model, String(r.channel), Number(r.share));
      }
    }
    // Metrics per model of the ML job: ml_attribution (XGBoost) and ml_<family> for the other families.
    const metricsByModel = new Map<string, Record<string, number>>();
    if (await has(ds.models, "model_metrics")) {
      for (const r of await engine.query(`SELECT model, metric, value FROM \`${ds.models}.model_metrics\` WHERE job = 'ml_attribution' ORDER BY model, metric`)) {
        const m = metricsByModel.get(String(r.model)) ?? {};
        m[String(r.metric)] = Number(r.value);
        metricsByModel.set(String(r.model), m);
      }
    }
    const mlMetrics: Record<string, number> = metricsByModel.get("ml_attribution") ?? {};
    const mlFamilies: WorldResult["mlFamilies"] = [];
    if (await has(ds.outputs, "ml_family_credit")) {
      // A series already read (registered, or XGBoost's in ml_channel_credit) is not added twice; the others
      // (e.g. XGBoost's counterfactual_removal, which only ml_family_credit holds) are.
      const read = new Set(shares.keys());
      const pairs = new Set<string>();
      for (const r of await engine.query(`SELECT family, method, channel, share FROM \`${ds.outputs}.ml_family_credit\` ORDER BY family, method, channel`)) {
        const family = String(r.family);
        const method = String(r.method);
        const model = mlCreditModel(family, method);
        if (!read.has(model)) add(model, String(r.channel), Number(r.share));
        if (pairs.has(model)) continue;
        pairs.add(model);
        mlFamilies.push({ family, method, model, metrics: metricsByModel.get(family === "xgboost" ? "ml_attribution" : `ml_${family}`) ?? {} });
      }
    }
    const mlAuc = mlMetrics.auc ?? null;
    // The product's own intervals (credit_intervals job) and recommendation (model_recommendation job).
    const intervals: Record<string, Record<string, ShareInterval>> = {};
    const bootstrap: Record<string, Record<string, ShareInterval>> = {};
    if (await has(ds.outputs, "channel_credit_intervals")) {
      for (const r of await engine.query(`SELECT model, channel, share_low, share_high, bootstrap_low, bootstrap_high FROM \`${ds.outputs}.channel_credit_intervals\` ORDER BY model, channel`)) {
        if (r.share_low !== null) (intervals[String(r.model)] ??= {})[String(r.channel)] = { lo: Number(r.share_low), hi: Number(r.share_high) };
        if (r.bootstrap_low !== null) (bootstrap[String(r.model)] ??= {})[String(r.channel)] = { lo: Number(r.bootstrap_low), hi: Number(r.bootstrap_high) };
      }
    }
    let recommended: string | null = null;
    const bootstrapL1: Record<string, number> = {};
    if (await has(ds.outputs, "model_recommendation")) {
      for (const r of await engine.query(`SELECT model, is_recommended, bootstrap_l1 FROM \`${ds.outputs}.model_recommendation\` ORDER BY rank`)) {
        if (r.is_recommended === true) recommended = String(r.model);
        if (r.bootstrap_l1 !== null) bootstrapL1[String(r.model)] = Number(r.bootstrap_l1);
      }
    }
    let shape: DataShape | null = null;
    let selectedMarkovOrder: number | null = null;
    if (await has(ds.intermediate, "channel_paths")) {
      const paths = await readChannelPaths((sql) => engine.query(sql), `\`${ds.intermediate}.channel_paths\``);
      shape = dataShape(paths);
      // Markov order chosen by held-out likelihood (src/models/markov-order.ts), measured here beside the
      // settings' order: the product's model name markov_order_<k> is fixed when the project compiles.
      if (paths.some((p) => p.conversions > 0)) {
        const sel = selectMarkovOrder(paths, { orders: [1, 2, 3] });
        selectedMarkovOrder = sel.order;
        const m = fitChannelMarkov(paths.map((p) => ({ path: p.path, conversions: p.conversions, value: p.conversions, nulls: p.nulls })),
          { order: sel.order as MarkovOrder, useNulls: project.settings.markovUseNulls, includeTransitions: false });
        for (const c of m.credits) add("markov_heldout_order", c.channel, m.totalConversions > 0 ? c.conversions / m.totalConversions : 0);
      }
    }
    const models: ModelAccuracy[] = [...shares.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([model, s]) => ({
      model,
      shares: s,
      l1Shapley: l1Distance(s, truth.shapley),
      l1Incremental: l1Distance(s, truth.incremental),
      spearman: rankCorrelation(s, truth.shapley, truth.channels),
      spearmanIncremental: rankCorrelation(s, truth.incremental, truth.channels),
      coverageShapley: intervals[model] ? intervalCoverage(intervals[model], truth.shapley, truth.channels) : null,
      coverageIncremental: intervals[model] ? intervalCoverage(intervals[model], truth.incremental, truth.channels) : null,
      bootstrapCoverageIncremental: bootstrap[model] ? intervalCoverage(bootstrap[model], truth.incremental, truth.channels) : null,
      bootstrapIntervals: bootstrap[model] ?? null,
    }));
    return {
      world, name: worldName(opts.family, opts.seed, opts.users), truth, observedConversions: obs.conversions, models, mlAuc, mlMetrics, mlFamilies, recommended, bootstrapL1, shape, selectedMarkovOrder, failed, actionSeconds,
      seconds: { truth: (t1 - t0) / 1000, generate: (t2 - t1) / 1000, pipeline: (t3 - t2) / 1000 },
    };
  } finally {
    await engine.close();
  }
}
