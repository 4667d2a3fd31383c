/** Reading the run-history table back (resume, reports). */
import type { Engine, Target } from "../engines/engine.ts";
import { qualified } from "../engines/engine.ts";
import type { Project } from "../compile/project.ts";
import type { Graph } from "../dag/graph.ts";
import { sqlString } from "../util/sql.ts";
import { tableLocation } from "../catalog/index.ts";
import { RUN_HISTORY_TABLE } from "./run-record.ts";

export function historyTarget(project: Project): Target {
  return tableLocation(RUN_HISTORY_TABLE, { settings: project.settings, database: project.workflow.defaultProject });
}

interface ResumePlan {
  /** Actions the resumed run skips: they succeeded in it and nothing they read has changed since. */
  skip: Set<string>;
  /** Actions that succeeded in the run but run again, with the reason. */
  rerun: Map<string, string>;
  /** Whether the run history knows the run at all (a mistyped id resumes nothing). */
  known?: boolean;
}

/**
 * What `--resume RUN_ID` may skip. An action that succeeded in the run is skipped only while its
 * output is still what the rest of the run would have read:
 * - no upstream action has written since it succeeded (another run, or an earlier resume, rebuilt
 *   something it reads: its output is stale), and
 * - no upstream action runs again in this resume (an upstream killed after its commit but before its
 *   history row, a failed one, or one re-run for the first reason), transitively.
 * `selected` are the actions the resumed run covers; unselected upstreams do not run and do not count.
 */
export async function resumePlan(engine: Engine, project: Project, runId: string, selected: Set<string>): Promise<ResumePlan> {
  const skip = new Set<string>();
  const rerun = new Map<string, string>();
  const t = historyTarget(project);
  if (!(await engine.tableExists(t))) return { skip, rerun, known: false };
  const rows = await engine.query(
    `SELECT run_id, action, MAX(ended_at) AS ended_at FROM ${qualified(t)} WHERE status IN ('succeeded', 'warning') GROUP BY run_id, action`,
  );
  const mine = new Map<string, number>();
  const lastWrite = new Map<string, { at: number; runId: string }>();
  for (const r of rows) {
    const at = new Date(r.ended_at as Date | string).getTime();
    const action = String(r.action);
    if (r.run_id === runId) mine.set(action, Math.max(mine.get(action) ?? 0, at));
    const prev = lastWrite.get(action);
    if (!prev || at > prev.at) lastWrite.set(action, { at, runId: String(r.run_id) });
  }
  const [seen] = await engine.query(`SELECT COUNT(*) AS n FROM ${qualified(t)} WHERE run_id = ${sqlString(runId)}`);
  return { ...planFromHistory(project.graph, runId, selected, mine, lastWrite), known: Number(seen?.n ?? 0) > 0 };
}

/** The pure part of resumePlan (tested on its own). */
export function planFromHistory(
  graph: Graph,
  runId: string,
  selected: Set<string>,
  succeededAt: Map<string, number>,
  lastWrite: Map<string, { at: number; runId: string }>,
): ResumePlan {
  const byName = new Map(graph.actions.map((a) => [a.name, a]));
  // Upstream actions that write something (declarations are followed to the job producing them).
  const producers = (name: string): string[] => {
    const out: string[] = [];
    for (const d of byName.get(name)?.dependencies ?? []) {
      const dep = byName.get(d);
      if (!dep) continue;
      if (dep.kind === "declaration") out.push(...dep.dependencies.filter((x) => byName.get(x)?.kind === "job"));
      else out.push(d);
    }
    return out;
  };
  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (name: string): Set<string> => {
    let s = ancestors.get(name);
    if (s) return s;
    s = new Set();
    ancestors.set(name, s);
    for (const p of producers(name)) {
      s.add(p);
      for (const a of ancestorsOf(p)) s.add(a);
    }
    return s;
  };
  const skip = new Set<string>();
  const rerun = new Map<string, string>();
  for (const name of selected) {
    const at = succeededAt.get(name);
    if (at === undefined || byName.get(name)?.kind === "declaration") continue;
    const newer = [...ancestorsOf(name)].find((u) => (lastWrite.get(u)?.at ?? 0) > at);
    if (newer) rerun.set(name, `${newer} was rebuilt by run ${lastWrite.get(newer)!.runId} after it`);
    else skip.add(name);
  }
  // An upstream that runs again in this resume makes everything downstream of it run again.
  let changed = true;
  while (changed) {
    changed = false;
    for (const name of [...skip]) {
      const again = [...ancestorsOf(name)].find((u) => selected.has(u) && byName.get(u)?.kind !== "declaration" && !skip.has(u));
      if (again) {
        skip.delete(name);
        rerun.set(name, `${again} runs again`);
        changed = true;
      }
    }
  }
  return { skip, rerun };
}
