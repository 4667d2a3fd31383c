/**
 * What the run report reads, loaded once and tolerant of gaps: each table is read only if it
 * exists, and each piece of the report says whether it was loaded, not produced in this run
 * (table missing), or unreadable (query failed, e.g. a column the report expects is not there).
 *
 * Big tables (session/transaction credit, lead scores) are aggregated in the warehouse; only
 * small summaries reach Node. All SQL is GoogleSQL through `Engine.query`.
 */
import type { Engine, Row, Target, Value } from "../engines/engine.ts";
import { qualified as qualified3 } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import type { Graph } from "../dag/graph.ts";
import type { ActionRecord, RunRecord } from "../runner/run-record.ts";
import { RUN_HISTORY_TABLE } from "../runner/run-record.ts";
import { tableLocation } from "../catalog/index.ts";
import { sqlString } from "../util/sql.ts";
import { TableListing } from "../engines/table-listing.ts";

/** One piece of report data: loaded, not produced (table missing), or unreadable. */
export type Loaded<T> =
  | { state: "ok"; table: string; rows: T[]; /** e.g. "from run X: this run did not refit the model" */ note?: string }
  | { state: "missing"; table: string }
  | { state: "error"; table: string; message: string };

export interface ChannelCredit { model: string; channel: string; conversions: number | null; value: number | null; share: number | null }
/** channel_credit_intervals: a model's published 90 % interval per channel and its bootstrap interval (null: none). */
interface CreditInterval { model: string; channel: string; share_low: number | null; share_high: number | null; bootstrap_low: number | null; bootstrap_high: number | null }
/** model_recommendation: every model ranked, the recommended one first. */
export interface ModelRecommendationRow {
  model: string; rank: number; is_recommended: boolean; expected_l1: number | null; benchmark_l1: number | null;
  benchmark_worlds: string; bootstrap_l1: number | null; reason: string;
}
export interface ModelAgreement { model_a: string; model_b: string; top3_jaccard: number | null; top3_same_order: boolean | null; spearman: number | null }
export interface DailyCredit { credit_date: string; model: string; channel: string; conversions: number | null; value: number | null }
export interface FunnelTransition {
  from_step: string; to_step: string; user_type: string | null; device: string | null; region: string | null;
  probability: number | null; level: string | null; sample_size: number | null;
}
interface ModelMetric { run_id: string; model: string; metric: string; value: number | null; measured_at: Date | null }
export interface ModelCurvePoint { run_id: string; model: string; curve: string; x: number; y: number; n: number | null }
export interface FeatureImportance { run_id: string; model: string; feature: string; importance: number; kind: string | null }
export interface LeadMonitoring { run_id: string; feature: string; psi: number | null; ks: number | null; requires_retraining: boolean | null; reason: string | null }
export interface ScoreBucket { score: number; leads: number }
interface LeadSegment { segment: string; leads: number; mean_probability: number | null }
interface LeadFactor { feature: string; contribution: number | null; direction: string | null }
interface TopLead { lead_id: string; score: number | null; probability: number | null; segment: string | null; model_version: string | null; key_factors: LeadFactor[] }
interface LeadSummary { leads: number; model_versions: string[]; last_scored_at: Date | null }
/** channel_performance summed over the run's dates: spend and credited return per model and channel. */
export interface ChannelPerformance {
  model: string; channel: string; cost: number | null; clicks: number | null; conversions: number | null; value: number | null;
  last_touch_conversions: number | null; last_touch_value: number | null;
}
/** campaign_performance summed over dates, per model and source / medium / campaign. */
interface CampaignPerformance {
  model: string; channel: string; source: string; medium: string; campaign: string; cost: number | null; conversions: number | null; value: number | null;
  last_touch_conversions: number | null;
}
/** A top row of a paths-and-timing table, columns as the table has them. */
export type GenericRow = Record<string, string | number | null>;
interface TableCount { table: string; rows: number | null; state: "ok" | "missing" | "error"; message?: string }

export interface ReportData {
  run: RunRecord;
  generatedAt: Date;
  currency: string;
  /** The outputs dataset (`<base>`): action names are shown without this prefix in charts. */
  outputsDataset: string;
  /** Funnel step names in settings order (node order of the transition graph). */
  funnelSteps: string[];
  creditByModel: Loaded<ChannelCredit>;
  /** Every registered attribution model (includes/attribution_models.js): one without credit published none this run. */
  registeredModels?: readonly string[];
  intervals: Loaded<CreditInterval>;
  recommendation: Loaded<ModelRecommendationRow>;
  agreement: Loaded<ModelAgreement>;
  creditDaily: Loaded<DailyCredit>;
  funnel: Loaded<FunnelTransition>;
  metrics: Loaded<ModelMetric>;
  curves: Loaded<ModelCurvePoint>;
  importance: Loaded<FeatureImportance>;
  monitoring: Loaded<LeadMonitoring>;
  leadSummary: Loaded<LeadSummary>;
  scoreDistribution: Loaded<ScoreBucket>;
  leadSegments: Loaded<LeadSegment>;
  topLeads: Loaded<TopLead>;
  channelPerformance: Loaded<ChannelPerformance>;
  campaignPerformance: Loaded<CampaignPerformance>;
  /** Top conversion paths, path-length and time-lag distributions, assisted conversions (tables of the analyst views). */
  paths: { title: string; data: Loaded<GenericRow> }[];
  /** Row counts of the credit and score tables BI reads. */
  outputCounts: TableCount[];
}

// ---- value coercion at the report boundary (rows are plain JS values, see engine.ts) ----
const str = (v: Value | undefined): string => (v === null || v === undefined ? "" : v instanceof Date ? v.toISOString() : String(v));
const strOrNull = (v: Value | undefined): string | null => (v === null || v === undefined ? null : str(v));
const num = (v: Value | undefined): number | null => {
  if (v === null || v === undefined || typeof v === "boolean" || v instanceof Date || typeof v === "object") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};
const bool = (v: Value | undefined): boolean | null => (v === null || v === undefined ? null : typeof v === "boolean" ? v : String(v).toLowerCase() === "true");
const date = (v: Value | undefined): Date | null => {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isNaN(d.getTime()) ? null : d;
};
const dateStr = (v: Value | undefined): string => (v instanceof Date ? v.toISOString().slice(0, 10) : str(v).slice(0, 10));

function factors(v: Value | undefined): LeadFactor[] {
  let list: unknown = v;
  if (typeof v === "string") {
    try { list = JSON.parse(v); } catch { return []; }
  }
  if (!Array.isArray(list)) return [];
  return list
    .filter((f): f is Record<string, Value> => !!f && typeof f === "object" && !Array.isArray(f))
    .map((f) => ({ feature: str(f.feature), contribution: num(f.contribution), direction: strOrNull(f.direction) }));
}

/** Paths-and-timing tables the report shows as they are (first rows), in page order. */
/** The path tables shown as they are: name, title, and the order of their rows (each table's key, so the first 200 are always the same rows). */
const PATH_TABLES: [string, string, string][] = [
  ["conversion_paths", "Top conversion paths", "path_rank"],
  ["path_length_distribution", "Path length", "path_length"],
  ["time_lag_distribution", "Time lag", "days_to_conversion"],
  ["assisted_conversions", "Assisted and last-touch conversions", "channel"],
];

function genericRow(r: Row): GenericRow {
  const out: GenericRow = {};
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : v === null || v === undefined ? null : v instanceof Date ? dateStr(v) : typeof v === "object" ? JSON.stringify(v) : String(v);
  return out;
}

/** `project.dataset.table`, or `dataset.table` (the job's default project) when no project is known. */
function qualified(t: Target): string {
  return t.database ? qualified3(t) : "`" + `${t.schema}.${t.name}` + "`";
}

/**
 * What the report reads through: the engine's queries, and whether a table exists, answered for the outputs and
 * models datasets from one listing of their tables where the engine can list them (TableListing; DuckDB: ~25
 * lookups were ~25 catalog queries at the end of every run), else asked table by table.
 */
type ReportSource = Pick<Engine, "query" | "tableExists">;

async function reportSource(engine: Engine, datasets: readonly Target[]): Promise<ReportSource> {
  const tables = new TableListing(engine);
  await tables.list(datasets);
  return { query: (sql, opts) => engine.query(sql, opts), tableExists: (t) => tables.exists(t) };
}

async function loadTable<T>(engine: ReportSource, target: Target, sql: (table: string) => string, map: (r: Row) => T): Promise<Loaded<T>> {
  const table = `${target.schema}.${target.name}`;
  try {
    if (!(await engine.tableExists(target))) return { state: "missing", table };
    const rows = await engine.query(sql(qualified(target)), { action: `report: read ${table}` });
    return { state: "ok", table, rows: rows.map(map) };
  } catch (e) {
    return { state: "error", table, message: firstLine((e as Error).message) };
  }
}

/**
 * Tables that keep one set of rows per run (model metrics, curves…): this run's rows, or the
 * latest run's when this run did not refit (a selection that skipped the job), said in `note`.
 */
async function loadRunScoped<T>(engine: ReportSource, target: Target, runId: string, columns: string, map: (r: Row) => T): Promise<Loaded<T>> {
  const table = `${target.schema}.${target.name}`;
  try {
    if (!(await engine.tableExists(target))) return { state: "missing", table };
    const q = qualified(target);
    const runs = await engine.query(`SELECT DISTINCT run_id FROM ${q}`, { action: `report: read ${table}` });
    const ids = runs.map((r) => str(r.run_id)).filter((s) => s !== "").sort();
    if (!ids.length) return { state: "ok", table, rows: [] };
    const chosen = ids.includes(runId) ? runId : ids[ids.length - 1]!;
    const rows = await engine.query(`SELECT ${columns} FROM ${q} WHERE run_id = ${sqlString(chosen)} ORDER BY ${columns}`, { action: `report: read ${table}` });
    return {
      state: "ok", table, rows: rows.map(map),
      note: chosen === runId ? undefined : `from run ${chosen}: this run did not refit the model`,
    };
  } catch (e) {
    return { state: "error", table, message: firstLine((e as Error).message) };
  }
}

/**
 * Rows of a history several jobs share (model_metrics…), per job: its rows of this run, or of its latest
 * run when this run did not run it (a run of lead scoring alone still shows the ML model's latest figures).
 */
async function loadJobRunScoped<T>(engine: ReportSource, target: Target, runId: string, columns: string, map: (r: Row) => T): Promise<Loaded<T>> {
  const table = `${target.schema}.${target.name}`;
  try {
    if (!(await engine.tableExists(target))) return { state: "missing", table };
    const q = qualified(target);
    const runsByJob = new Map<string, string[]>();
    for (const r of await engine.query(`SELECT DISTINCT job, run_id FROM ${q}`, { action: `report: read ${table}` })) {
      if (str(r.run_id) === "") continue;
      runsByJob.set(str(r.job), [...(runsByJob.get(str(r.job)) ?? []), str(r.run_id)]);
    }
    const chosen = [...runsByJob].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([job, ids]) => [job, ids.includes(runId) ? runId : ids.sort()[ids.length - 1]!] as const);
    if (!chosen.length) return { state: "ok", table, rows: [] };
    const where = chosen.map(([job, id]) => `(job = ${sqlString(job)} AND run_id = ${sqlString(id)})`).join(" OR ");
    const rows = await engine.query(`SELECT ${columns} FROM ${q} WHERE ${where} ORDER BY ${columns}`, { action: `report: read ${table}` });
    const older = chosen.filter(([, id]) => id !== runId).map(([job, id]) => `${job} from run ${id}`);
    return { state: "ok", table, rows: rows.map(map), note: older.length ? `${older.join("; ")}: this run did not refit ${older.length > 1 ? "them" : "it"}` : undefined };
  } catch (e) {
    return { state: "error", table, message: firstLine((e as Error).message) };
  }
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? s;
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

async function countRows(engine: ReportSource, target: Target): Promise<TableCount> {
  const table = `${target.schema}.${target.name}`;
  try {
    if (!(await engine.tableExists(target))) return { table, rows: null, state: "missing" };
    const r = await engine.query(`SELECT COUNT(*) AS n FROM ${qualified(target)}`, { action: `report: count ${table}` });
    return { table, rows: num(r[0]?.n), state: "ok" };
  } catch (e) {
    return { table, rows: null, state: "error", message: firstLine((e as Error).message) };
  }
}

/**
 * Read everything the report shows for `run`. Never throws for a missing or unreadable table:
 * the section says so instead.
 */
export async function loadReportData(
  engine: Engine,
  settings: Settings,
  graph: Pick<Graph, "projectConfig">,
  run: RunRecord,
  opts: { now?: () => Date } = {},
): Promise<ReportData> {
  const database = graph.projectConfig.defaultDatabase;
  const out = (name: string): Target => ({ database, schema: settings.datasets.outputs, name });
  const models = (name: string): Target => ({ database, schema: settings.datasets.models, name });
  const source = await reportSource(engine, [out(""), models("")]);
  return readReportData(source, settings, run, out, models, opts);
}

async function readReportData(
  engine: ReportSource,
  settings: Settings,
  run: RunRecord,
  out: (name: string) => Target,
  models: (name: string) => Target,
  opts: { now?: () => Date },
): Promise<ReportData> {

  const creditByModel = await loadTable(engine, out("channel_credit_by_model"),
    (t) => `SELECT model, channel, conversions, value, share FROM ${t} ORDER BY model, channel`,
    (r): ChannelCredit => ({ model: str(r.model), channel: str(r.channel), conversions: num(r.conversions), value: num(r.value), share: num(r.share) }));
  const intervals = await loadTable(engine, out("channel_credit_intervals"),
    (t) => `SELECT model, channel, share_low, share_high, bootstrap_low, bootstrap_high FROM ${t} ORDER BY model, channel`,
    (r): CreditInterval => ({ model: str(r.model), channel: str(r.channel), share_low: num(r.share_low), share_high: num(r.share_high), bootstrap_low: num(r.bootstrap_low), bootstrap_high: num(r.bootstrap_high) }));
  const recommendation = await loadTable(engine, out("model_recommendation"),
    (t) => `SELECT model, rank, is_recommended, expected_l1, benchmark_l1, benchmark_worlds, bootstrap_l1, reason FROM ${t} ORDER BY rank`,
    (r): ModelRecommendationRow => ({
      model: str(r.model), rank: num(r.rank) ?? 0, is_recommended: bool(r.is_recommended) ?? false, expected_l1: num(r.expected_l1),
      benchmark_l1: num(r.benchmark_l1), benchmark_worlds: str(r.benchmark_worlds), bootstrap_l1: num(r.bootstrap_l1), reason: str(r.reason),
    }));
  const agreement = await loadTable(engine, out("model_agreement"),
    (t) => `SELECT model_a, model_b, top3_jaccard, top3_same_order, spearman FROM ${t} ORDER BY model_a, model_b`,
    (r): ModelAgreement => ({ model_a: str(r.model_a), model_b: str(r.model_b), top3_jaccard: num(r.top3_jaccard), top3_same_order: bool(r.top3_same_order), spearman: num(r.spearman) }));
  const creditDaily = await loadTable(engine, out("channel_credit_daily"),
    (t) => `SELECT credit_date, model, channel, SUM(conversions) AS conversions, SUM(value) AS value FROM ${t} GROUP BY credit_date, model, channel ORDER BY credit_date, model, channel`,
    (r): DailyCredit => ({ credit_date: dateStr(r.credit_date), model: str(r.model), channel: str(r.channel), conversions: num(r.conversions), value: num(r.value) }));
  const funnel = await loadTable(engine, models("funnel_transition_probabilities"),
    (t) => `SELECT from_step, to_step, user_type, device, region, probability, level, sample_size FROM ${t} ORDER BY from_step, to_step, user_type, device, region, level`,
    (r): FunnelTransition => ({
      from_step: str(r.from_step), to_step: str(r.to_step), user_type: strOrNull(r.user_type), device: strOrNull(r.device), region: strOrNull(r.region),
      probability: num(r.probability), level: strOrNull(r.level), sample_size: num(r.sample_size),
    }));
  const metrics = await loadJobRunScoped(engine, models("model_metrics"), run.runId, "run_id, model, metric, value, measured_at",
    (r): ModelMetric => ({ run_id: str(r.run_id), model: str(r.model), metric: str(r.metric), value: num(r.value), measured_at: date(r.measured_at) }));
  const curves = await loadJobRunScoped(engine, models("model_curves"), run.runId, "run_id, model, curve, x, y, n",
    (r): ModelCurvePoint => ({ run_id: str(r.run_id), model: str(r.model), curve: str(r.curve), x: num(r.x) ?? 0, y: num(r.y) ?? 0, n: num(r.n) }));
  const importance = await loadJobRunScoped(engine, models("feature_importance"), run.runId, "run_id, model, feature, importance, kind",
    (r): FeatureImportance => ({ run_id: str(r.run_id), model: str(r.model), feature: str(r.feature), importance: num(r.importance) ?? 0, kind: strOrNull(r.kind) }));
  const monitoring = await loadRunScoped(engine, models("lead_score_monitoring"), run.runId, "run_id, feature, psi, ks, requires_retraining, reason",
    (r): LeadMonitoring => ({ run_id: str(r.run_id), feature: str(r.feature), psi: num(r.psi), ks: num(r.ks), requires_retraining: bool(r.requires_retraining), reason: strOrNull(r.reason) }));

  const leads = out("lead_scores");
  const leadSummary = await loadTable(engine, leads,
    (t) => `SELECT COUNT(*) AS leads, STRING_AGG(DISTINCT model_version, ', ') AS model_versions, MAX(scored_at) AS last_scored_at FROM ${t}`,
    (r): LeadSummary => ({ leads: num(r.leads) ?? 0, model_versions: str(r.model_versions).split(", ").filter(Boolean).sort(), last_scored_at: date(r.last_scored_at) }));
  const scoreDistribution = await loadTable(engine, leads,
    (t) => `SELECT score, COUNT(*) AS leads FROM ${t} WHERE score IS NOT NULL GROUP BY score ORDER BY score`,
    (r): ScoreBucket => ({ score: num(r.score) ?? 0, leads: num(r.leads) ?? 0 }));
  const leadSegments = await loadTable(engine, leads,
    (t) => `SELECT COALESCE(segment, '(none)') AS segment, COUNT(*) AS leads, AVG(probability) AS mean_probability FROM ${t} GROUP BY 1 ORDER BY mean_probability DESC, segment`,
    (r): LeadSegment => ({ segment: str(r.segment), leads: num(r.leads) ?? 0, mean_probability: num(r.mean_probability) }));
  const topLeads = await loadTable(engine, leads,
    (t) => `SELECT lead_id, score, probability, segment, model_version, key_factors FROM ${t} ORDER BY probability DESC, lead_id LIMIT 10`,
    (r): TopLead => ({ lead_id: str(r.lead_id), score: num(r.score), probability: num(r.probability), segment: strOrNull(r.segment), model_version: strOrNull(r.model_version), key_factors: factors(r.key_factors) }));

  const channelPerformance = await loadTable(engine, out("channel_performance"),
    (t) => `SELECT model, channel, SUM(cost) AS cost, SUM(clicks) AS clicks, SUM(conversions) AS conversions, SUM(value) AS value,
      SUM(last_touch_conversions) AS last_touch_conversions, SUM(last_touch_value) AS last_touch_value FROM ${t} GROUP BY model, channel ORDER BY model, channel`,
    (r): ChannelPerformance => ({
      model: str(r.model), channel: str(r.channel), cost: num(r.cost), clicks: num(r.clicks), conversions: num(r.conversions), value: num(r.value),
      last_touch_conversions: num(r.last_touch_conversions), last_touch_value: num(r.last_touch_value),
    }));
  const campaignPerformance = await loadTable(engine, out("campaign_performance"),
    (t) => `SELECT model, channel, source, medium, campaign, SUM(cost) AS cost, SUM(conversions) AS conversions, SUM(value) AS value,
      SUM(last_touch_conversions) AS last_touch_conversions FROM ${t} GROUP BY model, channel, source, medium, campaign ORDER BY value DESC, model, channel, source, medium, campaign LIMIT 2000`,
    (r): CampaignPerformance => ({
      model: str(r.model), channel: str(r.channel), source: str(r.source), medium: str(r.medium), campaign: str(r.campaign),
      cost: num(r.cost), conversions: num(r.conversions), value: num(r.value), last_touch_conversions: num(r.last_touch_conversions),
    }));
  const paths: ReportData["paths"] = [];
  for (const [name, title, order] of PATH_TABLES) {
    paths.push({ title, data: await loadTable(engine, out(name), (t) => `SELECT * FROM ${t} ORDER BY ${order} LIMIT 200`, genericRow) });
  }

  const outputCounts: TableCount[] = [];
  for (const name of ["channel_credit_daily", "session_credit", "transaction_credit", "lead_scores"]) outputCounts.push(await countRows(engine, out(name)));

  return {
    run,
    generatedAt: (opts.now ?? (() => new Date()))(),
    currency: settings.currency,
    outputsDataset: settings.datasets.outputs,
    funnelSteps: settings.funnelSteps.filter((s) => s.enabled).map((s) => s.name),
    creditByModel, registeredModels: settings.attributionModels.map((m) => m.name), intervals, recommendation, agreement, creditDaily, funnel, metrics, curves, importance, monitoring,
    leadSummary, scoreDistribution, leadSegments, topLeads, channelPerformance, campaignPerformance, paths, outputCounts,
  };
}

// ---- run records: from the artifact store (runs/<id>/run.json) or rebuilt from run_history ----

/** A run record as JSON.parse returns it (dates as strings) → RunRecord with Dates. */
export function reviveRunRecord(json: unknown): RunRecord {
  const r = json as Record<string, unknown>;
  const d = (v: unknown): Date => new Date(String(v));
  const actions = (Array.isArray(r.actions) ? r.actions : []) as Record<string, unknown>[];
  return {
    runId: String(r.runId),
    engine: String(r.engine ?? ""),
    startedAt: d(r.startedAt),
    endedAt: d(r.endedAt),
    status: r.status === "failed" || r.status === "cancelled" ? r.status : "succeeded",
    fullRefresh: !!r.fullRefresh,
    dryRun: !!r.dryRun,
    warnings: Array.isArray(r.warnings) ? r.warnings.map(String) : [],
    actions: actions.map((a) => ({ ...(a as unknown as ActionRecord), startedAt: d(a.startedAt), endedAt: d(a.endedAt) })),
  };
}

/** The run-history table of a project. */
export function runHistoryTarget(settings: Settings, graph: Pick<Graph, "projectConfig">): Target {
  return tableLocation(RUN_HISTORY_TABLE, { settings, database: graph.projectConfig.defaultDatabase });
}

/** Id of the latest run in run_history (by start time), or undefined when there is none. */
export async function latestRunId(engine: Engine, settings: Settings, graph: Pick<Graph, "projectConfig">): Promise<string | undefined> {
  const t = runHistoryTarget(settings, graph);
  if (!(await engine.tableExists(t))) return undefined;
  const rows = await engine.query(`SELECT run_id, MIN(started_at) AS run_started_at FROM ${qualified(t)} GROUP BY run_id ORDER BY run_started_at DESC LIMIT 1`);
  return rows[0] ? str(rows[0].run_id) : undefined;
}

/** Rebuild a run record from run_history rows (warnings: the notes of actions with status warning). */
export async function runRecordFromHistory(engine: Engine, settings: Settings, graph: Pick<Graph, "projectConfig">, runId: string): Promise<RunRecord | undefined> {
  const t = runHistoryTarget(settings, graph);
  if (!(await engine.tableExists(t))) return undefined;
  const rows = await engine.query(
    `SELECT action, action_kind, engine, status, started_at, ended_at, \`rows\`, bytes_processed, job_id, error, note, metrics_json, full_refresh FROM ${qualified(t)} WHERE run_id = ${sqlString(runId)} ORDER BY started_at, action`,
  );
  if (!rows.length) return undefined;
  const actions: ActionRecord[] = rows.map((r) => {
    let metrics: ActionRecord["metrics"];
    if (r.metrics_json) {
      try { metrics = JSON.parse(str(r.metrics_json)) as ActionRecord["metrics"]; } catch { metrics = undefined; }
    }
    return {
      action: str(r.action), kind: str(r.action_kind), status: str(r.status) as ActionRecord["status"],
      startedAt: date(r.started_at) ?? new Date(0), endedAt: date(r.ended_at) ?? new Date(0),
      rows: num(r.rows) ?? undefined, bytesProcessed: num(r.bytes_processed) ?? undefined, jobId: strOrNull(r.job_id) ?? undefined,
      error: strOrNull(r.error) ?? undefined, note: strOrNull(r.note) ?? undefined, metrics,
    };
  });
  return {
    runId,
    engine: str(rows[0]!.engine),
    startedAt: new Date(Math.min(...actions.map((a) => a.startedAt.getTime()))),
    endedAt: new Date(Math.max(...actions.map((a) => a.endedAt.getTime()))),
    status: actions.some((a) => a.status === "failed") ? "failed" : "succeeded",
    fullRefresh: bool(rows[0]!.full_refresh) ?? false,
    dryRun: actions.every((a) => a.status === "dry_run"),
    actions,
    warnings: actions.filter((a) => a.status === "warning" && a.note).map((a) => `${a.action}: ${a.note}`),
  };
}
