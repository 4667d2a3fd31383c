/**
 * The Workflows example (docs/workflows-dataform.yaml) against the compiled graph: Dataform's first stage holds
 * nothing that reads a job's output, `funnelcredit run --tags job` runs exactly the jobs, and the last stage holds
 * every SQL action that reads them — so the three stages run the whole DAG in order.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { compiledProject, PROJECT_DIR } from "./support/warehouse.ts";
import { select } from "../src/dag/dag.ts";
import type { Action } from "../src/dag/graph.ts";

interface Step { [name: string]: { call?: string; args?: { tags?: string[]; body?: { overrides?: { containerOverrides?: { args: string[] }[] } } } } }

describe("Workflows example: Dataform stages around funnelcredit's jobs", function () {
  this.timeout(120_000);

  it("splits the DAG into SQL before the jobs, the jobs (--tags job), and SQL after them", async () => {
    const wf = parse(readFileSync(path.join(PROJECT_DIR, "docs", "workflows-dataform.yaml"), "utf8")) as { main: { steps: Step[] } };
    const step = (name: string) => wf.main.steps.find((s) => name in s)![name]!;
    const before = step("sql_before_jobs").args!.tags!;
    const after = step("sql_after_jobs").args!.tags!;
    const cliArgs = step("jobs").args!.body!.overrides!.containerOverrides![0]!.args;
    const jobTags = [cliArgs[cliArgs.indexOf("--tags") + 1]!];

    const { graph } = await compiledProject({});
    const byName = new Map(graph.actions.map((a) => [a.name, a]));
    const readsJob = new Map<string, boolean>();
    const dependsOnJob = (a: Action): boolean => {
      if (readsJob.has(a.name)) return readsJob.get(a.name)!;
      readsJob.set(a.name, false);
      const r = a.kind === "job" || a.dependencies.some((d) => { const x = byName.get(d); return x ? dependsOnJob(x) : false; });
      readsJob.set(a.name, r);
      return r;
    };
    const tagged = (tags: string[]) => graph.actions.filter((a) => a.kind !== "job" && a.kind !== "declaration" && a.tags.some((t) => tags.includes(t)));
    for (const t of [...before, ...after]) assert.ok(graph.actions.some((a) => a.tags.includes(t)), `tag ${t} is on no action`);

    const stage1 = tagged(before);
    assert.deepEqual(stage1.filter(dependsOnJob).map((a) => a.name), [], "stage 1 reads nothing a job writes");
    const jobs = [...select(graph, { tags: jobTags })].sort();
    assert.deepEqual(jobs, graph.actions.filter((a) => a.kind === "job").map((a) => a.name).sort());
    const stage3 = new Set(tagged(after).map((a) => a.name));
    const sqlAfterJobs = graph.actions.filter((a) => a.kind !== "job" && a.kind !== "declaration" && dependsOnJob(a));
    assert.deepEqual(sqlAfterJobs.filter((a) => !stage3.has(a.name)).map((a) => a.name), [], "stage 3 holds every SQL action over a job's output");
    const covered = new Set([...stage1.map((a) => a.name), ...stage3]);
    assert.deepEqual(graph.actions.filter((a) => a.kind !== "job" && a.kind !== "declaration" && !covered.has(a.name)).map((a) => a.name), [], "every SQL action runs in a stage");
  });
});
