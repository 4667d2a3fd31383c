/**
 * Incremental GA4 staging (DuckDB): a re-run reads only the re-processing window through
 * _TABLE_SUFFIX and replaces those days; older days are left as they were.
 */
import assert from "node:assert/strict";
import { compiledProject, memoryEngine, runProject, assertRunSucceeded } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { loadGa4, loadInputs, STAGING, type Ga4Event } from "./fixtures/warehouse/builders.ts";
import type { Engine, ExecOptions } from "../src/engines/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { buildScript } from "../src/engines/bigquery/engine.ts";
import os from "node:os";
import path from "node:path";

const pv = (day: string, session: number, time = "10:00:00"): Ga4Event => ({ day, time, name: "page_view", client: "Z", session });

describe("warehouse: incremental GA4 staging", function () {
  this.timeout(120_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  async function eventsPerDay(): Promise<Record<string, number>> {
    const rows = await engine.queryNative(`SELECT CAST(event_date AS VARCHAR) AS d, count(*) AS n FROM "${STAGING}"."stg_ga4_events" GROUP BY 1 ORDER BY 1`);
    return Object.fromEntries(rows.map((r) => [String(r.d), Number(r.n)]));
  }

  for (const [reprocess, expected] of [
    // reprocess_days 0: only the new day (2024-01-04) is read; the late events of 01-01 and 01-03 are not seen.
    ["0", { "2024-01-01": 1, "2024-01-02": 1, "2024-01-03": 1, "2024-01-04": 1 }],
    // reprocess_days 1 (the last staged day, 2024-01-03, is re-read): 01-03's late event is picked up, 01-01's is not.
    ["1", { "2024-01-01": 1, "2024-01-02": 1, "2024-01-03": 2, "2024-01-04": 1 }],
  ] as const) {
    it(`with reprocess_days ${reprocess}, a run after one more day re-reads only the window`, async () => {
      await loadInputs(engine, { ga4: [pv("20240101", 1), pv("20240102", 2), pv("20240103", 3)] });
      const project = await compiledProject({ reprocess_days: reprocess }, []);
      const sel = { actions: ["stg_ga4_events"], includeDependencies: true };
      assertRunSucceeded(await runProject(project, engine, { selection: sel }));
      assert.deepEqual(await eventsPerDay(), { "2024-01-01": 1, "2024-01-02": 1, "2024-01-03": 1 });
      // One more day, plus late events appended to 01-01 and 01-03.
      await loadGa4(engine, [pv("20240104", 4), pv("20240101", 1, "11:00:00"), pv("20240103", 3, "11:00:00")], "append");
      assertRunSucceeded(await runProject(project, engine, { selection: sel }));
      assert.deepEqual(await eventsPerDay(), expected);
      // A full refresh reads everything.
      assertRunSucceeded(await runProject(project, engine, { selection: sel, fullRefresh: true }));
      assert.deepEqual(await eventsPerDay(), { "2024-01-01": 2, "2024-01-02": 1, "2024-01-03": 2, "2024-01-04": 1 });
    });
  }

  it("counts the re-processing window from the last daily day, not today's intraday rows (GA4's 72-hour late data)", async () => {
    // Daily 01-01..01-03 and an intraday table for 01-04; reprocess_days 3 must re-read 01-01..01-03.
    await loadInputs(engine, { ga4: [pv("20240101", 1), pv("20240102", 2), pv("20240103", 3), { ...pv("20240104", 4), intraday: true }] });
    const project = await compiledProject({ reprocess_days: "3" }, []);
    const sel = { actions: ["stg_ga4_events"], includeDependencies: true };
    assertRunSucceeded(await runProject(project, engine, { selection: sel }));
    // A late event lands in the 01-01 daily table (within 72 hours of 01-03's end).
    await loadGa4(engine, [pv("20240101", 1, "11:00:00")], "append");
    assertRunSucceeded(await runProject(project, engine, { selection: sel }));
    assert.equal((await eventsPerDay())["2024-01-01"], 2);
  });

  it("an empty staged table re-reads from start_date instead of nothing (regression: GREATEST(NULL, …) left staging stuck)", async () => {
    await loadInputs(engine, { ga4: [pv("20240101", 1), pv("20240102", 2)] });
    const project = await compiledProject({}, []);
    const sel = { actions: ["stg_ga4_events"], includeDependencies: true };
    assertRunSucceeded(await runProject(project, engine, { selection: sel }));
    await engine.runNative(`DELETE FROM "${STAGING}"."stg_ga4_events"`);
    assertRunSucceeded(await runProject(project, engine, { selection: sel }));
    assert.deepEqual(await eventsPerDay(), { "2024-01-01": 1, "2024-01-02": 1 });
  });

  it("deletes the re-processed days by a constant and reads the GA4 window once (regression: the DELETE re-ran the staging query in a subquery)", async () => {
    await loadInputs(engine, { ga4: [pv("20240101", 1), pv("20240102", 2)] });
    const project = await compiledProject({}, []);
    const sel = { actions: ["stg_ga4_events"], includeDependencies: true };
    assertRunSucceeded(await runProject(project, engine, { selection: sel }));
    const seen: string[][] = [];
    const recording = new Proxy(engine as Engine, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== "function") return v;
        if (prop !== "execute") return (v as (...a: unknown[]) => unknown).bind(target);
        return (statements: string[], opts?: ExecOptions) => {
          if (opts?.action === `${STAGING}.stg_ga4_events`) seen.push(statements);
          return (v as (...a: unknown[]) => unknown).call(target, statements, opts);
        };
      },
    });
    const run = await runGraph({ graph: project.graph, engine: recording, settings: project.settings, artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "fc-incremental-shape")), selection: sel });
    assertRunSucceeded(run);
    assert.equal(seen.length, 1);
    const statements = seen[0]!;
    const deletes = statements.filter((s) => /^\s*DELETE\b/i.test(s));
    assert.equal(deletes.length, 1, statements.join("\n---\n"));
    // A partition column against a script variable: BigQuery prunes to the window before reading.
    assert.match(deletes[0]!, /WHERE event_date >= partition_window_start;?\s*$/);
    assert.doesNotMatch(deletes[0]!, /SELECT/i);
    assert.equal(statements.join("\n").split("events_in_window AS").length - 1, 1, "the staging query runs once");
    // On BigQuery the DECLAREs come first and the DELETE and INSERT commit together.
    assert.match(buildScript(statements), /^(\s*--[^\n]*\n)*\s*DECLARE first_table_suffix[\s\S]*;\nDECLARE partition_window_start[\s\S]*;\nBEGIN TRANSACTION;\nDELETE[\s\S]*;\nINSERT[\s\S]*;\nCOMMIT TRANSACTION;$/);
    assert.deepEqual(await eventsPerDay(), { "2024-01-01": 1, "2024-01-02": 1 });
  });
});
