/**
 * Incremental GA4 staging (DuckDB): a re-run reads only the re-processing window through
 * _TABLE_SUFFIX and replaces those days; older days are left as they were.
 */
import assert from "node:assert/strict";
import { compiledProject, ga4DayTables, memoryEngine, runProject, assertRunSucceeded } from "./support/warehouse.ts";
import { withGa4Shards, type DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { custom, INTERMEDIATE, loadGa4, loadInputs, META, STAGING, type Ga4Event } from "./fixtures/warehouse/builders.ts";
import type { Engine, ExecOptions } from "../src/engines/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { buildScript } from "../src/engines/bigquery/engine.ts";
import os from "node:os";
import { partitionColumnOfSpec } from "../src/engines/duckdb/scan-bytes.ts";
import { afterExecute, partitionDays, statementReads, type StatementRead } from "./support/partition-reads.ts";
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
    const recording = afterExecute(engine, async (statements, opts) => {
      if (opts?.action === `${STAGING}.stg_ga4_events`) seen.push(statements);
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
    assert.match(buildScript(statements), /^(\s*--[^\n]*\n)*\s*DECLARE first_run_day[\s\S]*;\n\s*DECLARE first_table_suffix[\s\S]*;\nDECLARE partition_window_start[\s\S]*;\nBEGIN TRANSACTION;\nDELETE[\s\S]*;\nINSERT[\s\S]*;\nCOMMIT TRANSACTION;$/);
    assert.deepEqual(await eventsPerDay(), { "2024-01-01": 1, "2024-01-02": 1 });
  });

  it("keeps the event extracts day by day, and their consumers never read stg_ga4_events (partition-set test)", async function () {
    // Four runs of the GA4 layer with the partition tracer: 46 s alone at load 13, past 120 s at load 10–24 (CI runs of
    // sessions 10 and 11 on a shared machine), so it gets more room than the file's other tests.
    this.timeout(300_000);
    // reprocess_days 1, lookback_days 3: days 01-02…01-06 staged by a first run, then 01-07, 01-08, 01-09 one per run.
    // Each day: a session with a page view, a view_item (a funnel step), a purchase with a transaction id, a GA4
    // re-delivery of the page view (a duplicate) and a cookieless event. stg_ga4_events re-stages days n − 1 and n, so
    // each extract finds its window start in its partitions from the first-run start (n − 4) on, deletes and rewrites
    // days n − 1 and n, reads stg_ga4_events' days n − 1 and n, and checks them; the consumers read the extracts
    // (and stg_ga4_sessions), never stg_ga4_events.
    const day = (n: number) => `202401${String(n).padStart(2, "0")}`;
    const iso = (n: number) => `2024-01-${String(n).padStart(2, "0")}`;
    const eventsOf = (n: number): Ga4Event[] => [
      pv(day(n), n), pv(day(n), n),
      { ...pv(day(n), n, "10:01:00"), name: "view_item" },
      { ...pv(day(n), n, "10:02:00"), name: "purchase", transactionId: `T${n}`, revenue: 10 + n },
      { ...pv(day(n), n, "10:03:00"), client: null, session: null },
    ];
    await loadInputs(engine, { ga4: [1, 2, 3, 4, 5, 6].flatMap(eventsOf) });
    const project = await compiledProject({ reprocess_days: "1", lookback_days: "3" }, []);
    const consumers = ["funnel_event_occurrences", "int_transactions_deduplicated", "amount_quarantine", "ml_journeys", "dq_consent_mode_events", "dq_duplicate_events", "dq_missing_timestamps"];
    const extracts = [`${INTERMEDIATE}.int_step_events`, `${INTERMEDIATE}.int_ga4_purchases`, `${STAGING}.stg_ga4_event_issues`];
    const sel = { actions: consumers, includeDependencies: true };
    const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-extract-partition-set"));
    assertRunSucceeded(await runGraph({ graph: project.graph, engine, settings: project.settings, artifacts, selection: sel }));
    // The models' partitioning, and the imported GA4 export's one table by _TABLE_SUFFIX day (as the engine's estimate).
    const partitionColumnOf = withGa4Shards((schema: string, table: string): string | undefined =>
      partitionColumnOfSpec(project.graph.actions.find((a) => a.target.schema === schema && a.target.name === table)?.partitionBy));
    const statementsRead = new Map<string, StatementRead[]>();
    const recording = afterExecute(engine, async (statements, opts) => {
      if (opts?.action && extracts.includes(opts.action)) statementsRead.set(opts.action, await statementReads(engine, statements, opts.action, partitionColumnOf));
    });
    const E = `${STAGING}.stg_ga4_events`;
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => iso(a + i));
    for (const n of [7, 8, 9]) {
      await loadGa4(engine, eventsOf(n), "append");
      statementsRead.clear();
      assertRunSucceeded(await runGraph({ graph: project.graph, engine: recording, settings: project.settings, artifacts, selection: sel }));
      // Every consumer's query (tables: the SELECT; assertions: the rows they list) reads no staged event.
      for (const c of consumers) {
        const action = project.graph.actions.find((a) => a.target.name === c)!;
        const reads = await statementReads(engine, [action.query!], action.name, partitionColumnOf);
        assert.ok(reads.length > 0, `${c} reads something`);
        assert.deepEqual(reads.filter(([, table]) => table === E), [], `day ${n}: ${c} reads stg_ga4_events`);
      }
      for (const x of extracts) {
        // (The INSERT may scan stg_ga4_events' window more than once: stg_ga4_event_issues adds its day markers.)
        const seen = statementsRead.get(x)!;
        const count = (kind: string) => seen.filter(([k]) => k === kind).length;
        assert.ok(count("INSERT") >= 1 && count("check") >= 1, `day ${n}: ${x} inserts and checks`);
        assert.deepEqual(seen, [
          ["DECLARE", x, range(n - 4, n)],
          ["DELETE", x, range(n - 1, n)],
          ...Array.from({ length: count("INSERT") }, () => ["INSERT", E, range(n - 1, n)]),
          ...Array.from({ length: count("check") }, () => ["check", x, range(n - 1, n)]),
        ], `day ${n}: ${x}`);
      }
    }
    // What the extracts hold: one step event per day and transaction; the dq assertions still list every day's findings.
    const count = async (sql: string) => Number((await engine.queryNative(sql))[0]!.n);
    assert.equal(await count(`SELECT COUNT(*) AS n FROM "${INTERMEDIATE}"."int_step_events" WHERE step = 'view_item'`), 8);
    assert.equal(await count(`SELECT COUNT(DISTINCT transaction_id) AS n FROM "${INTERMEDIATE}"."int_transactions_deduplicated"`), 8);
    const dq = (name: string) => project.graph.actions.find((a) => a.target.name === name)!.query!;
    assert.equal(await count(`SELECT COUNT(*) AS n FROM (${engine.translate(dq("dq_duplicate_events"), "dq")})`), 8);
    assert.equal(await count(`SELECT COUNT(*) AS n FROM (${engine.translate(dq("dq_consent_mode_events"), "dq")})`), 8);
  });

  it("keeps stg_ga4_event_issues' window as short as staging's on a property without findings (regression: it re-read from the first-run start)", async () => {
    // Days 01-01…01-06 without a re-delivered, cookieless or timeless event; reprocess_days 1, lookback_days 3: the
    // first run stages 01-02…01-06; with 01-07 staging re-stages 01-06 and 01-07, and so must the extract (not 01-03 on).
    const day = (n: number) => `202401${String(n).padStart(2, "0")}`;
    await loadInputs(engine, { ga4: [1, 2, 3, 4, 5, 6].map((n) => pv(day(n), n)) });
    const project = await compiledProject({ reprocess_days: "1", lookback_days: "3" }, []);
    const sel = { actions: ["dq_duplicate_events"], includeDependencies: true };
    const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), "fc-extract-no-findings"));
    assertRunSucceeded(await runGraph({ graph: project.graph, engine, settings: project.settings, artifacts, selection: sel }));
    await loadGa4(engine, [pv(day(7), 7)], "append");
    const issues = `${STAGING}.stg_ga4_event_issues`;
    let seen: StatementRead[] = [];
    // The models' partitioning, and the imported GA4 export's one table by _TABLE_SUFFIX day (as the engine's estimate).
    const partitionColumnOf = withGa4Shards((schema: string, table: string): string | undefined =>
      partitionColumnOfSpec(project.graph.actions.find((a) => a.target.schema === schema && a.target.name === table)?.partitionBy));
    const recording = afterExecute(engine, async (statements, opts) => {
      if (opts?.action === issues) seen = await statementReads(engine, statements, opts.action, partitionColumnOf);
    });
    assertRunSucceeded(await runGraph({ graph: project.graph, engine: recording, settings: project.settings, artifacts, selection: sel }));
    const inserts = seen.filter(([kind]) => kind === "INSERT");
    assert.ok(inserts.length >= 1);
    assert.deepEqual(inserts, inserts.map(() => ["INSERT", `${STAGING}.stg_ga4_events`, ["2024-01-06", "2024-01-07"]]));
    // The dq assertions list nothing: the day markers are no findings.
    const dq = project.graph.actions.find((a) => a.target.name === "dq_missing_timestamps")!.query!;
    assert.equal(Number((await engine.queryNative(`SELECT COUNT(*) AS n FROM (${engine.translate(dq, "dq")})`))[0]!.n), 0);
  });

  it("reads and rewrites only the partitions of its window on each of three daily runs (partition-set test)", async () => {
    // reprocess_days 1, lookback_days 3 (first-run start = newest GA4 day − 4). Days 01-02…01-06 staged by a first
    // run, then 01-07, 01-08, 01-09 arrive one per run.
    // stg_ga4_events re-reads the last staged daily day and the new one: window = last daily day − 1 + 1.
    // stg_ga4_sessions rebuilds from (newest session day with daily events − reprocess_days − 2) and reads the staged
    // events of one day before that (sessions cross midnight; event_date is the property's day).
    const day = (n: number) => `202401${String(n).padStart(2, "0")}`;
    const iso = (n: number) => `2024-01-${String(n).padStart(2, "0")}`;
    await loadInputs(engine, { ga4: [1, 2, 3, 4, 5, 6].map((n) => pv(day(n), n)) });
    const project = await compiledProject({ reprocess_days: "1", lookback_days: "3" }, []);
    const sel = { actions: ["stg_ga4_sessions"], includeDependencies: true };
    assertRunSucceeded(await runProject(project, engine, { selection: sel }));

    const events = `${STAGING}.stg_ga4_events`;
    const sessions = `${STAGING}.stg_ga4_sessions`;
    /** What each statement of the two actions read (table, days), worked out right after the action ran. */
    const statementsRead = new Map<string, StatementRead[]>();
    // The models' partitioning, and the imported GA4 export's one table by _TABLE_SUFFIX day (as the engine's estimate).
    const partitionColumnOf = withGa4Shards((schema: string, table: string): string | undefined =>
      partitionColumnOfSpec(project.graph.actions.find((a) => a.target.schema === schema && a.target.name === table)?.partitionBy));
    /** Each action's script variables, read from the connection right after the action ran (DuckDB runs one at a time). */
    const windows = new Map<string, { first_table_suffix?: string; partition_window_start?: string }>();
    const recording = afterExecute(engine, async (statements, opts) => {
      if (opts?.action === events || opts?.action === sessions) {
        const [row] = await engine.queryNative("SELECT CAST(getvariable('first_table_suffix') AS VARCHAR) AS f, CAST(getvariable('partition_window_start') AS VARCHAR) AS w");
        windows.set(opts.action, { first_table_suffix: row?.f == null ? undefined : String(row.f), partition_window_start: row?.w == null ? undefined : String(row.w) });
        statementsRead.set(opts.action, await statementReads(engine, statements, opts.action, partitionColumnOf));
      }
    });
    const seen: unknown[] = [];
    const statementsSeen: unknown[] = [];
    for (const n of [7, 8, 9]) {
      await loadGa4(engine, [pv(day(n), n)], "append");
      windows.clear();
      const run = await runGraph({ graph: project.graph, engine: recording, settings: project.settings, artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "fc-partition-set")), selection: sel });
      assertRunSucceeded(run);
      const ev = windows.get(events)!;
      const se = windows.get(sessions)!;
      const sessionsFrom = se.partition_window_start!;
      const dayBefore = new Date(Date.parse(sessionsFrom + "T00:00:00Z") - 86_400_000).toISOString().slice(0, 10);
      seen.push({
        day: n,
        stg_ga4_events: { reads: await ga4DayTables(engine, "ga4_export", ev.first_table_suffix!), rewrites: await partitionDays(engine, `${STAGING}.stg_ga4_events`, "event_date", ev.partition_window_start!) },
        stg_ga4_sessions: { reads: await partitionDays(engine, `${STAGING}.stg_ga4_events`, "event_date", dayBefore), rewrites: await partitionDays(engine, `${STAGING}.stg_ga4_sessions`, "session_date", sessionsFrom) },
      });
      statementsSeen.push({ events: statementsRead.get(events), sessions: statementsRead.get(sessions) });
    }
    const range = (a: number, b: number, f: (n: number) => string) => Array.from({ length: b - a + 1 }, (_, i) => f(a + i));
    assert.deepEqual(seen, [7, 8, 9].map((n) => ({
      day: n,
      stg_ga4_events: { reads: [`events_${day(n - 1)}`, `events_${day(n)}`], rewrites: [iso(n - 1), iso(n)] },
      stg_ga4_sessions: { reads: range(n - 5, n, iso), rewrites: range(n - 4, n, iso) },
    })));
    // Statement by statement (the estimator's reading of each, right after it ran): stg_ga4_events finds its window
    // start in the partitions from the first-run start on (n − 4), not in the whole history; stg_ga4_sessions' from two
    // days before it on (n − 6; the first run staged days 2…6, so day 2 drops out on day 9); everything else reads the
    // window's partitions, the checks included.
    const E = `${STAGING}.stg_ga4_events`;
    const S = `${STAGING}.stg_ga4_sessions`;
    assert.deepEqual(statementsSeen, [7, 8, 9].map((n) => ({
      events: [
        ["DECLARE", E, range(n - 4, n, iso)],
        ["DELETE", E, [iso(n - 1), iso(n)]],
        // The imported export is one table (ga4_events), read for the window's days only, as BigQuery reads 2 day tables.
        ["INSERT", "ga4_export.ga4_events", [day(n - 1), day(n)]],
        ["check", E, [iso(n - 1), iso(n)]],
      ],
      sessions: [
        ["DECLARE", S, range(Math.max(2, n - 6), n, iso)],
        ["DELETE", S, range(n - 4, n, iso)],
        ["INSERT", E, range(n - 5, n, iso)],
        ["check", S, range(n - 4, n, iso)],
        ["check", S, range(n - 4, n, iso)],
      ],
    })));
  });

  it("rebuilds int_sessions_unioned's GA4 sessions on staging's days and every CRM and custom session (partition-set test)", async () => {
    // reprocess_days 1: GA4 days 01-02…01-06 and CRM / custom sessions on 01-01 and 01-03 built by a first run, then 01-07.
    const day = (n: number) => `202401${String(n).padStart(2, "0")}`;
    const iso = (n: number) => `2024-01-${String(n).padStart(2, "0")}`;
    await loadInputs(engine, {
      ga4: [2, 3, 4, 5, 6].map((n) => pv(day(n), n)),
      crm: [["T1", "U1", null, "2024-01-01 09:00:00", "completed", 10, null]],
      custom: [custom("webinar", "2024-01-03 15:00:00", "U2", null)],
    });
    const project = await compiledProject({ reprocess_days: "1", lookback_days: "3" }, []);
    const sel = { actions: ["int_sessions_unioned"], includeDependencies: true };
    assertRunSucceeded(await runProject(project, engine, { selection: sel }));
    const unioned = `${INTERMEDIATE}.int_sessions_unioned`;
    const partitionColumnOf = withGa4Shards((schema: string, table: string): string | undefined =>
      partitionColumnOfSpec(project.graph.actions.find((a) => a.target.schema === schema && a.target.name === table)?.partitionBy));
    let reads: StatementRead[] = [];
    const recording = afterExecute(engine, async (statements, opts) => {
      if (opts?.action === unioned) reads = await statementReads(engine, statements, opts.action, partitionColumnOf);
    });
    await loadGa4(engine, [pv(day(7), 7)], "append");
    const run = await runGraph({ graph: project.graph, engine: recording, settings: project.settings, artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "fc-partition-set")), selection: sel });
    assertRunSucceeded(run);
    assert.equal(run.actions.find((a) => a.action === unioned)?.kind, "incremental");
    // Its window: its own newest GA4 session with daily events (01-06) − reprocess_days − 2 = 01-03, as stg_ga4_sessions',
    // looked for from the first-run start − 2 days on (01-07 − lookback 3 − reprocess 1 − 2 = 01-01). The days are those
    // the statements select in the table as the run left it (01-07 included).
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => iso(a + i));
    assert.deepEqual(reads.filter(([, table]) => table === unioned || table === `${STAGING}.stg_ga4_sessions`), [
      ["DECLARE", unioned, range(1, 7)],
      ["DELETE", unioned, range(3, 7)],
      // Every CRM and custom session goes, whatever its day: the source_system column of every partition.
      ["DELETE", unioned, "all"],
      ["INSERT", `${STAGING}.stg_ga4_sessions`, range(3, 7)],
    ]);
    const rows = await engine.queryNative(`SELECT source_system, CAST(session_date AS VARCHAR) AS d FROM "${INTERMEDIATE}"."int_sessions_unioned" ORDER BY 2, 1`);
    assert.deepEqual(rows.map((r) => `${r.source_system} ${r.d}`), ["crm 2024-01-01", "ga4 2024-01-02", "custom 2024-01-03", "ga4 2024-01-03", ...range(4, 7).map((d) => `ga4 ${d}`)]);
  });

  it("builds int_sessions_unioned whole once over a table an earlier version built whole every run (an upgrade), then incrementally", async () => {
    const day = (n: number) => `202401${String(n).padStart(2, "0")}`;
    await loadInputs(engine, { ga4: [2, 3, 4].map((n) => pv(day(n), n)), crm: [["T1", "U1", null, "2024-01-01 09:00:00", "completed", 10, null]] });
    const project = await compiledProject({ reprocess_days: "1" }, []);
    const sel = { actions: ["int_sessions_unioned"], includeDependencies: true };
    assertRunSucceeded(await runProject(project, engine, { selection: sel }));
    const unioned = `${INTERMEDIATE}.int_sessions_unioned`;
    // The warehouse as the version before left it: a plain table without has_daily_events, its runs recorded as tables,
    // no definition recorded.
    const asBefore = async (kind: string): Promise<void> => {
      await engine.runNative(`ALTER TABLE "${INTERMEDIATE}"."int_sessions_unioned" DROP COLUMN IF EXISTS has_daily_events`);
      await engine.runNative(`DELETE FROM "${META}"."incremental_definitions" WHERE action = '${unioned}'`);
      await engine.runNative(`UPDATE "${META}"."run_history" SET action_kind = '${kind}' WHERE action = '${unioned}'`);
    };
    const statementsOf = async (): Promise<string> => {
      let seen = "";
      const recording = afterExecute(engine, async (statements, opts) => { if (opts?.action === unioned) seen = statements.join("\n"); });
      assertRunSucceeded(await runGraph({ graph: project.graph, engine: recording, settings: project.settings, artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "fc-upgrade")), selection: sel }));
      return seen;
    };
    await asBefore("table");
    await loadGa4(engine, [pv(day(5), 5)], "append");
    const upgrade = await statementsOf();
    assert.match(upgrade, /CREATE OR REPLACE TABLE/, "built whole");
    assert.doesNotMatch(upgrade, /DELETE FROM/);
    assert.deepEqual((await engine.queryNative(`SELECT how FROM "${META}"."incremental_definitions" WHERE action = '${unioned}'`)).map((r) => r.how), ["full_refresh"]);
    assert.equal(Number((await engine.queryNative(`SELECT COUNT(*) AS n FROM "${INTERMEDIATE}"."int_sessions_unioned" WHERE has_daily_events`))[0]!.n), 4);
    // Then daily runs are incremental; and a table whose last run was incremental is never rebuilt whole by this rule.
    await loadGa4(engine, [pv(day(6), 6)], "append");
    assert.match(await statementsOf(), /DELETE FROM/);
    await engine.runNative(`DELETE FROM "${META}"."incremental_definitions" WHERE action = '${unioned}'`);
    assert.match(await statementsOf(), /DELETE FROM/, "nothing recorded, but built incrementally last: incremental");
  });
});
