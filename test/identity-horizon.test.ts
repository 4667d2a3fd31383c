/**
 * The identity horizon (vars.identity_horizon_days, issue #14): what it means (a login re-keys only its client's
 * sessions that started at most H days before it), checked on hand-made sessions and, on the demo sample, against an
 * independent formulation (an ASOF join of each session with its client's logins); and that with a horizon
 * `int_session_identity` is incremental and exact: daily runs (late events, a failed run re-run, a custom event changed
 * on an old day) end in the full refresh's identity and sessions, each run reading int_sessions_unioned only from H
 * days before the first changed day and its own kept days only between two window starts (the carried-forward
 * logins); a horizon switched off and on again; and the same SQL on the strict local BigQuery.
 */
import assert from "node:assert/strict";
import { canonicalRows } from "./support/canonical.ts";
import { compiledProject, failingAt, holdBackLastDays, memoryEngine, runProject, rowsOf, assertRunSucceeded } from "./support/warehouse.ts";
import { DuckDBEngine, duckIdent } from "../src/engines/duckdb/engine.ts";
import type { Engine } from "../src/engines/engine.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import type { Project } from "../src/compile/project.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import { loadInputs, INTERMEDIATE, type Ga4Event } from "./fixtures/warehouse/builders.ts";
import { afterExecute, partitionDays, statementReads, type StatementRead } from "./support/partition-reads.ts";
import { partitionColumnOfSpec } from "../src/engines/duckdb/scan-bytes.ts";
import { STRICT_PROJECT, runDemoSampleOnBothEngines } from "./support/both-engines.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import os from "node:os";
import path from "node:path";

const pv = (day: string, client: string, session: number, more: Partial<Ga4Event> = {}): Ga4Event =>
  ({ day, time: "10:00:00", name: "page_view", client, session, ...more });
const IDENTITY = { actions: ["sessions"], includeDependencies: true };

describe("identity horizon: a login re-keys only the sessions of its last H days (DuckDB; the strict local BigQuery)", function () {
  this.timeout(600_000);

  it("gives a session the user id of its client's last login at most H days after it; without a horizon, the client's last", async () => {
    const ga4: Ga4Event[] = [
      pv("20240101", "C", 1),                        // the login at exactly +1 day (C:2) is inside H = 1 → U1
      pv("20240102", "C", 2, { user: "U1" }),        // U2 logs in 3 days later: outside → U1
      pv("20240103", "C", 5),                        // +2 days to U2: outside; U1 before it → U1
      pv("20240105", "C", 3, { user: "U2" }),
      pv("20240105", "C", 6, { time: "09:00:00" }),  // one hour before U2's login → U2
      pv("20240106", "C", 4),                        // after the last login → U2 (as without a horizon)
      pv("20240103", "D", 7),                        // D never logs in → c:D
      pv("20240104", "E", 8, { user: "U3" }),        // two logins at one moment: the greater session key's (E:9) wins
      pv("20240104", "E", 9, { user: "U4" }),
    ];
    const chains = async (horizon: string): Promise<Record<string, unknown>> => {
      const engine = await memoryEngine();
      try {
        await loadInputs(engine, { ga4 });
        assertRunSucceeded(await runProject(await compiledProject({ identity_horizon_days: horizon }, []), engine, { selection: IDENTITY }));
        const rows = await rowsOf(engine, INTERMEDIATE, "sessions", "session_key");
        return Object.fromEntries(rows.map((r) => [r.session_key, r.chain_key]));
      } finally {
        await engine.close();
      }
    };
    assert.deepEqual(await chains("1"), {
      "ga4:C:1": "u:U1", "ga4:C:2": "u:U1", "ga4:C:5": "u:U1", "ga4:C:3": "u:U2", "ga4:C:6": "u:U2", "ga4:C:4": "u:U2",
      "ga4:D:7": "c:D", "ga4:E:8": "u:U4", "ga4:E:9": "u:U4",
    });
    assert.deepEqual(await chains("none"), {
      "ga4:C:1": "u:U2", "ga4:C:2": "u:U2", "ga4:C:5": "u:U2", "ga4:C:3": "u:U2", "ga4:C:6": "u:U2", "ga4:C:4": "u:U2",
      "ga4:D:7": "c:D", "ga4:E:8": "u:U4", "ga4:E:9": "u:U4",
    });
  });

  it("names the setting when it is neither \"none\" nor a whole number of days", async () => {
    await assert.rejects(compiledProject({ identity_horizon_days: "90d" }, []), /identity_horizon_days.*"none" or a whole number/s);
  });

  describe("on the demo sample", () => {
    const DEMO = { users: 1500, days: 12, seed: 5, intradayDays: 0 };
    const H = 2;
    let project: Project;
    const ds = () => project.settings.datasets;
    const demoWarehouse = async (): Promise<DuckDBEngine> => {
      const e = await memoryEngine();
      await generateDemo(e.localLoading, { ...DEMO, ga4Schema: ds().ga4, sourcesSchema: ds().sources });
      await ensureSourceTables(e, project.settings);
      return e;
    };
    before(async () => {
      project = await compiledProject({ identity_horizon_days: String(H), reprocess_days: "2" }, []);
    });
    const run = (e: Engine, p: Project, runId: string, fullRefresh = false): Promise<RunRecord> =>
      runProject(p, e as DuckDBEngine, { selection: IDENTITY, runId, fullRefresh });

    it("resolves every session as an ASOF join of the session (+ H days) with its client's logins does; H = 3650 as none", async () => {
      const e = await demoWarehouse();
      try {
        const identity = `${duckIdent(ds().intermediate)}.int_session_identity`;
        const resolved = async (p: Project): Promise<string[]> => {
          assertRunSucceeded(await run(e, p, `r${Math.random()}`, true));
          return (await e.queryNative(`SELECT session_key || ' ' || COALESCE(user_id, '-') AS r FROM ${identity} ORDER BY 1`)).map((r) => String(r.r));
        };
        const none = await resolved(await compiledProject({ identity_horizon_days: "none" }, []));
        assert.deepEqual(await resolved(await compiledProject({ identity_horizon_days: "3650" }, [])), none);
        const bounded = await resolved(project);
        // The independent formulation, over the rows the model just built: a trusted login is a session whose own user
        // id was trusted (the day-local rule, tested in warehouse-identity); of several at one moment the greatest key.
        const asof = (await e.queryNative(`
          WITH logins AS (
            SELECT client_id, session_start_at AS login_at, arg_max(session_user_id, session_key) AS login_user
            FROM ${identity} WHERE client_id IS NOT NULL AND session_user_id IS NOT NULL AND NOT is_user_id_distrusted
            GROUP BY ALL),
          s AS (SELECT session_key, client_id, session_start_at + INTERVAL ${H} DAY AS reach,
                  IF(is_user_id_distrusted, NULL, session_user_id) AS own FROM ${identity})
          SELECT s.session_key || ' ' || COALESCE(l.login_user, s.own, '-') AS r
          FROM s ASOF LEFT JOIN logins AS l ON s.client_id = l.client_id AND s.reach >= l.login_at
          ORDER BY 1`)).map((r) => String(r.r));
        assert.deepEqual(bounded, asof);
        const moved = bounded.filter((r, i) => r !== none[i]).length;
        assert.ok(moved > 50, `the horizon moves sessions on this sample (${moved})`);
      } finally {
        await e.close();
      }
    });

    it("rebuilds the table whole when it was last built under another horizon (switched on, off and on again)", async () => {
      const e = await demoWarehouse();
      try {
        const identity = `${duckIdent(ds().intermediate)}.int_session_identity`;
        const rows = async (): Promise<string[]> => canonicalRows(await e.queryNative(`SELECT * FROM ${identity}`));
        const none = await compiledProject({ identity_horizon_days: "none", reprocess_days: "2" }, []);
        assertRunSucceeded(await run(e, none, "none0"));
        // Switched on over a table built without it: nothing recorded for the incremental form and the run history
        // shows a plain table, so the run builds it whole (the upgrade rule, src/runner/definitions.ts); the copy's
        // marker (built without a horizon) would have the incremental form rebuild it whole as well.
        const on = await run(e, project, "h1");
        assertRunSucceeded(on);
        const switchedOn = await rows();
        assertRunSucceeded(await run(e, project, "h1_full", true));
        assert.deepEqual(switchedOn, await rows(), "switched on: the full refresh's table");
        assertRunSucceeded(await run(e, none, "none"));
        const built = await rows();
        // The same definition as the one recorded by h1, over a table the run without a horizon rebuilt: its days
        // before the window hold the other rule's users unless the whole table is rebuilt.
        const again = await run(e, project, "h2");
        assertRunSucceeded(again);
        assert.equal(again.actions.find((a) => a.action === `${ds().intermediate}.int_session_identity`)?.kind, "incremental");
        const incremental = await rows();
        assert.notDeepEqual(incremental, built, "the horizon moves users on this sample");
        assertRunSucceeded(await run(e, project, "full", true));
        assert.deepEqual(incremental, await rows());
      } finally {
        await e.close();
      }
    });

    it("daily runs (late events, a custom event changed on an old day) end in the full refresh's identity, reading from H days before the first changed day", async () => {
      const daily = await demoWarehouse();
      const full = await demoWarehouse();
      try {
        const { days, held: [d1, d2, d3], arrive } = await holdBackLastDays(daily, ds().ga4);

        const identityAction = `${ds().intermediate}.int_session_identity`;
        const unioned = `${ds().intermediate}.int_sessions_unioned`;
        const partitionColumnOf = (schema: string, table: string): string | undefined =>
          partitionColumnOfSpec(project.graph.actions.find((a) => a.target.schema === schema && a.target.name === table)?.partitionBy);
        const reads = new Map<string, StatementRead[]>();
        const recording = (runId: string): Engine => afterExecute(daily, async (statements, opts) => {
          if (opts?.action === identityAction) reads.set(runId, await statementReads(daily, statements, identityAction, partitionColumnOf));
        });
        const unionedDays = (from: string): Promise<string[]> => partitionDays(daily, unioned, "session_date", from);
        const day = (d: string, minus: number): string => new Date(Date.UTC(+d.slice(7, 11), +d.slice(11, 13) - 1, +d.slice(13, 15) - minus)).toISOString().slice(0, 10);
        /**
         * The days of int_sessions_unioned the run read: once, by its INSERT (the rebuilt days' sessions); the window is
         * found from the table's own GA4 copies and the small int_offline_sessions, not from int_sessions_unioned.
         */
        const insertReads = (runId: string): string[] | "all" => {
          const seen = reads.get(runId)!.filter(([, table]) => table === unioned);
          assert.deepEqual(seen.map(([kind]) => kind), ["INSERT"], `${runId}: one read of int_sessions_unioned, by the INSERT`);
          return seen[0]![2];
        };

        assertRunSucceeded(await run(daily, project, "day0"));
        // d1's late events and d2 arrive: sessions change from d1 − 1 on (a late event's session may start the day
        // before); staging re-stages from its newest day − reprocess_days, so identity reads from there − H.
        await arrive(d1);
        await arrive(d2);
        // The first attempt fails after int_session_identity succeeded (at sessions); the re-run starts from its state.
        const failed = await run(failingAt(recording("day1_failed"), `${ds().intermediate}.sessions`), project, "day1_failed");
        assert.ok(failed.actions.some((a) => a.status === "failed" && /injected failure/.test(String(a.error))), "the injected failure failed the run");
        assert.equal(failed.actions.find((a) => a.action === identityAction)?.status, "succeeded");
        const day1 = await run(recording("day1"), project, "day1");
        assertRunSucceeded(day1);
        assert.equal(day1.actions.find((a) => a.action === identityAction)?.kind, "incremental");
        const day1Reads = insertReads("day1_failed");
        assert.ok(day1Reads !== "all" && day1Reads[0]! <= day(d1, 1 + H) && day1Reads[0]! > day(days[0]!, 0),
          `day1 reads from H days before the re-staged days, not the whole table: ${JSON.stringify(day1Reads)}`);
        assert.deepEqual(day1Reads, await unionedDays(day1Reads[0]!));

        // d3 arrives, and a custom event of the sample's third day gets another client id: the window moves back to it.
        const oldDay = day(days[2]!, 0);
        const changed = await daily.queryNative(`SELECT COUNT(*) AS n FROM ${duckIdent(ds().sources)}.custom_events WHERE TRY_CAST(time AS DATE) = DATE '${oldDay}' AND client_id IS NOT NULL`);
        assert.ok(Number(changed[0]!.n) > 0, `the sample has custom events on ${oldDay}`);
        for (const e of [daily, full]) {
          await e.runNative(`UPDATE ${duckIdent(ds().sources)}.custom_events SET client_id = client_id || 'x' WHERE TRY_CAST(time AS DATE) = DATE '${oldDay}'`);
        }
        await arrive(d3);
        assertRunSucceeded(await run(recording("day2"), project, "day2"));
        const day2Reads = insertReads("day2");
        assert.deepEqual(day2Reads, await unionedDays(day(days[2]!, H)), "day2 reads from H days before the changed custom session");
        // Runs with nothing new read only what staging re-stages (− H), and change nothing.
        assertRunSucceeded(await run(recording("day3"), project, "day3"));
        assert.ok(insertReads("day3")[0]! > oldDay);
        assertRunSucceeded(await run(recording("day4"), project, "day4"));

        // The carried-forward logins: each run reads int_session_identity's kept days only from the window start of the
        // run that wrote the state (after the whole first build: from the first day), when its own starts later; from
        // the first day when its own starts earlier (day2's old custom event).
        const windowStart = (runId: string): string => {
          const deleted = reads.get(runId)!.find(([kind, table]) => kind === "DELETE" && table === identityAction)![2];
          assert.ok(deleted !== "all" && deleted.length > 0, `${runId} deletes its window`);
          return deleted[0]!;
        };
        const identityDaysBetween = (from: string, to: string): Promise<string[]> => partitionDays(daily, identityAction, "session_date", from, to);
        let stateFrom = "1900-01-01";
        for (const runId of ["day1_failed", "day1", "day2", "day3", "day4"]) {
          const start = windowStart(runId);
          const from = stateFrom <= start ? stateFrom : "1900-01-01";
          // Both INSERTs (the rebuilt rows, then the new state) read them; an empty range is no read at all.
          const kept = reads.get(runId)!.filter(([kind, table, days]) => kind === "INSERT" && table === identityAction && days.length).map(([, , days]) => days);
          const want = await identityDaysBetween(from, start);
          assert.deepEqual(kept, want.length ? [want, want] : [], `${runId}: the kept days read (its window starts ${start})`);
          stateFrom = start;
        }
        assert.ok(windowStart("day3") > windowStart("day2") && windowStart("day4") === windowStart("day3"), "day3 reads a few days, day4 none");

        assertRunSucceeded(await run(full, project, "full", true));
        for (const t of ["int_sessions_unioned", "int_session_identity", "sessions"]) {
          const rows = (e: DuckDBEngine) => e.queryNative(`SELECT * FROM ${duckIdent(ds().intermediate)}.${duckIdent(t)}`);
          const [want, have] = [canonicalRows(await rows(full)), canonicalRows(await rows(daily))];
          assert.ok(want.length > 1000, `${t} has rows`);
          assert.deepEqual(have, want, `${t}: the daily runs' rows equal the full refresh's`);
        }
      } finally {
        await daily.close();
        await full.close();
      }
    });
  });

  it("runs on the strict local BigQuery: a full refresh and an incremental run give DuckDB's identity", async () => {
    const project = await compiledProject({ identity_horizon_days: "2" }, []);
    const ds = project.settings.datasets;
    const engine = await memoryEngine();
    const bq = await runDemoSampleOnBothEngines(engine, project, ["sessions"]);
    try {
      const want = canonicalRows(await engine.queryNative(`SELECT * FROM "${ds.intermediate}".int_session_identity`));
      assert.ok(want.length > 500, `${want.length} sessions`);
      const table = `${STRICT_PROJECT}.${ds.intermediate}.int_session_identity`;
      assert.deepEqual(canonicalRows(await bq.rows(table)), want, "full refresh");
      // The incremental form, twice: its window from the table itself and the offline sessions' copy, the last logins
      // before it from the table's kept days (after the whole build), then from the carried-forward state.
      for (const n of [1, 2]) {
        const again = await runGraph({ graph: project.graph, engine: bq.engine(), settings: project.settings,
          artifacts: new LocalArtifactStore(path.join(os.tmpdir(), "fc-demo-both-engines")), now: () => new Date("2026-06-01T00:00:00Z"),
          selection: { actions: ["int_session_identity"] } });
        assertRunSucceeded(again);
        assert.equal(again.actions.find((a) => a.action === `${ds.intermediate}.int_session_identity`)?.kind, "incremental");
        assert.deepEqual(canonicalRows(await bq.rows(table)), want, `incremental run ${n}`);
      }
      const state = await bq.rows(`${STRICT_PROJECT}.${ds.intermediate}.int_session_identity_client_logins`);
      assert.ok(state.some((r) => r.client_id === null) && new Set(state.map((r) => String(r.as_of))).size === 1, "one generation, with its marker");
    } finally {
      await bq.close();
      await engine.close();
    }
  });
});
