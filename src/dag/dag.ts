/**
 * The action graph: compiled Dataform actions plus TypeScript jobs, selection, and a
 * deterministic topological order in levels (actions of one level may run at the same time).
 */
import { UserError } from "../util/errors.ts";
import type { Action, Graph } from "./graph.ts";
import type { JobDefinition } from "../jobs/job.ts";
import { sharedHistoryWriters } from "../catalog/index.ts";

/** Find an action by exact name ("schema.table") or by table name alone when that is unique. */
export function findAction(graph: Graph, name: string): Action {
  const exact = graph.actions.find((a) => a.name === name);
  if (exact) return exact;
  // Jobs answer to their own name only: their target is their first output's.
  const byTable = graph.actions.filter((a) => a.kind !== "job" && (a.target.name === name || a.name.endsWith("." + name)));
  if (byTable.length === 1) return byTable[0]!;
  if (byTable.length > 1) throw new UserError(`"${name}" is ambiguous: ${byTable.map((a) => a.name).join(", ")}; use schema.table`);
  throw new UserError(`no action or table named "${name}" (run \`funnelcredit compile\` to list them)`);
}

/**
 * Merge jobs into the graph: each job becomes an action depending on the producers of what it
 * reads; the declarations of what it writes become its outputs (they depend on the job), so
 * downstream SQLX that refs them runs after it.
 *
 * One writer per table, but for a shared history (catalog producer { jobs: [...] }): every job it
 * lists may append to it (the runner keeps each job's rows of a run apart), and its declaration
 * depends on all of them, so a reader runs after every writer that runs.
 */
export function mergeJobs(graph: Graph, jobs: JobDefinition[]): Graph {
  const actions = graph.actions.map((a) => ({ ...a, dependencies: [...a.dependencies] }));
  const out: Graph = { ...graph, actions };
  const owner = new Map<string, string>();
  const writers = new Set<string>();
  for (const job of jobs) {
    if (actions.some((a) => a.name === job.name)) throw new UserError(`job "${job.name}" has the name of another action`);
    const writes = job.writes.map((w) => {
      const a = findAction(out, w);
      if (a.kind !== "declaration") {
        throw new UserError(`job "${job.name}" writes "${w}", but ${a.name} is a ${a.kind} built by ${a.fileName}; declare the job's outputs with config { type: "declaration" }`);
      }
      const shared = sharedHistoryWriters(a.target.name);
      if (shared) {
        if (!shared.includes(job.name)) throw new UserError(`job "${job.name}" writes "${a.name}", a history shared by ${shared.join(", ")}; add "${job.name}" to its producer jobs in includes/catalog.js`);
        return a;
      }
      const prev = owner.get(a.name);
      if (prev) throw new UserError(`"${a.name}" is written by two jobs: ${prev} and ${job.name}`);
      owner.set(a.name, job.name);
      return a;
    });
    const reads = job.reads.map((r) => findAction(out, r).name);
    const first = writes[0];
    if (!first) throw new UserError(`job "${job.name}" declares no outputs`);
    actions.push({
      name: job.name, kind: "job", target: first.target, dependencies: reads,
      // "job" on every job: `run --tags job` runs the TypeScript stage between two SQL stages (Dataform beside it).
      tags: [...new Set(["job", ...(job.tags ?? [])])],
      fileName: `jobs/${job.name.replace(/_/g, "-")}.ts`, description: job.description, job,
    });
    for (const w of writes) w.dependencies = sharedHistoryWriters(w.target.name) && w.dependencies.some((d) => writers.has(d)) ? [...w.dependencies, job.name] : [job.name];
    writers.add(job.name);
  }
  // Actions that depend on a job output also wait for the job (through the declaration).
  return out;
}

export interface Selection {
  actions?: string[];
  tags?: string[];
  includeDependencies?: boolean;
  includeDependents?: boolean;
  /** dbt-style selectors, each with its own graph operators: `name`, `+name`, `name+`, `+name+`, `tag:t` (see parseSelector). */
  select?: string[];
  /** Selectors of the same form (dbt's `--exclude`): what they name is left out of the selection (of everything when nothing else is named). */
  exclude?: string[];
}

interface Selector {
  /** An action or table name, or a tag (`tag:t`). */
  name: string;
  tag: boolean;
  /** `+name`: with everything it reads, transitively. */
  upstream: boolean;
  /** `name+`: with everything that reads it, transitively. */
  downstream: boolean;
}

/** dbt's graph operators on one selector: a leading `+` adds the ancestors, a trailing `+` the descendants. */
export function parseSelector(text: string, flag = "--select"): Selector {
  const m = /^(\+?)([^+\s]+)(\+?)$/.exec(text.trim());
  if (!m) throw new UserError(`${flag} ${JSON.stringify(text)}: expected a name with an optional + on either side (+model, model+, +model+) or tag:name`);
  const tag = m[2]!.startsWith("tag:");
  const name = tag ? m[2]!.slice(4) : m[2]!;
  if (!name) throw new UserError(`${flag} ${JSON.stringify(text)}: tag: needs a tag name`);
  return { name, tag, upstream: m[1] === "+", downstream: m[3] === "+" };
}

/** Each action's name → the actions that depend on it directly. */
export function dependentsOf(graph: Graph): Map<string, string[]> {
  const dependents = new Map<string, string[]>();
  for (const a of graph.actions) for (const d of a.dependencies) dependents.set(d, [...(dependents.get(d) ?? []), a.name]);
  return dependents;
}

/**
 * `start` and every name reached from it by `next` (dependencies, or dependentsOf's lists). `next` is also handed the
 * names reached so far: a step may depend on them (cannotRunWithout).
 */
export function reach(start: Iterable<string>, next: (n: string, seen: ReadonlySet<string>) => readonly string[]): Set<string> {
  const seen = new Set(start);
  const stack = [...seen];
  while (stack.length) for (const m of next(stack.pop()!, seen)) if (!seen.has(m)) { seen.add(m); stack.push(m); }
  return seen;
}

/**
 * `names` and every action that cannot run without them: what reads, directly or further down, a table only they
 * write. A table that other jobs write too (model_metrics) is still written by those, so its readers stay (the table
 * is looked at again as each of its writers is reached: it follows the last).
 */
export function cannotRunWithout(graph: Graph, names: readonly string[]): Set<string> {
  const byName = new Map(graph.actions.map((a) => [a.name, a]));
  const dependents = dependentsOf(graph);
  return reach(names, (n, out) => (dependents.get(n) ?? []).filter((d) => {
    const a = byName.get(d);
    return a?.kind !== "declaration" || a.dependencies.every((w) => out.has(w));
  }));
}

/** Names of the selected actions (all when nothing is named), less the excluded ones. */
export function select(graph: Graph, sel: Selection): Set<string> {
  const chosen = included(graph, sel);
  if (!sel.exclude?.length) return chosen;
  const left = included(graph, { select: sel.exclude }, "--exclude");
  // An assertion Dataform made for a table leaves with it (included() adds it to the excluded table's set).
  return new Set([...chosen].filter((n) => !left.has(n)));
}

/** Names of the actions the selection names (all when it names none), before any exclusion. */
function included(graph: Graph, sel: Omit<Selection, "exclude">, flag = "--select"): Set<string> {
  const all = new Set(graph.actions.filter((a) => !a.disabled).map((a) => a.name));
  if (!sel.actions?.length && !sel.tags?.length && !sel.select?.length) return all;
  const chosen = new Set<string>();
  for (const n of sel.actions ?? []) chosen.add(findAction(graph, n).name);
  for (const t of sel.tags ?? []) {
    const tagged = graph.actions.filter((a) => a.tags.includes(t));
    if (!tagged.length) throw new UserError(`no action has tag "${t}"`);
    for (const a of tagged) chosen.add(a.name);
  }
  const byName = new Map(graph.actions.map((a) => [a.name, a]));
  const dependents = dependentsOf(graph);
  const walk = (start: Iterable<string>, next: (n: string) => string[]): void => {
    const stack = [...start];
    while (stack.length) {
      const n = stack.pop()!;
      for (const m of next(n)) if (!chosen.has(m)) { chosen.add(m); stack.push(m); }
    }
  };
  const seeds = [...chosen];
  if (sel.includeDependencies) walk(seeds, (n) => byName.get(n)?.dependencies ?? []);
  if (sel.includeDependents) walk(seeds, (n) => dependents.get(n) ?? []);
  // Each selector walks from its own names: `+a b+` takes a's ancestors and b's descendants, not the reverse.
  for (const text of sel.select ?? []) {
    const s = parseSelector(text, flag);
    const start = s.tag ? graph.actions.filter((a) => a.tags.includes(s.name)).map((a) => a.name) : [findAction(graph, s.name).name];
    if (!start.length) throw new UserError(`${flag} ${text}: no action has tag "${s.name}"`);
    for (const n of start) chosen.add(n);
    if (s.upstream) for (const n of reach(start, (x) => byName.get(x)?.dependencies ?? [])) chosen.add(n);
    if (s.downstream) for (const n of reach(start, (x) => dependents.get(x) ?? [])) chosen.add(n);
  }
  // Built-in assertions follow the table they check.
  for (const a of graph.actions) if (a.parentAction && chosen.has(a.parentAction) && a.kind === "assertion") chosen.add(a.name);
  return new Set([...chosen].filter((n) => all.has(n)));
}

/** Levels of a deterministic topological order (Kahn; ties broken by name). Throws on cycles. */
export function topoLevels(graph: Graph, names: Set<string>): string[][] {
  const byName = new Map(graph.actions.map((a) => [a.name, a]));
  for (const a of graph.actions) {
    for (const d of a.dependencies) {
      if (!byName.has(d)) throw new UserError(`${a.name} (${a.fileName}) depends on "${d}", which no action or declaration provides`);
    }
  }
  // Dependencies through actions left out of the selection that do not run anyway (declarations:
  // e.g. a job's output declaration between two jobs) still order the selected actions.
  const effective = new Map<string, Set<string>>();
  const depsOf = (n: string, seen = new Set<string>()): Set<string> => {
    const out = new Set<string>();
    for (const d of byName.get(n)!.dependencies) {
      if (names.has(d)) out.add(d);
      else if (byName.get(d)?.kind === "declaration" && !seen.has(d)) {
        seen.add(d);
        for (const x of depsOf(d, seen)) out.add(x);
      }
    }
    return out;
  };
  for (const n of names) effective.set(n, depsOf(n));
  const indeg = new Map<string, number>();
  for (const n of names) indeg.set(n, effective.get(n)!.size);
  const levels: string[][] = [];
  let ready = [...names].filter((n) => indeg.get(n) === 0).sort();
  let done = 0;
  while (ready.length) {
    levels.push(ready);
    done += ready.length;
    const next: string[] = [];
    for (const n of ready) {
      for (const a of graph.actions) {
        if (!names.has(a.name) || !effective.get(a.name)!.has(n)) continue;
        const k = indeg.get(a.name)! - 1;
        indeg.set(a.name, k);
        if (k === 0) next.push(a.name);
      }
    }
    ready = next.sort();
  }
  if (done !== names.size) {
    const stuck = [...names].filter((n) => (indeg.get(n) ?? 0) > 0);
    throw new UserError(`the action graph has a cycle through: ${stuck.join(", ")}`);
  }
  return levels;
}
