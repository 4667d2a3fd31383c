/**
 * lead_web_behaviour is incremental by cut-off day (issue #14): a daily run rebuilds the leads whose rows were not final
 * and those new, changed or gone in the leads source, reading sessions, events, funnel steps and custom events only
 * from its window's first day − lead_behaviour_lookback_days on; the sequence ends in the tables one full refresh builds.
 * On the demo sample (GA4 days arriving one by one), with a short lookback so the pruning shows.
 */
import { strict as assert } from "node:assert";
import { canonicalRows } from "./support/canonical.ts";
import { compiledProject, memoryEngine, runProject, assertRunSucceeded, ga4DayTables } from "./support/warehouse.ts";
import { afterExecute, statementReads, type StatementRead } from "./support/partition-reads.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { duckIdent, type DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { partitionColumnOfSpec } from "../src/engines/duckdb/scan-bytes.ts";
import { runGraph } from "../src/runner/runner.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { TEST_ARTIFACTS_DIR } from "./support/warehouse.ts";
import type { Project } from "../src/compile/project.ts";
import type { Engine } from "../src/engines/engine.ts";

const DEMO = { users: 1200, days: 14, seed: 11, intradayDays: 0 };
const VARS = { lead_behaviour_lookback_days: "3", reprocess_days: "1" };
const SELECTION = { actions: ["lead_features"], includeDependencies: true };

describe("lead_web_behaviour: incremental by cut-off day, equal to a full refresh", function () {
  this.timeout(600_000);
  let project: Project;
  let daily: DuckDBEngine;
  let full: DuckDBEngine;
  const ds = () => project.settings.datasets;
  const leads = () => `${duckIdent(ds().sources)}.leads`;
  const behaviour = () => `${duckIdent(ds().intermediate)}.lead_web_behaviour`;

  before(async () => {
    project = await compiledProject(VARS);
    daily = await memoryEngine();
    full = await memoryEngine();
    for (const e of [daily, full]) {
      await generateDemo(e.localLoading, { ...DEMO, ga4Schema: ds().ga4, sourcesSchema: ds().sources });
      await ensureSourceTables(e, project.settings);
    }
  });
  after(async () => {
    await daily?.close();
    await full?.close();
  });

  it("rebuilds only non-final, new, changed and gone leads, reads only its window's days, and ends as a full refresh", async () => {
    const ga4 = duckIdent(ds().ga4);
    const days = await ga4DayTables(daily, ds().ga4);
    const [d1, d2] = days.slice(-2) as [string, string];
    for (const d of [d1, d2]) await daily.runNative(`ALTER TABLE ${ga4}.${duckIdent(d)} RENAME TO ${duckIdent(`held_${d}`)}`);
    assertRunSucceeded(await runProject(project, daily, { selection: SELECTION, runId: "first" }));

    // The first run leaves final rows (cut-off before the days a later run re-stages) and rows that are not.
    const finality = await daily.queryNative(`SELECT is_final, COUNT(*) AS n, MIN(cutoff_date)::VARCHAR AS first, MAX(cutoff_date)::VARCHAR AS last FROM ${behaviour()} GROUP BY ALL ORDER BY 1`);
    assert.equal(finality.length, 2, JSON.stringify(finality));
    const notFinalFrom = String(finality.find((r) => r.is_final === false)!.first);
    assert.ok(String(finality.find((r) => r.is_final === true)!.last) <= notFinalFrom, JSON.stringify(finality));

    // Final leads on three distinct days before the first row not final, each edited in a run of its own.
    const old = await daily.queryNative(`SELECT lead_id, user_id, client_id, created_at::VARCHAR AS created_at, cutoff_date::VARCHAR AS day
      FROM ${leads()} JOIN ${behaviour()} USING (lead_id)
      WHERE is_final AND user_id IS NOT NULL AND client_id IS NOT NULL AND cutoff_date < DATE '${notFinalFrom}'
      QUALIFY row_number() OVER (PARTITION BY cutoff_date ORDER BY lead_id) = 1
      ORDER BY cutoff_date DESC LIMIT 3`);
    assert.equal(old.length, 3, JSON.stringify(old));
    // Each edit is the only change of its run, so the window must start at its lead's day.
    const [gone, changed, template] = old as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    const edits: [string, string, (e: DuckDBEngine) => Promise<void>][] = [
      ["a lead deleted from the CRM", String(gone.day), (e) => e.runNative(`DELETE FROM ${leads()} WHERE lead_id = '${gone.lead_id}'`)],
      ["a lead's user id changed", String(changed.day), (e) => e.runNative(`UPDATE ${leads()} SET user_id = 'changed-' || user_id WHERE lead_id = '${changed.lead_id}'`)],
      // A lead without a web identity matches no earlier row on it: only its lead_id tells it is new, or gone.
      ["a lead without a web identity imported late", String(template.day), (e) => e.runNative(`INSERT INTO ${leads()} BY NAME SELECT * REPLACE ('late-anonymous' AS lead_id, NULL AS user_id, NULL AS client_id) FROM ${leads()} WHERE lead_id = '${template.lead_id}'`)],
      ["a lead without a web identity deleted", String(template.day), (e) => e.runNative(`DELETE FROM ${leads()} WHERE lead_id = 'late-anonymous'`)],
      ["a lead imported late", String(template.day), (e) => e.runNative(`INSERT INTO ${leads()} BY NAME SELECT * REPLACE ('late-import' AS lead_id) FROM ${leads()} WHERE lead_id = '${template.lead_id}'`)],
    ];

    const partitionColumnOf = (schema: string, table: string): string | undefined =>
      partitionColumnOfSpec(project.graph.actions.find((a) => a.target.schema === schema && a.target.name === table)?.partitionBy);
    let reads: StatementRead[] = [];
    let windowStart = "";
    const recording: Engine = afterExecute(daily, async (statements, opts) => {
      if (opts?.action !== `${ds().intermediate}.lead_web_behaviour`) return;
      windowStart = String((await daily.queryNative(`SELECT CAST(getvariable('partition_window_start') AS VARCHAR) AS d`))[0]!.d);
      reads = await statementReads(daily, statements, opts.action, partitionColumnOf);
    });
    const incrementalRun = async (runId: string): Promise<void> => {
      const r = await runGraph({ graph: project.graph, engine: recording, settings: project.settings, artifacts: new LocalArtifactStore(TEST_ARTIFACTS_DIR), selection: SELECTION, runId });
      assertRunSucceeded(r);
      assert.equal(r.actions.find((a) => a.action === `${ds().intermediate}.lead_web_behaviour`)?.kind, "incremental");
    };

    // The next GA4 day alone: the window starts at the first row that was not final.
    await daily.runNative(`ALTER TABLE ${ga4}.${duckIdent(`held_${d1}`)} RENAME TO ${duckIdent(d1)}`);
    await incrementalRun("next-day");
    assert.equal(windowStart, notFinalFrom, "a new GA4 day: the window starts at the first row not final");

    for (const [what, day, edit] of edits) {
      await edit(daily);
      await incrementalRun(what.replace(/\W+/g, "-"));
      assert.equal(windowStart, day, `${what}: the window starts at its cut-off day`);
      // Every read of a partitioned input starts lookback days (GA4's property day: one more) before the window.
      const firstDay = (table: string): string => {
        const r = reads.find(([kind, t]) => kind === "INSERT" && t === table);
        assert.ok(r, `the INSERT reads ${table}: ${JSON.stringify(reads.map(([k, t]) => `${k} ${t}`))}`);
        assert.notEqual(r[2], "all", `${table} is pruned`);
        return (r[2] as string[])[0]!;
      };
      const from = (extra: number): string => new Date(Date.parse(`${day}T00:00:00Z`) - extra * 86_400_000).toISOString().slice(0, 10);
      assert.ok(firstDay(`${ds().intermediate}.sessions`) >= from(3), `${what}: sessions from ${firstDay(`${ds().intermediate}.sessions`)}, window ${day}`);
      assert.ok(firstDay(`${ds().staging}.stg_ga4_events`) >= from(4));
      assert.ok(firstDay(`${ds().intermediate}.funnel_event_occurrences`) >= from(3));
      // Rows before the window were kept as they were.
      assert.ok(Number((await daily.queryNative(`SELECT COUNT(*) AS n FROM ${behaviour()} WHERE cutoff_date < DATE '${day}'`))[0]!.n) > 0, `${what}: rows before the window are kept`);
    }
    const sessionsFrom = String((await daily.queryNative(`SELECT MIN(session_date)::VARCHAR AS d FROM ${duckIdent(ds().intermediate)}.sessions`))[0]!.d);
    assert.ok(sessionsFrom < new Date(Date.parse(`${template.day}T00:00:00Z`) - 3 * 86_400_000).toISOString().slice(0, 10), "the sessions reach back before the window's reads");

    // The last GA4 day, then the same data built by one full refresh: every row equal.
    await daily.runNative(`ALTER TABLE ${ga4}.${duckIdent(`held_${d2}`)} RENAME TO ${duckIdent(d2)}`);
    assertRunSucceeded(await runProject(project, daily, { selection: SELECTION, runId: "third" }));
    for (const [, , edit] of edits) await edit(full);
    assertRunSucceeded(await runProject(project, full, { selection: SELECTION, fullRefresh: true, runId: "full" }));
    for (const [t, least] of [["lead_web_behaviour", 100], ["lead_features", 100], ["lead_user_clients", 20]] as const) {
      const q = `SELECT * FROM ${duckIdent(ds().intermediate)}.${duckIdent(t)}`;
      const [a, b] = [canonicalRows(await daily.queryNative(q)), canonicalRows(await full.queryNative(q))];
      assert.ok(a.length > least, `${t}: ${a.length} rows`);
      assert.deepEqual(a, b, `${t}: the daily runs end as the full refresh`);
    }
    const rows = await daily.queryNative(`SELECT lead_id, lead_user_id FROM ${behaviour()} WHERE lead_id IN ('${changed.lead_id}', '${gone.lead_id}', 'late-import', 'late-anonymous') ORDER BY 1`);
    assert.deepEqual(rows.map((r) => String(r.lead_id)).sort(), [String(changed.lead_id), "late-import"].sort());
    assert.equal(rows.find((r) => r.lead_id === changed.lead_id)!.lead_user_id, `changed-${changed.user_id}`);
  });

  it("refuses to join features built for another cut-off: lead_features run alone after the leads changed", async () => {
    await daily.runNative(`UPDATE ${leads()} SET created_at = created_at - INTERVAL 1 HOUR WHERE lead_id = 'late-import'`);
    const run = await runProject(project, daily, { selection: { actions: ["lead_features"], includeDependencies: false }, runId: "alone" });
    const failed = run.actions.find((a) => a.action === `${ds().intermediate}.lead_features`);
    assert.equal(failed?.status, "failed");
    assert.match(String(failed?.error), /lead late-import has no row of its cut-off and identity in lead_web_behaviour.*run lead_web_behaviour first/);
    // With lead_web_behaviour first, the lead is rebuilt and lead_features builds.
    assertRunSucceeded(await runProject(project, daily, { selection: { actions: ["lead_web_behaviour", "lead_features"], includeDependencies: false }, runId: "both" }));
  });
});
