/**
 * The runner: a function of (graph, engine, selection) → run record (after Dataform's own).
 * It never throws for a failed action: the action is recorded as failed, its dependents as
 * skipped, and the CLI turns the record into an exit code.
 */
import { randomUUID } from "node:crypto";
import type { Engine, ExecOptions, Row, TableShape, Target } from "../engines/engine.ts";
import { qualified } from "../engines/engine.ts";
import { sqlString } from "../util/sql.ts";
import type { Action, Graph } from "../dag/graph.ts";
import { findAction, select, topoLevels, type Selection } from "../dag/dag.ts";
import type { Settings } from "../config/settings.ts";
import { Logger, quietLogger } from "../util/logger.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import type { JobContext } from "../jobs/job.ts";
import { createProgress, silentProgress, type Progress } from "./progress.ts";
import { boundedJobQuery, boundedJobTable } from "../safety/bounds.ts";
import { pseudonymiseRow } from "../safety/hash.ts";
import {
  assertionCountQuery,
  assertionSampleQuery,
  createEmptyTableStatement,
  createTableStatement,
  createViewStatement,
  deleteJobRunRowsStatement,
  dropBeforeReplace,
  dropStatement,
  incrementalStatement,
  scriptOf,
  splitScript,
} from "./statements.ts";
import { RESUMED_SKIP_NOTE, RUN_HISTORY_SCHEMA, RUN_HISTORY_TABLE, historyRow, type ActionRecord, type RunRecord } from "./run-record.ts";
import { emptySourceTables, sharedHistoryWriters, tableLocation } from "../catalog/index.ts";
import { bytesAndCost } from "./summary.ts";
import { actionsToRebuild, ChangedDefinitionError, checkDefinitions, DEFINITIONS_SCHEMA, definitionRow, definitionsTarget, type DefinitionCheck } from "./definitions.ts";
import { collectGarbage } from "../util/heap.ts";
import { TableListing } from "../engines/table-listing.ts";

export interface RunOptions {
  graph: Graph;
  engine: Engine;
  settings: Settings;
  artifacts: ArtifactStore;
  selection?: Selection;
  fullRefresh?: boolean;
  dryRun?: boolean;
  runId?: string;
  logger?: Logger;
  progress?: Progress;
  now?: () => Date;
  /** Actions to skip because an earlier run (resumed) already did them. */
  alreadySucceeded?: Set<string>;
  /** Set when resuming: part of every job id, so the resumed actions run as new jobs (see jobIdFor). */
  attempt?: string;
  /** Actions run at once where the engine allows it. */
  concurrency?: number;
  /** Write rows to the run-history table (default true; off for dry runs). */
  recordHistory?: boolean;
  /**
   * Cancels the run when aborted (the CLI aborts it on SIGTERM/SIGINT; the reason names the signal):
   * no new action starts, the running ones are cancelled in the engine, and every action that did
   * not finish is recorded as `cancelled`.
   */
  signal?: AbortSignal;
  /**
   * On engines with table write quotas, the least time between two run-history writes (default
   * 3000 ms: at most 4 in any 10 s, under BigQuery's 5 metadata updates per 10 s per table).
   */
  historyIntervalMs?: number;
  /**
   * Run even when a selected incremental table holds days built under another definition (src/runner/definitions.ts):
   * its older days are kept and the new definition is recorded. Otherwise such a run throws ChangedDefinitionError
   * before anything runs.
   */
  acceptChangedDefinitions?: boolean;
  /** The comparison with the recorded definitions, when the caller made it before touching the warehouse (`run`). */
  definitions?: DefinitionCheck;
  /** The command line a refusal offers to repeat (repeatCommand; default `funnelcredit run`). */
  command?: string[];
}

/**
 * Compare the selected incremental actions with the definitions their tables were built under and refuse (throw
 * ChangedDefinitionError, exit code 2) when one changed, unless accepted; the check is returned for the run to record.
 */
export async function checkDefinitionsBeforeRun(opts: Pick<RunOptions, "graph" | "engine" | "settings" | "selection" | "fullRefresh" | "alreadySucceeded" | "acceptChangedDefinitions" | "command">): Promise<DefinitionCheck> {
  const check = await checkDefinitions({
    graph: opts.graph, engine: opts.engine, settings: opts.settings, names: select(opts.graph, opts.selection ?? {}),
    fullRefresh: opts.fullRefresh, skip: opts.alreadySucceeded,
  });
  if (check.changed.length && !opts.acceptChangedDefinitions) {
    throw new ChangedDefinitionError(check.changed, actionsToRebuild(opts.graph, check.changed.map((c) => c.action)), opts.command ?? ["funnelcredit", "run"]);
  }
  return check;
}

export function newRunId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${randomUUID().slice(0, 8)}`;
}

export async function runGraph(opts: RunOptions): Promise<RunRecord> {
  const { graph, engine } = opts;
  // Before anything runs (a dry run too): an incremental table built under another definition is refused here.
  const definitions = opts.definitions ?? (await checkDefinitionsBeforeRun(opts));
  opts = { ...opts, definitions };
  const now = opts.now ?? (() => new Date());
  const progress = opts.progress ?? (opts.logger ? createProgress(opts.logger) : silentProgress);
  const names = select(graph, opts.selection ?? {});
  const levels = topoLevels(graph, names);
  const byName = new Map(graph.actions.map((a) => [a.name, a]));
  const run: RunRecord = {
    runId: opts.runId ?? newRunId(now()),
    engine: engine.kind,
    startedAt: now(),
    endedAt: now(),
    status: "succeeded",
    fullRefresh: !!opts.fullRefresh,
    dryRun: !!opts.dryRun,
    actions: [],
    warnings: [],
  };
  // Every line of the run carries its id (for schedulers' logs, --json).
  const logger = (opts.logger ?? quietLogger).with({ runId: run.runId });
  const record = opts.recordHistory ?? !opts.dryRun;
  const historyTarget: Target = tableLocation(RUN_HISTORY_TABLE, { settings: opts.settings, database: graph.projectConfig.defaultDatabase });
  const definitionsAt: Target = definitionsTarget(graph, opts.settings);
  const accepted = new Set(definitions.changed.map((c) => c.action));
  for (const c of definitions.changed) {
    run.warnings.push(`${c.action}: --accept-changed-definitions: its days built under the definition recorded by run ${c.recorded.runId} are kept; the new definition is recorded when it succeeds`);
  }

  const runnable = [...names].map((n) => byName.get(n)!).filter((a) => a.kind !== "declaration");
  const signal = opts.signal;
  const onAbort = (): void => {
    logger.warn(`${cancelReason(signal)}: cancelling the run: no new action starts, running ones are cancelled`, logger.json ? { event: "run_cancelling" } : undefined);
    engine.cancel?.().catch((e: unknown) => logger.warn(`could not cancel the running statement: ${(e as Error).message}`));
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  // Actions the cancellation kept from starting, recorded together at the end (one write, not one per action).
  const notStarted: ActionRecord[] = [];
  // Tables a real run creates before it starts (empty optional sources): a dry run treats them as not built yet.
  const key = (t: Target): string => `${t.database}.${t.schema}.${t.name}`;
  const notYetBuilt = new Set<string>();
  engine.declarePartitions?.(graph.actions.filter((a) => a.partitionBy).map((a) => ({ target: a.target, partitionBy: a.partitionBy! })));
  if (engine.prepareDeclarations) {
    const made = await engine.prepareDeclarations(graph.actions.filter((a) => a.kind === "declaration").map((a) => a.target), { dryRun: !!opts.dryRun });
    if (opts.dryRun) for (const t of made ?? []) notYetBuilt.add(key(t));
  }
  // Inputs a real run creates empty first (ensureSourceTables, on every engine): a dry run treats the
  // missing ones as not built yet.
  if (opts.dryRun) {
    for (const t of emptySourceTables(opts.settings, graph.projectConfig.defaultDatabase)) {
      if (!t.wildcard && !(await engine.tableExists(t.target))) notYetBuilt.add(key(t.target));
    }
  }
  // The run history is created by a real run before its first action.
  if (opts.dryRun && !(await engine.tableExists(historyTarget))) notYetBuilt.add(key(historyTarget));
  if (!opts.dryRun) {
    const datasets = new Map<string, Target>();
    for (const a of runnable) datasets.set(`${a.target.database}.${a.target.schema}`, a.target);
    if (record) datasets.set(`${historyTarget.database}.${historyTarget.schema}`, historyTarget);
    for (const t of datasets.values()) await engine.ensureDataset(t.database, t.schema);
    // The history table exists from the start, so views over it (rpt_run_history) never race the first write.
    if (record && !(await engine.tableExists(historyTarget))) {
      await engine.execute([createEmptyTableStatement(historyTarget, RUN_HISTORY_SCHEMA)], { action: "run_history" });
    }
    if (record && definitions.current.size && !(await engine.tableExists(definitionsAt))) {
      await engine.execute([createEmptyTableStatement(definitionsAt, DEFINITIONS_SCHEMA)], { action: "incremental_definitions" });
    }
  }
  // The run's tables, one listing per dataset (BigQuery: tables.list instead of a tables.get before each action).
  const tables = new TableListing(engine);
  await tables.list(runnable.filter((a) => a.kind === "table" || a.kind === "view" || a.kind === "incremental").map((a) => a.target));

  // Run history: one row per action. Where table writes are quota-limited (BigQuery: one load job
  // per action hit the per-table rate and daily limits), rows are buffered and written at most once
  // per DAG level and never more often than historyIntervalMs; a run killed between two writes
  // loses the records since the last one, so a resume runs those actions again (they are idempotent).
  const pendingHistory: ActionRecord[] = [];
  // The definitions incremental actions succeeded under, written with the history rows (only what is not recorded yet).
  const pendingDefinitions: Row[] = [];
  const batchHistory = engine.capabilities.tableWriteQuotas;
  const historyIntervalMs = opts.historyIntervalMs ?? 3000;
  let lastHistoryWrite = 0;
  const flushHistory = async (final: boolean): Promise<void> => {
    if (!record || (pendingHistory.length === 0 && pendingDefinitions.length === 0)) return;
    if (batchHistory) {
      const wait = lastHistoryWrite + historyIntervalMs - Date.now();
      if (wait > 0 && !final) return;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const recs = pendingHistory.splice(0);
    if (recs.length) {
      try {
        await engine.writeRows(historyTarget, RUN_HISTORY_SCHEMA, recs.map((r) => historyRow(run, r)), { mode: "append" });
      } catch (e) {
        run.warnings.push(`could not record ${recs.map((r) => r.action).join(", ")} in run history: ${(e as Error).message}`);
      }
    }
    const defs = pendingDefinitions.splice(0);
    if (defs.length) {
      try {
        await engine.writeRows(definitionsAt, DEFINITIONS_SCHEMA, defs, { mode: "append" });
      } catch (e) {
        // The next incremental run then compares with the older record: a changed definition is still refused.
        run.warnings.push(`could not record the definitions of ${defs.map((r) => String(r.action)).join(", ")} (${qualified(definitionsAt)}): ${(e as Error).message}`);
      }
    }
    lastHistoryWrite = Date.now();
  };

  progress.start(runnable.length);
  // Failed actions, and actions skipped because of them: everything downstream is skipped too.
  const blocked = new Map<string, string>();
  // The tables each job wrote in this run (its outputs that are current even when it skipped).
  const writtenByJob = new Map<string, Set<string>>();
  // Jobs that skipped after writing some of their outputs: what reads the others is skipped.
  const skippedJobs = new Map<string, { why: string; written: ReadonlySet<string> }>();
  const skipReason = (a: Action): string | undefined => {
    for (const d of a.dependencies) {
      const why = blocked.get(d);
      if (why) return why;
      const dep = byName.get(d);
      // A declaration produced by a job is blocked when the job is, or when the job skipped without writing it.
      if (dep?.kind === "declaration") {
        for (const dd of dep.dependencies) {
          if (blocked.has(dd)) return blocked.get(dd);
          const sj = skippedJobs.get(dd);
          if (sj && !sj.written.has(dep.target.name)) return sj.why;
        }
      }
    }
    return undefined;
  };

  const runOne = async (a: Action): Promise<void> => {
    const startedAt = now();
    let rec: ActionRecord;
    const skip = skipReason(a);
    if (skip) {
      rec = { action: a.name, kind: a.kind, status: "skipped", startedAt, endedAt: now(), note: skip };
    } else if (opts.alreadySucceeded?.has(a.name)) {
      rec = { action: a.name, kind: a.kind, status: "skipped", startedAt, endedAt: now(), note: RESUMED_SKIP_NOTE };
    } else if (signal?.aborted) {
      rec = { action: a.name, kind: a.kind, status: "cancelled", startedAt, endedAt: now(), note: `not started: ${cancelReason(signal)}` };
      run.actions.push(rec);
      notStarted.push(rec);
      return;
    } else {
      progress.actionStarted(a.name);
      try {
        rec = { action: a.name, kind: a.kind, startedAt, endedAt: startedAt, ...(opts.dryRun ? await dryRunAction(a, opts, run, missingInputs, tables) : await executeAction(a, opts, run, logger, progress, writtenByJob, tables)) };
      } catch (e) {
        // An action interrupted by the cancellation did not fail: it was stopped (its transaction rolled back).
        const status = signal?.aborted ? "cancelled" : "failed";
        rec = { action: a.name, kind: a.kind, status, startedAt, endedAt: now(), error: (e as Error).message };
      } finally {
        // What the action may have changed is looked up again from now on (a retry, a later reader).
        if (!opts.dryRun) {
          if (a.kind === "operation") tables.changingAll();
          tables.changing(a.target);
          for (const w of a.job?.writes ?? []) tables.changing(findAction(graph, w).target);
        }
      }
      rec.endedAt = now();
      // A job's rows and models are garbage once it ends: collected now, not during the SQL after it (heap.ts).
      if (a.kind === "job") collectGarbage();
    }
    if (rec.status === "failed") blocked.set(a.name, `upstream ${a.name} failed`);
    else if (rec.status === "skipped" && skip) blocked.set(a.name, skip);
    // A job with nothing to do left its outputs as they were: what reads them is skipped too, with its
    // reason — but for an output it did write (e.g. emptied), which is current.
    else if (rec.status === "skipped" && a.kind === "job" && rec.note && rec.note !== RESUMED_SKIP_NOTE) {
      const written = writtenByJob.get(a.name);
      if (written?.size) skippedJobs.set(a.name, { why: `${a.name} skipped: ${rec.note}`, written });
      else blocked.set(a.name, `${a.name} skipped: ${rec.note}`);
    }
    if (rec.status === "warning" && rec.note) run.warnings.push(`${a.name}: ${rec.note}`);
    run.actions.push(rec);
    progress.actionFinished(a.name, rec.status, rec.endedAt.getTime() - rec.startedAt.getTime(), rec);
    if (record) {
      pendingHistory.push(rec);
      // Only an action that succeeded records the definition its table now holds days of; a failed one records nothing.
      const fingerprint = definitions.current.get(a.name);
      if (a.kind === "incremental" && rec.status === "succeeded" && fingerprint && fingerprint !== definitions.recorded.get(a.name)?.fingerprint) {
        pendingDefinitions.push(definitionRow(a.name, fingerprint, definitions.vars, run.runId, rec.endedAt, buildsWhole(a, opts) ? "full_refresh" : accepted.has(a.name) ? "accepted" : "incremental"));
      }
      if (!batchHistory) await flushHistory(true);
    }
  };

  // Dry run on a fresh warehouse: an action whose inputs this run would build first cannot be
  // checked yet (BigQuery answers "Not found"); it is reported as such instead of failing.
  const exists = new Map<string, Promise<boolean>>();
  const built = (t: Target): Promise<boolean> => {
    const k = key(t);
    if (notYetBuilt.has(k)) return Promise.resolve(false);
    if (!exists.has(k)) exists.set(k, tables.exists(t));
    return exists.get(k)!;
  };
  const missingInputs = async (a: Action): Promise<string[]> => {
    const out: string[] = [];
    for (const d of a.dependencies) {
      const dep = byName.get(d);
      // A disabled action (e.g. ml_journey_sequences with no sequence family on) is never built: what
      // depends on it does not read it in that configuration.
      if (!dep || dep.kind === "assertion" || dep.kind === "job" || dep.disabled) continue;
      // A declaration is built in this run when a job writes it or the engine creates it empty.
      if (dep.kind === "declaration" && !notYetBuilt.has(key(dep.target)) && !dep.dependencies.some((x) => byName.get(x)?.kind === "job")) continue;
      if (!(await built(dep.target))) out.push(`${dep.target.schema}.${dep.target.name}`);
    }
    return out;
  };

  const concurrency = engine.capabilities.parallelActions ? Math.max(1, opts.concurrency ?? 4) : 1;
  // Pre-flight (issue: "a run that would exceed maximum_bytes_billed fails before running"): every
  // action whose inputs exist is dry-run first; when one would bill more than the cap, nothing runs.
  const over = !opts.dryRun && engine.maximumBytesBilled ? await overBytesCap(runnable.filter((a) => !opts.alreadySucceeded?.has(a.name)), engine.maximumBytesBilled, opts, run, missingInputs, concurrency, logger, tables) : [];
  if (over.length) {
    const why = `not run: the pre-flight bytes check failed (${over.map((o) => o.action).join(", ")})`;
    for (const a of runnable) {
      const o = over.find((x) => x.action === a.name);
      const at = now();
      const rec: ActionRecord = o
        ? { action: a.name, kind: a.kind, status: "failed", startedAt: at, endedAt: at, bytesProcessed: o.bytes, error: o.error }
        : { action: a.name, kind: a.kind, status: "skipped", startedAt: at, endedAt: at, note: why };
      run.actions.push(rec);
      if (record) pendingHistory.push(rec);
    }
    await flushHistory(true);
    progress.finish();
    signal?.removeEventListener("abort", onAbort);
    run.endedAt = now();
    run.status = "failed";
    return run;
  }
  for (const level of levels) {
    const todo = level.map((n) => byName.get(n)!).filter((a) => a.kind !== "declaration");
    for (let i = 0; i < todo.length; i += concurrency) {
      await Promise.all(todo.slice(i, i + concurrency).map(runOne));
    }
    await flushHistory(false);
  }
  await flushHistory(true);
  progress.finish();
  signal?.removeEventListener("abort", onAbort);
  if (record && notStarted.length) {
    try {
      await engine.writeRows(historyTarget, RUN_HISTORY_SCHEMA, notStarted.map((r) => historyRow(run, r)), { mode: "append" });
    } catch (e) {
      run.warnings.push(`could not record the ${notStarted.length} cancelled action(s) in run history: ${(e as Error).message}`);
    }
  }
  run.endedAt = now();
  run.status = run.actions.some((a) => a.status === "cancelled")
    ? "cancelled"
    : run.actions.some((a) => a.status === "failed") ? "failed" : "succeeded";
  return run;
}

/**
 * The actions whose dry run bills more than `cap` bytes, with the error naming the action and both
 * figures. Actions whose inputs this run builds first cannot be dry-run yet; BigQuery's own cap
 * (maximumBytesBilled on every job) still stops them when they run. A dry run that fails is left to
 * the action itself, which then fails with the real error.
 */
async function overBytesCap(
  actions: Action[], cap: number, opts: RunOptions, run: RunRecord, missingInputs: (a: Action) => Promise<string[]>, concurrency: number, logger: Logger, tables: TableListing,
): Promise<{ action: string; bytes: number; error: string }[]> {
  // Views are left out: creating one bills nothing.
  const checkable = actions.filter((a) => a.kind === "table" || a.kind === "incremental" || a.kind === "operation" || a.kind === "assertion");
  const over: { action: string; bytes: number; error: string }[] = [];
  let unchecked = 0;
  for (let i = 0; i < checkable.length; i += concurrency) {
    await Promise.all(checkable.slice(i, i + concurrency).map(async (a) => {
      let r: Outcome;
      try {
        r = await dryRunAction(a, { ...opts, dryRun: true }, { ...run, runId: `${run.runId}_preflight` }, missingInputs, tables);
      } catch {
        return;
      }
      if (r.note?.startsWith("not checked")) unchecked++;
      const bytes = r.bytesProcessed ?? 0;
      if (bytes > cap) {
        over.push({
          action: a.name, bytes,
          error: `pre-flight: ${a.name} would process ${bytesAndCost(bytes)}, more than maximum_bytes_billed ${bytesAndCost(cap)}; nothing was run. Raise vars.maximum_bytes_billed (or --maximum-bytes-billed for this run), or select fewer days (vars.start_date, vars.reprocess_days)`,
        });
      }
    }));
  }
  logger.debug(`pre-flight bytes check: ${checkable.length - unchecked} action(s) dry-run against maximum_bytes_billed ${cap}, ${unchecked} not checkable yet, ${over.length} over`, logger.json ? { event: "preflight_bytes" } : undefined);
  return over.sort((x, y) => x.action.localeCompare(y.action));
}

function cancelReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  return `run cancelled (${typeof r === "string" ? r : r instanceof Error ? r.message : "aborted"})`;
}

type Outcome = Omit<ActionRecord, "action" | "kind" | "startedAt" | "endedAt">;

async function executeAction(a: Action, opts: RunOptions, run: RunRecord, logger: Logger, progress: Progress, writtenByJob: Map<string, Set<string>>, tables: TableListing): Promise<Outcome> {
  const { engine } = opts;
  // Every engine call of an action gets its own job id, deterministic by its order in the action: a
  // second query under the first one's id would attach to the first job (BigQuery answers 409).
  const baseJobId = jobIdFor(run.runId, a.name, opts.attempt);
  let calls = 0;
  const nextExec = (): ExecOptions => {
    // A cancelled run starts no further statement, even inside an action that has more to run.
    if (opts.signal?.aborted) throw new Error(`${cancelReason(opts.signal)} before ${a.name}'s next statement`);
    return { action: a.name, jobId: calls++ === 0 ? baseJobId : `${baseJobId}_${calls}`, labels: { funnelcredit_action: a.name } };
  };
  const { statements, drop } = await statementsFor(a, opts, tables);
  if (drop) {
    // The object is dropped before it is created again, which BigQuery does not undo if the CREATE
    // then fails (see statementsFor): the new query (with its pre-operations) is dry-run first, so a
    // query that cannot run (syntax, types, a missing input) fails here with the old object intact.
    const pre = (a.preOps ?? []).map((x) => x.trim()).filter(Boolean);
    await engine.dryRun(scriptOf([...pre, a.query!]), nextExec());
    logger.warn(`${a.name}: ${qualified(a.target)} is a ${drop} that CREATE OR REPLACE cannot replace (${drop === "view" || a.kind === "view" ? "table ↔ view" : "another partitioning"}): it is dropped and created again`);
  }
  switch (a.kind) {
    case "assertion": {
      const [row] = await engine.query(assertionCountQuery(a.query!), nextExec());
      const failing = Number(row?.failing_rows ?? 0);
      if (failing === 0) return { status: "succeeded", rows: 0 };
      const sample = await engine.query(assertionSampleQuery(a.query!), nextExec());
      // The sample goes to run history and reports: ids in it are pseudonymised (src/safety/hash.ts).
      const note = `${failing} row(s) violate ${a.name}; e.g. ${JSON.stringify(pseudonymiseRow(sample[0]))}`;
      // Data-quality assertions tagged "warning" are reported, not fatal (issue: fail only where configured).
      return a.tags.includes("warning") ? { status: "warning", rows: failing, note } : { status: "failed", rows: failing, error: note };
    }
    case "job": {
      const job = a.job!;
      const targets = new Map<string, Target>();
      // The same lookup mergeJobs used to place the job in the graph.
      for (const n of [...job.reads, ...job.writes]) targets.set(n, findAction(opts.graph, n).target);
      const target = (n: string): Target => {
        const t = targets.get(n);
        if (!t) throw new Error(`job ${job.name} used table "${n}" without declaring it in reads/writes`);
        return t;
      };
      let written = 0;
      // Shared histories this action has written to: its first write there replaces its rows of the run.
      const sharedStarted = new Set<string>();
      const ctx: JobContext = {
        engine, settings: opts.settings, runId: run.runId, logger, artifacts: opts.artifacts,
        now: opts.now ?? (() => new Date()),
        target, ref: (n) => qualified(target(n)),
        // Resource bound: a job pulls at most vars.max_job_rows rows per query, or fails saying so.
        query: (sql) => boundedJobQuery(engine, sql, nextExec(), opts.settings.maxJobRows, job),
        queryTable: (sql) => boundedJobTable(engine, sql, nextExec(), opts.settings.maxJobRows, job),
        write: async (n, schema, rows, mode = "replace") => {
          if (!job.writes.includes(n)) throw new Error(`job ${job.name} wrote "${n}", which is not in its writes`);
          if (opts.signal?.aborted) throw new Error(`${cancelReason(opts.signal)} before ${job.name} wrote ${n}`);
          let writeMode = mode;
          if (sharedHistoryWriters(target(n).name)) {
            rows = sharedHistoryRows(rows, job.name, run.runId, n);
            if (!sharedStarted.has(n)) {
              await deleteOwnRows(engine, target(n), job.name, run.runId, nextExec);
              sharedStarted.add(n);
            }
            writeMode = "append";
          }
          // A value in a column the schema lacks would be dropped silently: fail instead.
          const columns = new Set(schema.map((c) => c.name));
          for (const row of rows) {
            for (const k of Object.keys(row)) {
              if (!columns.has(k)) throw new Error(`job ${job.name} wrote column "${k}" to ${n}, which its schema does not have; add it to ${n}'s entry in includes/catalog.js`);
            }
          }
          const r = await engine.writeRows(target(n), schema, rows, { mode: writeMode });
          written += r.rows;
          if (!writtenByJob.has(job.name)) writtenByJob.set(job.name, new Set());
          writtenByJob.get(job.name)!.add(target(n).name);
          return r.rows;
        },
        progress: (note) => progress.note(`${job.name}: ${note}`),
        warn: (m) => run.warnings.push(`${job.name}: ${m}`),
      };
      const result = await job.run(ctx);
      if (result.skipped) return { status: "skipped", rows: result.rows ?? written, metrics: result.metrics, note: result.skipped };
      return { status: "succeeded", rows: result.rows ?? written, metrics: result.metrics };
    }
    default: {
      if (!statements.length) return { status: "succeeded" };
      const r = await engine.execute(statements, nextExec());
      return { status: "succeeded", rows: r.rowsAffected, bytesProcessed: r.bytesProcessed, jobId: r.jobId };
    }
  }
}

/**
 * A job's rows for a shared history, keyed by the run and the job (catalog producer { jobs }): the
 * runner fills both in; a row naming another run or job is refused (it would escape the replacement).
 */
function sharedHistoryRows(rows: Row[], jobName: string, runId: string, table: string): Row[] {
  return rows.map((row, i) => {
    for (const [column, want] of [["run_id", runId], ["job", jobName]] as const) {
      const v = row[column];
      if (v !== undefined && v !== null && v !== want) {
        throw new Error(`job ${jobName} wrote ${column} = ${JSON.stringify(v)} in row ${i + 1} of ${table}, a shared history where each job writes only its own rows of this run (${column} = ${JSON.stringify(want)}); leave ${column} out and the runner fills it in`);
      }
    }
    return { ...row, run_id: runId, job: jobName };
  });
}

/**
 * Delete what this job wrote to a shared history earlier in this run (a resumed or retried action),
 * before it writes again. Not in one transaction with the append that follows (BigQuery loads cannot
 * join one): if the append fails, the action fails and only this job's rows of this run are missing
 * until it runs again; no other job's or run's rows are touched.
 */
async function deleteOwnRows(engine: Engine, t: Target, jobName: string, runId: string, nextExec: () => ExecOptions): Promise<void> {
  const shape = await engine.describeTable(t);
  if (!shape) return;
  if (shape.kind === "view") {
    throw new Error(`${qualified(t)} is a view (the per-job tables were glued by one before the history was shared); \`funnelcredit run\` replaces it with the shared table, moving the per-job rows in, before the first action`);
  }
  // Usually there is nothing to delete (the first attempt of the run): a read, not a DML statement, which
  // BigQuery would count against the table's write quota (https://cloud.google.com/bigquery/quotas#standard_tables).
  const [found] = await engine.query(`SELECT COUNT(*) AS n FROM ${qualified(t)} WHERE job = ${sqlString(jobName)} AND run_id = ${sqlString(runId)}`, nextExec());
  if (Number(found?.n ?? 0) > 0) await engine.execute([deleteJobRunRowsStatement(t, jobName, runId)], nextExec());
}

/**
 * BigQuery job ids are deterministic per run and action, so a retried submit never runs twice.
 * A resumed run passes its `attempt` (the resuming invocation's id): an action that failed before
 * then runs as a new job instead of attaching to the old, failed one.
 */
export function jobIdFor(runId: string, action: string, attempt?: string): string {
  return `funnelcredit_${runId}${attempt ? `_${attempt}` : ""}_${action}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 1024);
}

/**
 * A dry run validates what the action would submit, without effects: its statements as one script
 * (a pre-operation's DECLARE is seen by the statements after it), an assertion's query, and for a job
 * a read of every table it reads. Actions whose inputs are not built yet are reported, not failed.
 */
async function dryRunAction(a: Action, opts: RunOptions, run: RunRecord, missingInputs: (a: Action) => Promise<string[]>, tables: TableListing): Promise<Outcome> {
  const { engine } = opts;
  const missing = await missingInputs(a);
  if (missing.length) return { status: "dry_run", note: `not checked: depends on tables not yet built (${missing.join(", ")})` };
  const baseJobId = jobIdFor(run.runId, a.name, opts.attempt);
  let calls = 0;
  const nextExec = (): ExecOptions => ({ action: a.name, jobId: calls++ === 0 ? baseJobId : `${baseJobId}_${calls}`, labels: { funnelcredit_action: a.name } });
  let scripts: string[];
  let note: string | undefined;
  if (a.kind === "assertion") scripts = [assertionCountQuery(a.query!)];
  else if (a.kind === "job") {
    const job = a.job!;
    const readable = job.reads.map((n) => findAction(opts.graph, n)).filter((r) => !r.disabled);
    // A job that states its read queries is billed for them; otherwise every column of every table it reads.
    scripts = job.planQueries && readable.length === job.reads.length
      ? job.planQueries({ settings: opts.settings, ref: (n) => qualified(findAction(opts.graph, n).target) })
      : readable.map((r) => `SELECT * FROM ${qualified(r.target)}`);
    note = `job reads ${job.reads.join(", ")}; writes ${job.writes.join(", ")}`;
  } else if ((a.kind === "table" || a.kind === "view" || a.kind === "incremental") && !(a.kind === "incremental" && !buildsWhole(a, opts) && (await tables.exists(a.target)))) {
    // A CREATE OR REPLACE is checked as its query: on a fresh warehouse the target's dataset does
    // not exist yet (a real run creates it first), and the query is what reads and bills. Its
    // post-operations (an incremental model's checks read the table it built) are checked too when the
    // target exists, over the table as it is: on a fresh warehouse they cannot be planned.
    const pre = (a.preOps ?? []).map((x) => x.trim()).filter(Boolean);
    const post = a.kind !== "view" && (await tables.exists(a.target)) ? (a.postOps ?? []).map((x) => x.trim()).filter(Boolean) : [];
    scripts = [scriptOf([...pre, a.query!, ...post])];
  } else scripts = [scriptOf((await statementsFor(a, opts, tables)).statements)].filter((s) => s.length > 0);
  let bytes = 0;
  for (const s of scripts) bytes += (await engine.dryRun(s, nextExec())).bytesProcessed ?? 0;
  // A view's query is checked, but CREATE VIEW processes no bytes: the view bills when it is queried, by
  // whatever reads it (https://cloud.google.com/bigquery/docs/views#view_pricing).
  return { status: "dry_run", bytesProcessed: engine.capabilities.dryRunBytes ? (a.kind === "view" ? 0 : bytes) : undefined, ...(note ? { note } : {}) };
}

/**
 * An incremental action this run builds whole whatever its table holds: a full refresh, or a table an earlier version
 * built whole on every run (definitions.ts, builtAsTable).
 */
function buildsWhole(a: Action, opts: RunOptions): boolean {
  return !!opts.fullRefresh || !!opts.definitions?.builtAsTable.has(a.name);
}

/**
 * The statements of a table, view or incremental action, and the kind of object dropped before its
 * CREATE OR REPLACE when one cannot replace what exists: a view by a table or back (BigQuery and
 * DuckDB), or on BigQuery a table by one with another partitioning spec ("Cannot replace a table with
 * a different partitioning spec. Instead, DROP the table, and then recreate it.",
 * https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_table_statement).
 * Dataform's own BigQuery execution drops a target of the other kind the same way, after the
 * pre-operations and right before the CREATE (`drop <type> if exists`, publishTasks in @dataform/cli);
 * it leaves a partitioning change to fail, which funnelcredit recreates instead.
 *
 * Atomicity: DuckDB runs the DROP and the CREATE in one transaction (a failed CREATE restores the old
 * object). BigQuery has no transactional DDL (a multi-statement transaction admits only DML,
 * https://cloud.google.com/bigquery/docs/transactions), so there a CREATE that fails after the DROP
 * leaves the target missing until the next run; its dependents are skipped that run, and readers of
 * the target see "Not found" instead of stale data. This happens only when the model's type or
 * partitioning changed (a deploy, not every run), the query is dry-run before the DROP, and a re-run
 * rebuilds the object from its sources, so it is accepted.
 */
async function statementsFor(a: Action, opts: RunOptions, tables: TableListing): Promise<{ statements: string[]; drop?: "table" | "view" }> {
  // One statement per element: a pre-operation block may hold several (a DECLARE, then a DELETE).
  const pre = (ops?: string[]): string[] => (ops ?? []).flatMap(splitScript);
  const replace = async (have: TableShape | undefined, create: string): Promise<{ statements: string[]; drop?: "table" | "view" }> => {
    const drop = dropBeforeReplace(have, { kind: a.kind === "view" ? "view" : "table", partitionBy: a.partitionBy }, opts.engine.capabilities.partitions);
    return { statements: [...pre(a.preOps), ...(drop ? [dropStatement(a.target, drop)] : []), create, ...pre(a.postOps)], ...(drop ? { drop } : {}) };
  };
  switch (a.kind) {
    case "view":
      return replace(await tables.describe(a.target), createViewStatement(a, a.query!));
    case "table":
      return replace(await tables.describe(a.target), createTableStatement(a, a.query!));
    case "incremental": {
      const have = await tables.describe(a.target);
      // Over a view (the model was a view before) there is nothing to merge into: build it whole, as Dataform does.
      if (buildsWhole(a, opts) || !have || have.kind === "view") return replace(have, createTableStatement(a, a.query!));
      const columns = (await opts.engine.tableSchema(a.target)).map((c) => c.name);
      const q = a.incrementalQuery ?? a.query!;
      // As Dataform runs it: the pre-operations (a date-partitioned model deletes the days it rebuilds there,
      // includes/partitions.js), then a MERGE on the uniqueKey or an INSERT, then the post-operations.
      return { statements: [...pre(a.incrementalPreOps ?? a.preOps), incrementalStatement(a, q, columns), ...pre(a.incrementalPostOps ?? a.postOps)] };
    }
    case "operation":
      return { statements: pre(a.queries) };
    default:
      return { statements: [] };
  }
}
