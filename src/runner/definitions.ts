/**
 * What an incremental table's days were built under (issue #14). An incremental run rewrites only its window's days,
 * so after a change of its definition (a var such as `funnel_steps`, an edited model, an upgrade) the table would
 * silently hold days of two definitions. Each incremental action that succeeds records the fingerprint of its
 * compiled definition in `<base>_meta.incremental_definitions`; an incremental run whose selected actions' tables
 * hold rows built under another definition is refused before anything runs, naming the actions, what changed and
 * the commands that rebuild or accept.
 */
import { createHash } from "node:crypto";
import type { Engine, Target } from "../engines/engine.ts";
import { qualified } from "../engines/engine.ts";
import type { Action, Graph } from "../dag/graph.ts";
import { dependentsOf, findAction, reach } from "../dag/dag.ts";
import type { Settings } from "../config/settings.ts";
import { lex, GOOGLESQL_RESERVED } from "../googlesql/lexer.ts";
import { tableLocation, tableSchema } from "../catalog/index.ts";
import { SettingsError } from "../util/errors.ts";
import type { ColumnSchema, Row } from "../engines/engine.ts";
import { sqlString } from "../util/sql.ts";
import { decodeVar } from "../compile/compile.ts";
import { SAME_OUTPUT_EDITS, type SameOutputEdit } from "./same-output-edits.ts";
import { RUN_HISTORY_TABLE } from "./run-record.ts";

export const DEFINITIONS_TABLE = "incremental_definitions";
export const DEFINITIONS_SCHEMA: ColumnSchema[] = tableSchema(DEFINITIONS_TABLE);

/**
 * Vars whose change leaves how an older day's rows are built as it was, named in the refusal as safe to accept: the
 * window (which days a run reads) and the GA4 export's optional columns (resolved from the export when "auto"; the
 * days exported before a column existed read it as NULL either way).
 */
const ACCEPTABLE_VARS = ["reprocess_days", "credit_restatement_days", "start_date", "ga4_optional_columns"];

/**
 * SQL as its tokens (the project's GoogleSQL lexer): comments and whitespace do not count, nor the case of reserved
 * keywords or the quotes around a string. Text the lexer refuses is kept with its whitespace collapsed.
 */
export function normalisedSql(sql: string): string {
  try {
    return lex(sql)
      .filter((t) => t.kind !== "eof")
      .map((t) => {
        if (t.kind === "string") return `'${JSON.stringify(t.value)}`;
        if (t.kind === "quoted_ident") return `\`${t.value}\``;
        if (t.kind === "ident" && GOOGLESQL_RESERVED.has(t.text.toUpperCase())) return t.text.toUpperCase();
        return t.text;
      })
      .join(" ");
  } catch {
    return sql.replace(/\s+/g, " ").trim();
  }
}

/**
 * sha256 of what an incremental action builds: its full-refresh query, its incremental query, the pre- and
 * post-operations of both, and its partition, cluster and uniqueKey config (SQL normalised: normalisedSql).
 */
export function definitionFingerprint(a: Action, undo: (normalised: string) => string = (x) => x): string {
  const sql = (s: string | undefined): string | null => (s === undefined ? null : undo(normalisedSql(s)));
  const ops = (o: string[] | undefined): (string | null)[] | null => (o ? o.map(sql) : null);
  const parts = {
    kind: a.kind,
    query: sql(a.query),
    incrementalQuery: sql(a.incrementalQuery),
    preOps: ops(a.preOps),
    postOps: ops(a.postOps),
    incrementalPreOps: ops(a.incrementalPreOps),
    incrementalPostOps: ops(a.incrementalPostOps),
    uniqueKey: a.uniqueKey ?? null,
    partitionBy: a.partitionBy ?? null,
    clusterBy: a.clusterBy ?? null,
    updatePartitionFilter: a.updatePartitionFilter ?? null,
  };
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/**
 * The fingerprints `a` had before the same-output edits made to it since (same-output-edits.ts): with the last edit
 * undone, the last two, … (in each SQL part holding every change of an edit once; other parts as they are).
 */
export function earlierFingerprints(a: Action, edits: readonly SameOutputEdit[] = SAME_OUTPUT_EDITS): string[] {
  const mine = edits.filter((e) => a.kind === "incremental" && e.table === a.target.name);
  const out: string[] = [];
  for (let k = mine.length - 1; k >= 0; k--) {
    const undone = mine.slice(k).reverse();
    out.push(definitionFingerprint(a, (sql) => undone.reduce((text, e) => undoEdit(text, e), sql)));
  }
  return out;
}

/** `sql` (normalised) with each change of `edit` put back from its `after` to its `before`, when each `after` is found there exactly once. */
export function undoEdit(sql: string, edit: SameOutputEdit): string {
  const changes = edit.changes.map((c) => ({ before: ` ${normalisedSql(c.before)} `, after: ` ${normalisedSql(c.after)} ` }));
  let padded = ` ${sql} `;
  const once = (text: string, part: string): boolean => {
    const at = text.indexOf(part);
    return at >= 0 && text.indexOf(part, at + 1) < 0;
  };
  if (!changes.every((c) => once(padded, c.after))) return sql;
  for (const c of [...changes].reverse()) padded = padded.replace(c.after, () => c.before);
  return padded.trim();
}

interface Recorded {
  fingerprint: string;
  vars: Record<string, string>;
  runId: string;
  recordedAt: Date;
}

/** One incremental action whose table holds days built under another definition than the one compiled now. */
export interface ChangedDefinition {
  action: string;
  table: string;
  /** The name `--actions` takes for it (the table's alone when that is unique). */
  name?: string;
  recorded: Recorded;
  /** Vars that differ between the recorded compile and this one: [name, old, new] (undefined: not set). */
  vars: [string, string | undefined, string | undefined][];
}

export interface DefinitionCheck {
  /** The fingerprint of every selected incremental action, as compiled now. */
  current: Map<string, string>;
  /** The last recorded fingerprint per action (absent: none recorded). */
  recorded: Map<string, Recorded>;
  /** Selected actions whose table holds rows built under another definition (empty on a full refresh). */
  changed: ChangedDefinition[];
  /**
   * Selected incremental actions with nothing recorded that the run history's last success built as a plain table: a
   * model an upgrade made incremental. Built whole once, as every run built it before (its rows may lack a column the
   * incremental form reads); then recorded like any other. Read with the check's label (a dry run makes this read too).
   */
  builtAsTable: Set<string>;
  vars: Record<string, string>;
}

/**
 * The check's reads (also in a dry run, which runs no other query job): labelled, so BigQuery's job list and billing
 * tell them apart (test/bigquery-dag.test.ts allows a dry run these reads and nothing else).
 */
const READ = { action: DEFINITIONS_TABLE, labels: { funnelcredit_check: DEFINITIONS_TABLE } };

export function definitionsTarget(graph: Graph, settings: Settings): Target {
  return tableLocation(DEFINITIONS_TABLE, { settings, database: graph.projectConfig.defaultDatabase });
}

/**
 * Compare the selected incremental actions (`names`, less those a resume skips) with their recorded definitions.
 * Read only: a change is returned, not refused (refuseChangedDefinitions). A full refresh compares nothing
 * (it rebuilds every selected table whole) but still reads what is recorded, so the run records only what is new.
 */
export async function checkDefinitions(opts: {
  graph: Graph; engine: Engine; settings: Settings; names: Iterable<string>; fullRefresh?: boolean; skip?: ReadonlySet<string>;
}): Promise<DefinitionCheck> {
  const { graph, engine } = opts;
  const byName = new Map(graph.actions.map((a) => [a.name, a]));
  const actions = [...opts.names].map((n) => byName.get(n)!).filter((a) => a?.kind === "incremental" && !a.disabled && !opts.skip?.has(a.name));
  const vars = compileVars(graph);
  const current = new Map(actions.map((a) => [a.name, definitionFingerprint(a)]));
  const recorded = new Map<string, Recorded>();
  const changed: ChangedDefinition[] = [];
  const t = definitionsTarget(graph, opts.settings);
  // A warehouse from before the fingerprints (or a first run): nothing recorded, nothing refused.
  const rows = actions.length && (await engine.tableExists(t))
    ? await engine.query(
      `SELECT action, fingerprint, vars_json, run_id, recorded_at FROM ${qualified(t)} WHERE action IN (${actions.map((a) => sqlString(a.name)).join(", ")})`,
      READ,
    )
    : [];
  for (const r of rows) {
    const at = new Date(r.recorded_at as Date | string);
    const prev = recorded.get(String(r.action));
    if (prev && prev.recordedAt >= at) continue;
    recorded.set(String(r.action), { fingerprint: String(r.fingerprint), vars: parseVars(r.vars_json), runId: String(r.run_id), recordedAt: at });
  }
  // A full refresh builds every action whole anyway: nothing to look up.
  if (opts.fullRefresh) return { current, recorded, changed, builtAsTable: new Set(), vars };
  // Only an action with nothing recorded can be a table an earlier version built (a read only then: one job less a run).
  const builtAsTable = await lastBuiltAsTable(graph, engine, opts.settings, actions.filter((a) => !recorded.has(a.name)).map((a) => a.name));
  for (const a of actions) {
    const rec = recorded.get(a.name);
    // The same definition, or one a same-output edit since changed only in how it computes the same rows.
    if (!rec || rec.fingerprint === current.get(a.name) || earlierFingerprints(a).includes(rec.fingerprint)) continue;
    // Only a table holding rows mixes definitions: a missing or empty one (or a view, replaced by a table) is built whole.
    const shape = await engine.describeTable(a.target);
    if (!shape || shape.kind !== "table") continue;
    const [count] = await engine.query(`SELECT COUNT(*) AS n FROM ${qualified(a.target)}`, { ...READ, action: a.name });
    if (Number(count?.n ?? 0) === 0) continue;
    const names = [...new Set([...Object.keys(rec.vars), ...Object.keys(vars)])].sort();
    const differ = names.filter((n) => rec.vars[n] !== vars[n]).map((n): [string, string | undefined, string | undefined] => [n, rec.vars[n], vars[n]]);
    changed.push({ action: a.name, name: shortName(graph, a), table: `${a.target.schema}.${a.target.name}`, recorded: rec, vars: differ });
  }
  return { current, recorded, changed, builtAsTable, vars };
}

/** Of `names`, those whose last succeeded run built them as a plain table (the run history; none without one). */
async function lastBuiltAsTable(graph: Graph, engine: Engine, settings: Settings, names: string[]): Promise<Set<string>> {
  const history = tableLocation(RUN_HISTORY_TABLE, { settings, database: graph.projectConfig.defaultDatabase });
  if (!names.length || !(await engine.tableExists(history))) return new Set();
  const rows = await engine.query(
    `SELECT action, ARRAY_AGG(action_kind ORDER BY ended_at DESC LIMIT 1)[SAFE_OFFSET(0)] AS kind FROM ${qualified(history)}
     WHERE action IN (${names.map(sqlString).join(", ")}) AND status = 'succeeded' GROUP BY action`,
    READ,
  );
  return new Set(rows.filter((r) => r.kind === "table").map((r) => String(r.action)));
}

/**
 * The vars the project was compiled with (workflow_settings.yaml and --vars; a var left at its includes/settings.js
 * default is not among them), as given: values the compile passed as "b64:…" (src/compile/compile.ts) decoded.
 */
export function compileVars(graph: Graph): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(graph.projectConfig.vars ?? {})) {
    out[k] = decodeVar(String(v));
  }
  return out;
}

function parseVars(json: unknown): Record<string, string> {
  try {
    const v = JSON.parse(String(json ?? "{}")) as unknown;
    return v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};
  } catch {
    return {};
  }
}

/** The row recording that `action` succeeded under `fingerprint` (definitions table). */
export function definitionRow(action: string, fingerprint: string, vars: Record<string, string>, runId: string, at: Date, how: "full_refresh" | "incremental" | "accepted"): Row {
  return { action, fingerprint, vars_json: JSON.stringify(vars), run_id: runId, recorded_at: at, how };
}

/**
 * What to rebuild after a change of `changed`: those actions, every incremental action built from them (its old
 * days were built from their old rows; an incremental run would rebuild only its window), and every action on a
 * path between (tables and jobs the rebuilt ones read, which would otherwise still hold what the old rows gave).
 * In the graph's order, by the shortest name `--actions` takes.
 */
export function actionsToRebuild(graph: Graph, changed: Iterable<string>): string[] {
  const byName = new Map(graph.actions.map((a) => [a.name, a]));
  const dependents = dependentsOf(graph);
  const start = new Set(changed);
  const downstream = reach(start, (n) => dependents.get(n) ?? []);
  const needs = new Set([...downstream].filter((n) => start.has(n) || (byName.get(n)?.kind === "incremental" && !byName.get(n)?.disabled)));
  // Everything downstream of a changed action that some action in `needs` reads (directly or through others).
  const between = reach(needs, (n) => (byName.get(n)?.dependencies ?? []).filter((d) => downstream.has(d)));
  return graph.actions
    .filter((a) => between.has(a.name) && a.kind !== "declaration" && a.kind !== "assertion" && !a.disabled)
    .map((a) => shortName(graph, a));
}

function shortName(graph: Graph, a: Action): string {
  if (a.kind === "job") return a.name;
  try {
    return findAction(graph, a.target.name).name === a.name ? a.target.name : a.name;
  } catch {
    return a.name;
  }
}

/** A value in a message: at most 60 characters, quoted. */
function shortValue(v: string | undefined): string {
  if (v === undefined) return "(default)";
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}…` : v);
}

/** A shell word: quoted when it holds anything but the safe characters. */
function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
}

/** Refused: an incremental table would mix days of two definitions. Exit code 2 (a settings error). */
export class ChangedDefinitionError extends SettingsError {
  constructor(readonly changed: ChangedDefinition[], readonly rebuild: string[], command: string[]) {
    super(changedDefinitionMessage(changed, rebuild, command));
  }
}

/**
 * The refusal's text. `command` is the command line to repeat (without the selection, `--resume`, `--dry-run`):
 * the commands offered add `--full-refresh --actions …` or `--accept-changed-definitions` to it.
 */
export function changedDefinitionMessage(changed: ChangedDefinition[], rebuild: string[], command: string[]): string {
  const lines = [
    `${changed.length === 1 ? "an incremental table holds days" : `${changed.length} incremental tables hold days`} built under another definition than the one compiled now; ` +
      "an incremental run would add days built the new way to days built the old way, so nothing ran:",
  ];
  for (const c of changed) {
    const why = c.vars.length
      ? `vars that differ since: ${c.vars.map(([n, o, v]) => `${n} (${shortValue(o)} → ${shortValue(v)})`).join(", ")}`
      : "its SQL changed (a model or include edited, or funnelcredit upgraded)";
    lines.push(`  - ${c.name ?? c.action} (table ${c.table}): its definition was recorded by run ${c.recorded.runId} at ${c.recorded.recordedAt.toISOString()}; ${why}`);
  }
  const base = command.map(shellWord).join(" ");
  lines.push(
    "Rebuild them whole, with the incremental tables built from them (their older days were built from the old rows) and what lies between:",
    `  ${base} --full-refresh --actions ${rebuild.map(shellWord).join(" ")}`,
    "then run as usual (the tables and views after them are rebuilt whole by every run).",
    `Or, when the change does not matter for the days already built${changed.every((c) => c.vars.length && c.vars.every(([n]) => ACCEPTABLE_VARS.includes(n))) ? ` (here only ${[...new Set(changed.flatMap((c) => c.vars.map(([n]) => n)))].join(", ")} changed: which days a run reads or which optional GA4 columns the export has, not how an older day is built)` : ""}, keep them and record the new definition:`,
    `  ${base} --accept-changed-definitions`,
  );
  return lines.join("\n");
}

/** The options of `funnelcredit run` that choose what runs or how, left out of the command a refusal offers. */
const SELECTION_OPTIONS = new Set(["--actions", "--tags", "--select", "--resume", "--import"]);
const SELECTION_FLAGS = new Set(["--include-deps", "--include-dependents", "--dry-run", "--full-refresh", "--accept-changed-definitions", "--no-include-deps", "--no-include-dependents", "--no-dry-run", "--no-full-refresh"]);

/**
 * The command line a refusal offers to repeat: `funnelcredit` and `argv` (the arguments after it, e.g. `run --vars
 * funnel_steps=… --engine bigquery`) without the selection, `--resume`, `--import`, `--dry-run` and `--full-refresh`
 * (the offered commands add their own). `plan` becomes `run`.
 */
export function repeatCommand(argv: string[]): string[] {
  const out = ["funnelcredit"];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    const flag = w.split("=")[0]!;
    if (SELECTION_FLAGS.has(flag)) continue;
    if (SELECTION_OPTIONS.has(flag)) {
      if (!w.includes("=")) while (i + 1 < argv.length && !argv[i + 1]!.startsWith("-")) i++;
      continue;
    }
    out.push(w === "plan" && out.length === 1 ? "run" : w);
  }
  return out;
}
