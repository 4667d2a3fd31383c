/**
 * Compile the Dataform project, offline, with the @dataform/core pinned in package.json.
 *
 * By default in this process (src/compile/dataform-core.ts: what the Dataform CLI's compile worker does, without the
 * CLI and vm2; ≈ 1 CPU s instead of ≈ 6.5); FUNNELCREDIT_DATAFORM_COMPILER=cli runs `dataform compile --json` with the
 * pinned @dataform/cli instead (test/dataform-core.test.ts checks both give the same graph).
 *
 * Measured (engine-feasibility.md §1.2): only package.json mode works offline — @dataform/core pinned
 * in package.json and no `dataformCoreVersion` in workflow_settings.yaml (with it the CLI runs
 * `npm i` on every compile). The CLI prints the graph as JSON, then the error text, on stdout.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { CompileError, SettingsError } from "../util/errors.ts";
import type { Target } from "../engines/engine.ts";
import { packageRoot } from "../util/package-root.ts";
import { actionName, type Action, type ActionKind, type Graph } from "../dag/graph.ts";

interface DfTarget { database?: string; schema: string; name: string }
interface DfTable {
  type: string; target: DfTarget; query?: string; incrementalQuery?: string; preOps?: string[]; postOps?: string[];
  incrementalPreOps?: string[]; incrementalPostOps?: string[]; dependencyTargets?: DfTarget[]; tags?: string[];
  fileName?: string; disabled?: boolean; uniqueKey?: string[];
  bigquery?: { partitionBy?: string; clusterBy?: string[]; updatePartitionFilter?: string; labels?: Record<string, string> };
  actionDescriptor?: { description?: string; columns?: { path: string[]; description?: string }[] };
}
interface DfAssertion { query: string; target: DfTarget; dependencyTargets?: DfTarget[]; tags?: string[]; fileName?: string; parentAction?: DfTarget; disabled?: boolean }
interface DfOperation { queries: string[]; target: DfTarget; dependencyTargets?: DfTarget[]; tags?: string[]; fileName?: string; hasOutput?: boolean; disabled?: boolean }
interface DfDeclaration { target: DfTarget; fileName?: string; actionDescriptor?: { description?: string } }
interface DfCompileError { fileName?: string; message: string; actionName?: string }
export interface DataformCompiled {
  tables?: DfTable[]; assertions?: DfAssertion[]; operations?: DfOperation[]; declarations?: DfDeclaration[];
  projectConfig: { defaultDatabase: string; defaultSchema: string; assertionSchema: string; defaultLocation?: string; vars?: Record<string, string> };
  graphErrors?: { compilationErrors?: DfCompileError[] };
}

export interface CompileOptions {
  projectDir: string;
  /** Overrides of workflow_settings.yaml vars (`--vars`). */
  vars?: Record<string, string>;
  defaultDatabase?: string;
}

const COMPILE_TIMEOUT_ENV = "FUNNELCREDIT_COMPILE_TIMEOUT";
/** `cli`: compile with the Dataform CLI (a process) instead of in this process. */
export const DATAFORM_COMPILER_ENV = "FUNNELCREDIT_DATAFORM_COMPILER";

/** How long Dataform may compile: FUNNELCREDIT_COMPILE_TIMEOUT (Dataform's duration form: 90s, 10m, 1h), else 10 minutes. */
function compileTimeout(): string {
  const given = process.env[COMPILE_TIMEOUT_ENV]?.trim();
  if (!given) return "10m";
  if (!/^\d+(ms|s|m|h)$/.test(given)) throw new SettingsError(`${COMPILE_TIMEOUT_ENV}=${given}: expected a duration such as 90s, 10m or 1h`);
  return given;
}

/** Compile the project and return Dataform's graph, as `dataform compile --json` prints it (errors thrown as CompileError). */
export async function compileDataform(opts: CompileOptions): Promise<DataformCompiled> {
  const settingsFile = path.join(opts.projectDir, "workflow_settings.yaml");
  if (!existsSync(settingsFile)) throw new SettingsError(`no workflow_settings.yaml in ${opts.projectDir}`);
  if (/^\s*dataformCoreVersion\s*:/m.test(readFileSync(settingsFile, "utf8"))) {
    throw new SettingsError(
      "workflow_settings.yaml sets dataformCoreVersion: remove it — @dataform/core is pinned in package.json, and with it the Dataform CLI runs `npm i` on every compile (fails offline)",
    );
  }
  const compiler = process.env[DATAFORM_COMPILER_ENV]?.trim() || "in-process";
  if (compiler !== "in-process" && compiler !== "cli") throw new SettingsError(`${DATAFORM_COMPILER_ENV}=${compiler}: expected cli or in-process`);
  const compiled = compiler === "cli" ? await compileWithCli(opts) : await compileInProcess(opts);
  const errors = compiled.graphErrors?.compilationErrors ?? [];
  if (errors.length) throw compileErrorFrom(errors, opts.projectDir);
  return compiled;
}

/** Loaded when a compile is needed (protobufjs and glob cost ≈ 0.1 s): a run answered from the compile cache skips it. */
async function compileInProcess(opts: CompileOptions): Promise<DataformCompiled> {
  const { compileWithCore } = await import("./dataform-core.ts");
  const timeout = compileTimeout();
  const vars = opts.vars && Object.keys(opts.vars).length
    ? Object.fromEntries(Object.entries(opts.vars).map(([k, v]) => [k, encodeVar(v)]))
    : undefined;
  try {
    return compileWithCore(opts.projectDir, { vars, defaultDatabase: opts.defaultDatabase }, durationMs(timeout)) as DataformCompiled;
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    const hint = /timed out/i.test(text) ? ` (the limit is ${timeout}; set ${COMPILE_TIMEOUT_ENV}, e.g. ${COMPILE_TIMEOUT_ENV}=30m, to allow longer)` : "";
    throw new CompileError("workflow_settings.yaml", undefined, `Dataform compile failed: ${text.slice(0, 2000)}${hint}`);
  }
}

/** Dataform's duration form (90s, 10m, 1h, 500ms) in milliseconds. */
function durationMs(d: string): number {
  const [, n, unit] = /^(\d+)(ms|s|m|h)$/.exec(d)!;
  return Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"];
}

/** `dataform compile . --json` with the pinned CLI. */
async function compileWithCli(opts: CompileOptions): Promise<DataformCompiled> {
  const bin = dataformCliPath(opts.projectDir);
  const args = ["compile", opts.projectDir, "--json"];
  if (opts.vars && Object.keys(opts.vars).length) {
    args.push(`--vars=${Object.entries(opts.vars).map(([k, v]) => `${k}=${encodeVar(v)}`).join(",")}`);
  }
  if (opts.defaultDatabase) args.push(`--default-database=${opts.defaultDatabase}`);
  // Dataform gives up after 60 s by default, which a busy machine (a shared CI runner, a laptop running a
  // build) reaches on a project this size: allow longer, and let the environment say how long.
  const timeout = compileTimeout();
  args.push(`--timeout=${timeout}`);
  const { stdout, stderr, code } = await run(bin, args, opts.projectDir);
  const end = stdout.indexOf("\n}");
  if (!stdout.trimStart().startsWith("{") || end < 0) {
    const text = stripAnsi(stderr || stdout).trim().slice(0, 2000);
    const hint = /timed out/i.test(text) ? ` (the limit is ${timeout}; set ${COMPILE_TIMEOUT_ENV}, e.g. ${COMPILE_TIMEOUT_ENV}=30m, to allow longer)` : "";
    throw new CompileError("workflow_settings.yaml", undefined, `Dataform compile failed (exit ${code}): ${text}${hint}`);
  }
  return JSON.parse(stdout.slice(0, end + 2)) as DataformCompiled;
}

/** The Dataform CLI: the project's own if it has one, else the one installed with funnelcredit. */
export function dataformCliPath(projectDir: string): string {
  const own = path.join(projectDir, "node_modules", ".bin", "dataform");
  return existsSync(own) ? own : path.join(packageRoot(), "node_modules", ".bin", "dataform");
}

/**
 * The Dataform CLI splits `--vars` on "," (and the pair on "="): such values travel as
 * "b64:" + base64url, decoded by includes/settings.js.
 */
function encodeVar(value: string): string {
  return /[,=\s"']/.test(value) ? `b64:${Buffer.from(value, "utf8").toString("base64url")}` : value;
}

/** A var's value as given, from what the compile passed (encodeVar's "b64:" form decoded). */
export function decodeVar(value: string): string {
  return value.startsWith("b64:") ? Buffer.from(value.slice(4), "base64url").toString("utf8") : value;
}

function run(bin: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { cwd, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ stdout, stderr, code: code ?? 1 }));
  });
}

const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, "");

/**
 * Dataform gives the file but no line (its stacks are `CallSite {}`): find the line ourselves from
 * the name the message is about (an unresolved ref, an undefined JS name, a quoted token).
 */
export function compileErrorFrom(errors: DfCompileError[], projectDir: string): CompileError {
  const located = errors.map((e) => locate(e, projectDir));
  // "index.js: Could not resolve X" repeats a per-file error with a real file: prefer those.
  const best = located.find((e) => e.file !== "index.js") ?? located[0]!;
  const more = located.length > 1 ? `\n(${located.length - 1} more: ${located.filter((e) => e !== best).map((e) => `${e.file}${e.line ? ":" + e.line : ""}: ${e.message}`).join("; ")})` : "";
  return new CompileError(best.file, best.line, best.message + more);
}

function locate(e: DfCompileError, projectDir: string): { file: string; line?: number; message: string } {
  const file = e.fileName ?? "index.js";
  const message = e.message.replace(/"\{"name":"([^"]+)"[^}]*\}"/, '"$1"');
  const needles: string[] = [];
  const dep = /depends on "([^"]+)"/.exec(message);
  if (dep) needles.push(`ref("${dep[1]}")`, `ref('${dep[1]}')`, dep[1]!);
  const undef = /^(\S+) is not defined/.exec(message);
  if (undef) needles.push(undef[1]!);
  const prop = /Cannot read propert(?:y|ies) of \w+ \(reading '([^']+)'\)/.exec(message);
  if (prop) needles.push(prop[1]!);
  for (const q of message.matchAll(/"([^"]{2,})"/g)) needles.push(q[1]!);
  const abs = path.join(projectDir, file);
  if (!existsSync(abs)) return { file, message };
  const lines = readFileSync(abs, "utf8").split("\n");
  for (const n of needles) {
    const i = lines.findIndex((l) => l.includes(n));
    if (i >= 0) return { file, line: i + 1, message };
  }
  return { file, message };
}

const KIND: Record<string, ActionKind> = { table: "table", view: "view", incremental: "incremental" };

/** Dataform's JSON → our Graph (names "schema.name", dependencies by name). */
export function toGraph(c: DataformCompiled): Graph {
  const t = (x: DfTarget): Target => ({ database: x.database ?? c.projectConfig.defaultDatabase, schema: x.schema, name: x.name });
  const deps = (d?: DfTarget[]): string[] => (d ?? []).map(actionName);
  const actions: Action[] = [];
  for (const x of c.tables ?? []) {
    const kind = KIND[x.type];
    if (!kind) throw new CompileError(x.fileName ?? "?", undefined, `unsupported action type "${x.type}"`);
    const columns: Record<string, string> = {};
    for (const col of x.actionDescriptor?.columns ?? []) columns[col.path.join(".")] = col.description ?? "";
    actions.push({
      name: actionName(x.target), kind, target: t(x.target), dependencies: deps(x.dependencyTargets), tags: x.tags ?? [],
      fileName: x.fileName, disabled: x.disabled, query: x.query, incrementalQuery: x.incrementalQuery,
      preOps: x.preOps, postOps: x.postOps, incrementalPreOps: x.incrementalPreOps, incrementalPostOps: x.incrementalPostOps,
      uniqueKey: x.uniqueKey, partitionBy: x.bigquery?.partitionBy, clusterBy: x.bigquery?.clusterBy,
      updatePartitionFilter: x.bigquery?.updatePartitionFilter, labels: x.bigquery?.labels,
      description: x.actionDescriptor?.description, columns: Object.keys(columns).length ? columns : undefined,
    });
  }
  for (const x of c.assertions ?? []) {
    actions.push({
      name: actionName(x.target), kind: "assertion", target: t(x.target), dependencies: deps(x.dependencyTargets),
      tags: x.tags ?? [], fileName: x.fileName, query: x.query, disabled: x.disabled,
      parentAction: x.parentAction ? actionName(x.parentAction) : undefined,
    });
  }
  for (const x of c.operations ?? []) {
    actions.push({
      name: actionName(x.target), kind: "operation", target: t(x.target), dependencies: deps(x.dependencyTargets),
      tags: x.tags ?? [], fileName: x.fileName, queries: x.queries, hasOutput: x.hasOutput, disabled: x.disabled,
    });
  }
  for (const x of c.declarations ?? []) {
    actions.push({
      name: actionName(x.target), kind: "declaration", target: t(x.target), dependencies: [], tags: [],
      fileName: x.fileName, description: x.actionDescriptor?.description,
    });
  }
  const seen = new Map<string, Action>();
  for (const a of actions) {
    const prev = seen.get(a.name);
    if (prev) throw new CompileError(a.fileName ?? "?", undefined, `two actions named ${a.name} (also in ${prev.fileName}); funnelcredit maps dataset.table to one DuckDB schema.table, so names must be unique across projects`);
    seen.set(a.name, a);
  }
  return {
    actions,
    projectConfig: {
      defaultDatabase: c.projectConfig.defaultDatabase, defaultSchema: c.projectConfig.defaultSchema,
      assertionSchema: c.projectConfig.assertionSchema, defaultLocation: c.projectConfig.defaultLocation,
      vars: c.projectConfig.vars ?? {},
    },
  };
}
