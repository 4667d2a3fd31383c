/**
 * Promise 5 (safety): settings and identifiers are validated and quoted, so a hostile value is data,
 * never SQL; secrets never reach logs, run history or reports; outputs carry hashed ids when asked.
 */
import type { Action } from "../src/dag/graph.ts";
import assert from "node:assert/strict";
import { loadProjectSettings } from "../src/config/settings.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { SettingsError } from "../src/util/errors.ts";
import { Logger, registerSecret } from "../src/util/logger.ts";
import { PROJECT_DIR, compiledProject, fixtureTable, memoryEngine, runProject } from "./support/warehouse.ts";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalArtifactStore } from "../src/artifacts/store.ts";
import { writeRunReport } from "../src/report/write.ts";
import { hashId, pseudonymiseRow } from "../src/safety/hash.ts";
import { registerEnvironmentSecrets } from "../src/safety/secrets.ts";

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
      await generateDemo(engine.localLoading, { users: 300, days: 5, seed: 3, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
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

  it("registers secrets from the environment (CRM push token, API keys) by name, not paths or plain settings", () => {
    const names = registerEnvironmentSecrets({ FUNNELCREDIT_CRM_TOKEN: "crm-token-98765", SOME_API_KEY: "k-123456", HOME: "/root", GOOGLE_APPLICATION_CREDENTIALS: "/etc/key.json" });
    assert.deepEqual(names, ["FUNNELCREDIT_CRM_TOKEN", "SOME_API_KEY"]);
    const lines: string[] = [];
    new Logger({ sink: (l) => lines.push(l) }).warn("push failed", { url: "https://crm.example/api?token=crm-token-98765", key: "k-123456" });
    assert.ok(!lines[0]!.includes("crm-token-98765") && !lines[0]!.includes("k-123456"), lines[0]);
  });
});

function duckLit(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

/** Every file under `dir`, as text. */
function allText(dir: string): string {
  let out = "";
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    out += statSync(p).isDirectory() ? allText(p) : readFileSync(p, "utf8");
  }
  return out;
}

describe("reliability: no raw user ids in run records, history or reports; hashed ids in outputs when asked", function () {
  this.timeout(180_000);

  it("pseudonymises id columns of assertion samples, and with hash_user_ids writes SHA-256 ids to owox_session_values", async () => {
    const project = await compiledProject({ hash_user_ids: "true", ml_min_auc: "0", lead_label_maturity_days: "0" });
    const engine = await memoryEngine();
    try {
      const ds = project.settings.datasets;
      await generateDemo(engine.localLoading, { users: 300, days: 5, seed: 11, ga4Schema: ds.ga4, sourcesSchema: ds.sources });
      await ensureSourceTables(engine, project.settings);
      // An assertion whose failing rows are ids (as a data-quality sample can be): the run record must
      // carry them pseudonymised.
      const db = project.graph.projectConfig.defaultDatabase;
      const idsSample: Action = {
        name: `${project.graph.projectConfig.assertionSchema}.ids_sample`, kind: "assertion", tags: ["warning"],
        target: { database: db, schema: project.graph.projectConfig.assertionSchema, name: "ids_sample" },
        dependencies: [`${ds.intermediate}.sessions`],
        query: `SELECT session_key, user_id, client_id FROM \`${db}.${ds.intermediate}.sessions\` WHERE user_id IS NOT NULL`,
      };
      const withSample = { ...project, graph: { ...project.graph, actions: [...project.graph.actions, idsSample] } };
      const run = await runProject(withSample, engine, { fullRefresh: true, runId: "private" });
      const dir = mkdtempSync(path.join(os.tmpdir(), "fc-private-"));
      const artifacts = new LocalArtifactStore(dir);
      await artifacts.put("runs/private/run.json", JSON.stringify(run, null, 2));
      await writeRunReport(engine, project.settings, run, artifacts, { database: project.graph.projectConfig.defaultDatabase });
      const history = JSON.stringify(await engine.queryNative(`SELECT * FROM ${ds.meta}.run_history`));
      const ids = await engine.queryNative(
        `SELECT DISTINCT v FROM (SELECT user_id AS v FROM ${ds.intermediate}.sessions UNION ALL SELECT client_id FROM ${ds.intermediate}.sessions) WHERE length(v) >= 6`,
      );
      assert.ok(ids.length > 50, "the sample has user and client ids to look for");
      assert.ok(run.actions.some((a) => /violate .*sha256:/.test(a.note ?? a.error ?? "")), "an assertion sample was pseudonymised");
      const texts = allText(dir) + history;
      const leaked = ids.map((r) => String(r.v)).filter((id) => texts.includes(id));
      assert.deepEqual(leaked.slice(0, 5), [], "raw ids in artifacts or run history");

      const owox = await engine.queryNative(`SELECT o.user_id AS hashed, s.user_id AS raw FROM ${ds.outputs}.owox_session_values o JOIN ${ds.intermediate}.sessions s ON s.session_key = o.session_id WHERE s.user_id IS NOT NULL LIMIT 20`);
      assert.ok(owox.length > 0);
      for (const r of owox) assert.equal(r.hashed, hashId(String(r.raw)));

      // No output table carries a raw user or client id (session keys hash the client id inside them).
      const outputs = await engine.queryNative(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${ds.outputs}'`);
      for (const t of outputs.map((r) => String(r.table_name))) {
        const text = JSON.stringify(await engine.queryNative(`SELECT * FROM "${ds.outputs}"."${t}"`), (_k, v) => (typeof v === "bigint" ? String(v) : v));
        const raw = ids.map((r) => String(r.v)).filter((id) => text.includes(id));
        assert.deepEqual(raw.slice(0, 3), [], `raw ids in ${ds.outputs}.${t}`);
      }
    } finally {
      await engine.close();
    }
  });

  it("hashes the same way in TypeScript and SQL, and leaves other columns alone", () => {
    assert.equal(hashId("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(hashId(null), null);
    assert.deepEqual(pseudonymiseRow({ session_key: "ga4:123.456:789", row_number: 5, reason: "missing time", user_id: null }), {
      session_key: `sha256:${hashId("ga4:123.456:789")!.slice(0, 16)}`, row_number: 5, reason: "missing time", user_id: null,
    });
  });
});
