/**
 * Promise 5 (safety): settings and identifiers are validated and quoted, so a hostile value is data,
 * never SQL; secrets never reach logs, run history or reports; outputs carry hashed ids when asked.
 */
import assert from "node:assert/strict";
import { loadProjectSettings } from "../src/config/settings.ts";
import { ensureSourceTables } from "../src/engines/duckdb/sources.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { SettingsError } from "../src/util/errors.ts";
import { Logger, registerSecret } from "../src/util/logger.ts";
import { PROJECT_DIR, compiledProject, fixtureTable, memoryEngine, runProject } from "./support/warehouse.ts";

const HOSTILE_SOURCE = "x'; DROP TABLE funnelcredit_sources.crm_transactions; --";
const HOSTILE_MEDIUM = `evil\\' OR '1'='1`;
const HOSTILE_ID = "u'); DELETE FROM funnelcredit_meta.run_history; --";

describe("reliability: hostile settings are data, not SQL", function () {
  this.timeout(180_000);

  it("refuses a funnel step, dataset or regex that is not a plain value, naming the var", async () => {
    const steps = JSON.stringify([{ name: "x'; DROP TABLE t; --", match: { event_name: "a" } }, { name: "b", match: { event_name: "b" } }]);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { funnel_steps: steps }), (e: Error) =>
      e instanceof SettingsError && /vars\.funnel_steps/.test(e.message) && /lower_snake_case/.test(e.message));
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { base_dataset: "fc`; DROP SCHEMA x; --" }), /vars\.base_dataset.*dataset name/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { ga4_dataset: "a.b" }), /vars\.ga4_dataset/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { channel_rules: JSON.stringify([{ channel: "x", medium: "(" }]) }), /vars\.channel_rules.*invalid regular expression/);
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { max_path_length: "1; DROP TABLE x" }), /vars\.max_path_length.*whole number/);
  });

  it("treats an excluded source, an invalid user id and a conversion event named like SQL as plain strings", async () => {
    const vars = {
      excluded_sources: JSON.stringify(["(direct) / (none)", `${HOSTILE_SOURCE} / ${HOSTILE_MEDIUM}`]),
      invalid_user_ids: JSON.stringify(["undefined", "0", "", HOSTILE_ID]),
      conversion_events: JSON.stringify(["purchase", "buy'); DROP TABLE x; --"]),
      channel_rules: JSON.stringify([{ channel: "Evil ' Channel", source: "^x'" }, { channel: "Paid Search", medium: "^cpc$" }]),
      ml_min_auc: "0", lead_label_maturity_days: "0",
    };
    const project = await compiledProject(vars);
    // The hostile text appears in the compiled SQL only inside string literals.
    const sql = project.graph.actions.map((a) => a.query ?? "").join("\n");
    assert.ok(!sql.includes(HOSTILE_SOURCE), "the raw text never reaches SQL unescaped");
    assert.ok(sql.includes("x\\'; DROP TABLE funnelcredit_sources.crm_transactions; --"), "it is there as an escaped literal");

    const engine = await memoryEngine();
    try {
      const ds = project.settings.datasets;
      await generateDemo(engine.conn, { users: 300, days: 5, seed: 3, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await ensureSourceTables(engine, project.settings);
      const cols = { name: "VARCHAR", time: "VARCHAR", user_id: "VARCHAR", client_id: "VARCHAR", utm_source: "VARCHAR", utm_medium: "VARCHAR" };
      await engine.runNative(`DELETE FROM ${ds.sources}.custom_events`);
      await fixtureTable(engine, "tmp_custom", "rows", cols, [
        ["visit", "2024-01-02 10:00:00", "custom-user-1", null, "google", "cpc"],
        ["visit", "2024-01-03 10:00:00", "custom-user-1", null, HOSTILE_SOURCE, HOSTILE_MEDIUM],
        ["visit", "2024-01-03 11:00:00", HOSTILE_ID, "cid-evil", "google", "cpc"],
      ]);
      await engine.runNative(`INSERT INTO ${ds.sources}.custom_events BY NAME SELECT * FROM tmp_custom.rows`);
      const run = await runProject(project, engine, { fullRefresh: true, runId: "hostile" });
      // The ML jobs need more data than this tiny sample has; every SQL action must succeed.
      const failed = run.actions.filter((a) => a.status === "failed" && a.kind !== "job");
      assert.deepEqual(failed.map((a) => `${a.action}: ${a.error}`), []);
      // Nothing was dropped or deleted.
      const [tx] = await engine.queryNative(`SELECT COUNT(*) AS n FROM ${ds.sources}.crm_transactions`);
      assert.ok(Number(tx!.n) > 0, "crm_transactions survives");
      const [hist] = await engine.queryNative(`SELECT COUNT(*) AS n FROM ${ds.meta}.run_history WHERE run_id = 'hostile'`);
      assert.equal(Number(hist!.n), run.actions.length);
      // And the values did what settings say: the hostile pair is an excluded source, the hostile id is not trusted.
      const hostile = await engine.queryNative(`SELECT is_excluded_source, channel FROM ${ds.intermediate}.sessions WHERE source = ${duckLit(HOSTILE_SOURCE)}`);
      assert.equal(hostile.length, 1, "the hostile session exists");
      assert.equal(hostile[0]!.is_excluded_source, true);
      assert.equal(hostile[0]!.channel, "Evil ' Channel");
      const ids = await engine.queryNative(`SELECT user_id FROM ${ds.intermediate}.sessions WHERE client_id = 'cid-evil'`);
      assert.deepEqual(ids.map((r) => r.user_id), [null], "an invalid user id is dropped like 'undefined'");
    } finally {
      await engine.close();
    }
  });
});

describe("reliability: secrets stay out of logs and records", () => {
  it("redacts registered secrets (tokens, keys) from human and JSON log lines", () => {
    const secret = "ya29.super-secret-token-value";
    registerSecret(secret);
    const lines: string[] = [];
    for (const json of [false, true]) {
      const log = new Logger({ json, sink: (l) => lines.push(l) });
      log.info(`calling CRM with ${secret}`, { header: `Bearer ${secret}` });
      log.error("failed", { cause: new Error(`401 for token ${secret}`).message });
    }
    assert.equal(lines.length, 4);
    for (const l of lines) assert.ok(!l.includes(secret), l);
    assert.ok(lines.every((l) => l.includes("[redacted]")));
  });
});

function duckLit(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}
