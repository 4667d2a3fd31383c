/**
 * Same-output edits of incremental models (src/runner/same-output-edits.ts): for each one, the model as it was before
 * the edit (this checkout's model file with the edit undone) and as it is build the same rows on the demo sample, as a
 * full refresh and as an incremental run over a table the old model built; and such a table is not refused as "built
 * under another definition" (definitions.ts), while a table built under a real change still is.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compiledProject, memoryEngine, assertRunSucceeded, ga4DayTables, PROJECT_DIR } from "./support/warehouse.ts";
import { copyCompilableProject } from "./support/project-copy.ts";
import { canonicalRows } from "./support/canonical.ts";
import { loadProject, type Project } from "../src/compile/project.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { runGraph } from "../src/runner/runner.ts";
import { ChangedDefinitionError, definitionFingerprint, earlierFingerprints } from "../src/runner/definitions.ts";
import { SAME_OUTPUT_EDITS, type SameOutputEdit } from "../src/runner/same-output-edits.ts";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { ensureSourceTables, tableLocation, tableSchema } from "../src/catalog/index.ts";
import type { Settings } from "../src/config/settings.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { META } from "./fixtures/warehouse/builders.ts";

const artifacts = new LocalArtifactStore(path.join(os.tmpdir(), `fc-same-output-edits-${process.pid}`));
const DEMO = { users: 400, days: 10, seed: 11, intradayDays: 1 };

/** The model file that compiles to `table`'s action (a .sqlx of that name under definitions/). */
function modelFile(project: Project, table: string): string {
  const a = project.graph.actions.find((x) => x.kind === "incremental" && x.target.name === table);
  assert.ok(a?.fileName, `no incremental model ${table}`);
  return a.fileName!;
}

/**
 * `text` (a model file) with `from` replaced by `to`: whitespace and whole-line `--` comments between its words matched
 * loosely (neither counts in a definition), `from` found exactly once. Comments elsewhere are kept: a block holding only
 * a comment (a pre-operation that is empty on a full refresh) is still a statement of the definition.
 */
function replaceSql(text: string, from: string, to: string): string {
  const gap = "(?:\\s|--[^\\n]*(?:\\n|$))+";
  const pattern = new RegExp(from.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(gap), "g");
  const found = text.match(pattern) ?? [];
  assert.equal(found.length, 1, `a change's text is found ${found.length} times in the model file: ${from.trim().slice(0, 60)}`);
  return text.replace(pattern, () => to.trim());
}

/** A copy of the project whose `edit.table` model is `change(its file)`. */
async function projectWith(edit: SameOutputEdit, change: (text: string) => string): Promise<Project> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-same-output-"));
  copyCompilableProject(dir);
  const current = await compiledProject(edit.vars ?? {}, []);
  const file = path.join(dir, path.relative(PROJECT_DIR, path.resolve(PROJECT_DIR, modelFile(current, edit.table))));
  writeFileSync(file, change(readFileSync(file, "utf8")));
  return loadProject(dir, { vars: edit.vars ?? {}, jobs: [] });
}

/** The event's collected_traffic_source with another manual source (medium referral). */
function trafficFrom(source: string): string {
  const fields = ["manual_campaign_id", "manual_campaign_name", "manual_source", "manual_medium", "manual_term", "manual_content", "manual_source_platform", "manual_creative_format", "manual_marketing_tactic", "gclid", "dclid", "srsltid"];
  return `struct_pack(${fields.map((f) => `${f} := ${f === "manual_source" ? `'${source}'` : f === "manual_medium" ? "'referral'" : `collected_traffic_source.${f}`}`).join(", ")})`;
}

/**
 * The demo's sessions mostly carry one traffic source; so that the models must choose, one page view in five of each
 * daily table gets a copy a second later (and one in five another a second earlier) from another source and medium.
 */
async function addTrafficEvents(engine: DuckDBEngine, ga4: string): Promise<void> {
  for (const t of await ga4DayTables(engine, ga4)) {
    // One statement, so that both copies are made from the export's own rows.
    const copies = ([[1_000_000, "later_source", 0], [-1_000_000, "earlier_source", 1]] as const).map(([shift, source, bucket], copy) => {
      // A bundle id of its own: the copy's event key (staging's dedup) is never another event's.
      return `SELECT * REPLACE (event_timestamp + ${shift} AS event_timestamp, event_bundle_sequence_id + ${copy + 1}000000000000 AS event_bundle_sequence_id,
          ${trafficFrom(source)} AS collected_traffic_source)
        FROM "${ga4}"."${t}" WHERE event_name = 'page_view' AND hash(user_pseudo_id, event_timestamp) % 5 = ${bucket}`;
    });
    await engine.queryNative(`INSERT INTO "${ga4}"."${t}" ${copies.join(" UNION ALL ")}`);
  }
}

/**
 * Re-deliveries, so that staging's dedup must choose: one event in ten of each daily table again in the same table
 * (an exact copy: the same key), and one event in ten of each of the first three days again in the table of the day
 * before, from another source (the same key, the first table's row wins). Those days lie before any incremental
 * window of the sample, so a full refresh and an incremental run read both copies of each.
 */
async function addRedeliveries(engine: DuckDBEngine, ga4: string): Promise<void> {
  const days = await ga4DayTables(engine, ga4);
  for (const [i, t] of days.entries()) {
    await engine.queryNative(`INSERT INTO "${ga4}"."${t}" SELECT * FROM "${ga4}"."${t}" WHERE hash(user_pseudo_id, event_timestamp, event_name) % 10 = 0`);
    if (i >= 1 && i <= 3) {
      await engine.queryNative(`INSERT INTO "${ga4}"."${days[i - 1]}" SELECT * REPLACE (${trafficFrom("redelivered")} AS collected_traffic_source)
        FROM "${ga4}"."${t}" WHERE hash(user_pseudo_id, event_timestamp, event_name) % 10 = 1`);
    }
  }
}

/**
 * Per edited model: what its fixture adds to the demo sample, a check that the old model's table shows the choice the
 * edit must keep, and a real change of the old model (which must still be refused).
 */
const FIXTURES: Record<string, { prepare: (engine: DuckDBEngine, settings: Settings) => Promise<void>; check: (engine: DuckDBEngine, table: string) => Promise<void>; realChange: (text: string) => string }> = {
  stg_ga4_sessions: {
    prepare: (engine, settings) => addTrafficEvents(engine, settings.datasets.ga4),
    check: async (engine, table) => {
      const chosen = await engine.queryNative(`SELECT source, count(*) AS n FROM ${table} WHERE source IN ('later_source', 'earlier_source') GROUP BY ALL ORDER BY 1`);
      // Sessions take the earlier copy's source (it comes first), the later copy's only where the page view had no source.
      assert.ok(Number(chosen.find((r) => r.source === "earlier_source")?.n ?? 0) > 20, JSON.stringify(chosen));
    },
    // A session without traffic would be '(none)' instead of '(direct)'.
    realChange: (text) => text.replace("'(direct)'", "'(none)'"),
  },
  stg_ga4_events: {
    prepare: async (engine, settings) => {
      await addTrafficEvents(engine, settings.datasets.ga4);
      await addRedeliveries(engine, settings.datasets.ga4);
    },
    check: async (engine, table) => {
      const [r] = await engine.queryNative(`SELECT count(*) FILTER (WHERE duplicate_count > 1) AS repeated, count(*) FILTER (WHERE duplicate_count = 1) AS single,
        count(*) FILTER (WHERE event_source = 'redelivered') AS from_earlier_table FROM ${table}`);
      // Both kinds of rows, and the re-delivery in the earlier table chosen over the event in its own day's table.
      assert.ok(Number(r!.repeated) > 100 && Number(r!.single) > 1000 && Number(r!.from_earlier_table) > 20, JSON.stringify(r));
    },
    // The last table's row kept instead of the first's.
    realChange: (text) => text.replace("ORDER BY table_suffix)", "ORDER BY table_suffix DESC)"),
  },
  session_credit: {
    // Sessions with several sources to credit. The jobs are not in this project: the tables of theirs it reads are
    // made empty (catalog schemas), so the heuristics and the OWOX funnel model (every step's probability 0) credit.
    prepare: async (engine, settings) => {
      await addTrafficEvents(engine, settings.datasets.ga4);
      const fitted = ["funnel_transition_probabilities", "markov_removal_effects", "shapley_channel_credit", "ml_channel_weights"];
      await engine.createMissingTables(fitted.map((name) => ({ target: tableLocation(name, { settings, database: "" }), schema: tableSchema(name) })));
    },
    check: async (engine, table) => {
      const [r] = await engine.queryNative(`SELECT count(DISTINCT model) AS models, count(*) FILTER (WHERE source IS NOT NULL AND device IS NOT NULL) AS with_session,
        count(*) FILTER (WHERE conversion_date IS NULL) AS without_date, count(DISTINCT transaction_id) AS transactions FROM ${table}`);
      assert.ok(Number(r!.models) >= 7 && Number(r!.with_session) > 100 && Number(r!.without_date) === 0 && Number(r!.transactions) > 20, JSON.stringify(r));
    },
    // Credit rounded to 8 decimals instead of 9.
    realChange: (text) => text.replace(/ROUND\(SUM\((c\.)?value\), 9\)/, "ROUND(SUM($1value), 8)"),
  },
  // A key checked by the query: the demo's sessions of every system, none twice (a duplicate would fail the build).
  int_sessions_unioned: {
    prepare: async () => {},
    check: async (engine, table) => {
      const [r] = await engine.queryNative(`SELECT count(*) FILTER (WHERE source_system = 'ga4') AS ga4, count(*) FILTER (WHERE source_system != 'ga4') AS other FROM ${table}`);
      assert.ok(Number(r!.ga4) > 100 && Number(r!.other) > 10, JSON.stringify(r));
    },
    realChange: (text) => text.replace("'ga4' AS source_system", "'GA4' AS source_system"),
  },
  int_session_identity: {
    prepare: async () => {},
    check: async (engine, table) => {
      const [r] = await engine.queryNative(`SELECT count(*) AS sessions, count(user_id) AS resolved FROM ${table}`);
      assert.ok(Number(r!.sessions) > 100 && Number(r!.resolved) > 10, JSON.stringify(r));
    },
    realChange: (text) => text.replace("CONCAT('u:', resolved_user_id)", "CONCAT('user:', resolved_user_id)"),
  },
};

for (const edit of SAME_OUTPUT_EDITS) {
  const fixture = FIXTURES[edit.table];
  describe(`a same-output edit of ${edit.table} (DuckDB, demo sample)`, function () {
    this.timeout(600_000);
    let engine: DuckDBEngine;
    let current: Project;
    let old: Project;
    /** This edit and the model's later ones (the model as it was before this edit: each of them undone, the last first). */
    const sameModel = SAME_OUTPUT_EDITS.filter((e) => e.table === edit.table);
    const undone = sameModel.slice(sameModel.indexOf(edit));
    /** The model file before the edit: each change's `after` put back to its `before`. */
    const undoEdit = (text: string): string => [...undone].reverse().reduce((t, e) => [...(e.modelFile ?? e.changes)].reverse().reduce((u, c) => replaceSql(u, c.after, c.before), t), text);
    const action = (p: Project) => p.graph.actions.find((a) => a.kind === "incremental" && a.target.name === edit.table)!;
    const rows = async (p: Project) => {
      const t = action(p).target;
      return canonicalRows(await engine.queryNative(`SELECT * FROM "${t.schema}"."${t.name}"`));
    };
    const run = (p: Project, fullRefresh: boolean) => runGraph({
      graph: p.graph, engine, settings: p.settings, artifacts, now: () => new Date("2026-06-01T00:00:00Z"), fullRefresh,
      selection: { actions: [edit.table], includeDependencies: true },
    });

    before(async () => {
      assert.ok(fixture, `no fixture for ${edit.table} in FIXTURES: every listed edit needs one`);
      current = await compiledProject(edit.vars ?? {}, []);
      old = await projectWith(edit, undoEdit);
    });
    beforeEach(async () => {
      engine = await memoryEngine();
      await generateDemo(engine.localLoading, { ...DEMO, ga4Schema: current.settings.datasets.ga4, sourcesSchema: current.settings.datasets.sources });
      await ensureSourceTables(engine, current.settings);
      await fixture!.prepare(engine, current.settings);
    });
    afterEach(async () => { await engine?.close(); });

    it("undoing the edit gives the fingerprint of the model before it", () => {
      const oldFingerprint = definitionFingerprint(action(old));
      assert.notEqual(oldFingerprint, definitionFingerprint(action(current)));
      // One earlier definition per edit of the model: the last undone, the last two, …
      const earlier = earlierFingerprints(action(current));
      assert.equal(earlier.length, sameModel.length);
      assert.equal(earlier[undone.length - 1], oldFingerprint);
      // A model without the edits' text has no earlier definition from them.
      assert.deepEqual(earlierFingerprints(action(old)).slice(0, undone.length), undone.map(() => oldFingerprint));
    });

    it("builds the same rows as the model before it, as a full refresh and incrementally over the old model's table, which is not refused", async () => {
      assertRunSucceeded(await run(old, true));
      const oldRows = await rows(old);
      assert.ok(oldRows.length > 100, `${oldRows.length} rows`);
      await fixture!.check(engine, `"${action(old).target.schema}"."${action(old).target.name}"`);
      // An incremental run over the old definition's table: not refused, the window rebuilt by the new SQL.
      const incremental = await run(current, false);
      assertRunSucceeded(incremental);
      assert.deepEqual(await rows(current), oldRows);
      const recorded = await engine.queryNative(`SELECT fingerprint, how FROM "${META}"."incremental_definitions" WHERE run_id = '${incremental.runId}' AND action LIKE '%.${edit.table}'`);
      assert.deepEqual(recorded.map((r) => [r.fingerprint, r.how]), [[definitionFingerprint(action(current)), "incremental"]]);
      assertRunSucceeded(await run(current, true));
      assert.deepEqual(await rows(current), oldRows);
    });

    it("still refuses a table built under a real change of the model", async () => {
      // The old model with one more change.
      const changed = await projectWith(edit, (text) => {
        const real = fixture!.realChange(undoEdit(text));
        assert.notEqual(real, undoEdit(text), "the real change is found in the model");
        return real;
      });
      assertRunSucceeded(await run(changed, true));
      await assert.rejects(run(current, false), ChangedDefinitionError);
    });
  });
}
