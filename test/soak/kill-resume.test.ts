/**
 * Soak (npm run test:soak): SIGKILL a CLI run at every action (before it, inside its transaction,
 * after its commit but before its record) and inside every job write-back, then resume — or plainly
 * re-run — and compare every table's checksum with a clean run's. ~10 s per kill point.
 * FC_SOAK_KILL_POINTS=N limits the number of points (spread over the DAG) for a quicker pass.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBEngine } from "../../src/engines/duckdb/engine.ts";
import { select, topoLevels } from "../../src/dag/dag.ts";
import { ALL_JOBS } from "../../jobs/index.ts";
import { compiledProject, runProject } from "../support/warehouse.ts";
import { cliRun, copyWarehouse, diffChecksums, makeSourceWarehouse, runIdOfKilled, warehouseChecksums } from "../support/kill.ts";

describe("soak: kill anywhere, resume, converge", function () {
  this.timeout(0);
  const points: string[] = [];
  let dir: string;
  let base: string;
  let clean: Record<string, string>;
  let skip: string[];
  const strip = (c: Record<string, string>) => Object.fromEntries(Object.entries(c).filter(([k]) => !k.endsWith(".rpt_run_history")));

  before(async () => {
    const project = await compiledProject();
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-soak-kill-"));
    skip = [project.settings.datasets.meta];
    base = path.join(dir, "base.duckdb");
    await makeSourceWarehouse(base, project);
    const c = copyWarehouse(base, path.join(dir, "clean.duckdb"));
    const engine = await DuckDBEngine.open({ path: c, memoryLimit: "1GB", threads: 2 });
    await runProject(project, engine, { runId: "clean" });
    await engine.close();
    clean = strip(await warehouseChecksums(c, skip));
    const order = topoLevels(project.graph, select(project.graph, {})).flat()
      .filter((n) => { const a = project.graph.actions.find((x) => x.name === n)!; return a.kind !== "declaration" && a.kind !== "assertion"; });
    const phases = ["during", "unrecorded", "before"];
    order.forEach((n, i) => points.push(`${phases[i % phases.length]}:${n}`));
    for (const j of ALL_JOBS) for (const w of j.writes) points.push(`writeback:${w}`);
    const limit = Number(process.env.FC_SOAK_KILL_POINTS ?? 0);
    if (limit > 0 && limit < points.length) {
      const step = points.length / limit;
      const picked = Array.from({ length: limit }, (_, i) => points[Math.floor(i * step)]!);
      points.splice(0, points.length, ...picked);
    }
  });

  it("converges after a kill at every point, by --resume and by a plain re-run", async () => {
    const failures: string[] = [];
    let reached = 0;
    for (const [i, point] of points.entries()) {
      const w = copyWarehouse(base, path.join(dir, `k${i}.duckdb`));
      const killed = await cliRun(w, [], point);
      if (killed.signal !== "SIGKILL") {
        // The point was never reached (e.g. a job failing earlier on this small sample): nothing to test.
        rmSync(w, { force: true });
        continue;
      }
      reached++;
      const resume = i % 2 === 0;
      const args = resume ? ["--resume", runIdOfKilled(w)] : [];
      const done = await cliRun(w, args);
      assert.notEqual(done.signal, "SIGKILL");
      const diff = diffChecksums(clean, strip(await warehouseChecksums(w, skip)));
      if (diff.length) failures.push(`${point} (${resume ? "resume" : "re-run"}): ${diff.join("; ")}`);
      process.stderr.write(`  ${point} ${resume ? "resume" : "re-run"}: ${diff.length ? "DIFFERS" : "converged"}\n`);
      rmSync(w, { force: true });
      rmSync(`${w}.wal`, { force: true });
    }
    assert.deepEqual(failures, []);
    // Points a job never reaches (a job runs no SQL transaction of its own) are skipped; most must be reached.
    process.stderr.write(`  ${reached} of ${points.length} kill points reached\n`);
    assert.ok(reached >= points.length / 2, `only ${reached} of ${points.length} kill points were reached`);
  });
});
