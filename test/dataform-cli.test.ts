/**
 * The SQL layer under plain `dataform run`: the real Dataform CLI (the version package.json pins) runs the
 * incremental staging actions against the strict local BigQuery (test/support/strict-bigquery.ts), through its own
 * @google-cloud/bigquery client. Beside GCP Dataform (docs/deploy-gcp.md §8) this is how the staging tables are
 * built, so it must stage every event once however often it runs, and its incremental run must equal a full refresh.
 *
 * The CLI reaches the endpoint the way the client documents for emulators (BIGQUERY_EMULATOR_HOST), and gets its
 * token from a local metadata server (GCE_METADATA_HOST), as it would on a Google Cloud VM: no credentials file.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { generateDemo } from "../src/demo/generate.ts";
import type { Row } from "../src/engines/engine.ts";
import { PROJECT_DIR, compiledProject } from "./support/warehouse.ts";
import { startStrictBigQuery, type StrictBigQuery } from "./support/strict-bigquery.ts";

const P = "funnelcredit-local";
const GA4 = "analytics_demo";
const DAYS = 5;

describe("the SQL layer under plain `dataform run` (the real Dataform CLI on the strict local BigQuery)", function () {
  this.timeout(900_000);
  let bq: StrictBigQuery;
  let metadata: http.Server;
  let dir: string;
  let staging: string;

  before(async () => {
    staging = (await compiledProject()).settings.datasets.staging;
    bq = await startStrictBigQuery({ projectId: P, location: "EU" });
    bq.addDataset(GA4, "EU");
    bq.addDataset("funnelcredit_sources", "EU");
    // The whole export lands in a dataset the CLI does not read; days are copied into the GA4 dataset as they "arrive".
    bq.addDataset("export_all", "EU");
    await generateDemo(bq.duck.localLoading, { users: 60, days: DAYS, seed: 11, intradayDays: 0, ga4Schema: `${P}/export_all`, sourcesSchema: `${P}/funnelcredit_sources` });
    metadata = http.createServer((req, res) => {
      // https://cloud.google.com/compute/docs/metadata/querying-metadata: every answer carries Metadata-Flavor.
      res.setHeader("Metadata-Flavor", "Google");
      if (req.url?.startsWith("/computeMetadata/v1/instance/service-accounts/default/token")) {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ access_token: bq.accessToken, expires_in: 3600, token_type: "Bearer" }));
      } else res.end("");
    });
    await new Promise<void>((r) => metadata.listen(0, "127.0.0.1", r));
    // A Dataform project folder: the SQLX layer and its settings, @dataform/core as the CLI's sandbox requires it.
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-dataform-cli-"));
    for (const f of ["definitions", "includes", "workflow_settings.yaml"]) cpSync(path.join(PROJECT_DIR, f), path.join(dir, f), { recursive: true });
    cpSync(path.join(PROJECT_DIR, "node_modules", "@dataform", "core"), path.join(dir, "node_modules", "@dataform", "core"), { recursive: true });
    const core = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(path.join(PROJECT_DIR, "node_modules", "@dataform", "core", "package.json"), "utf8"))).version;
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "funnelcredit-sql", private: true, dependencies: { "@dataform/core": core } }));
    writeFileSync(path.join(dir, ".df-credentials.json"), JSON.stringify({ projectId: P, location: "EU" }));
    for (let n = 1; n <= DAYS - 1; n++) await arrive(n);
  });
  after(async () => {
    await bq?.close();
    metadata?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Make GA4 day `n` (1-based) of the export visible in the GA4 dataset. */
  async function arrive(n: number): Promise<void> {
    const tables = await bq.tableIds("export_all");
    const day = tables.filter((t) => /^events_\d{8}$/.test(t)).sort()[n - 1]!;
    await bq.duck.runNative(`CREATE SCHEMA IF NOT EXISTS "${P}/${GA4}"`);
    await bq.duck.runNative(`CREATE TABLE "${P}/${GA4}"."${day}" AS SELECT * FROM "${P}/export_all"."${day}"`);
  }

  async function dataformRun(...extra: string[]): Promise<{ code: number | null; out: string }> {
    // METADATA_SERVER_DETECTION=assume-present (gcp-metadata): a Google Cloud VM is known as one from its BIOS at once;
    // here the client would ping the server first with a short time limit, which a busy machine misses ("Could not load
    // the default credentials"). The token still comes from the metadata server.
    const env: NodeJS.ProcessEnv = { ...process.env, BIGQUERY_EMULATOR_HOST: `${bq.url}/bigquery/v2`, GCE_METADATA_HOST: `127.0.0.1:${(metadata.address() as { port: number }).port}`, METADATA_SERVER_DETECTION: "assume-present", HOME: dir, NO_COLOR: "1" };
    delete env.GOOGLE_APPLICATION_CREDENTIALS;
    const cli = path.join(PROJECT_DIR, "node_modules", "@dataform", "cli", "bundle.js");
    // Dataform gives up compiling after 60 s by default, which a busy machine reaches (as src/compile/compile.ts says).
    const args = [cli, "run", dir, "--credentials", path.join(dir, ".df-credentials.json"), `--vars=ga4_dataset=${GA4},reprocess_days=1`, "--timeout=10m", "--actions", "stg_ga4_events", "stg_ga4_sessions", ...extra];
    return new Promise((resolve) => {
      const child = spawn(process.execPath, args, { env, cwd: dir });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("close", (code) => resolve({ code, out }));
    });
  }

  const counts = async (): Promise<Row> =>
    (await bq.rows(`SELECT (SELECT COUNT(*) FROM \`${P}.${staging}.stg_ga4_events\`) AS events, (SELECT COUNT(DISTINCT event_key) FROM \`${P}.${staging}.stg_ga4_events\`) AS event_keys, (SELECT COUNT(*) FROM \`${P}.${staging}.stg_ga4_sessions\`) AS sessions, (SELECT COUNT(DISTINCT session_key) FROM \`${P}.${staging}.stg_ga4_sessions\`) AS session_keys`))[0]!;
  const exportEvents = async (days: number): Promise<number> => {
    const tables = (await bq.tableIds("export_all")).filter((t) => /^events_\d{8}$/.test(t)).sort().slice(0, days);
    const rows = await bq.duck.queryNative(tables.map((t) => `SELECT COUNT(*) AS n FROM "${P}/export_all"."${t}"`).join(" UNION ALL "));
    return rows.reduce((s, r) => s + Number(r.n), 0);
  };

  it("stages every event once however often it runs, and a daily run equals a full refresh", async () => {
    const first = await dataformRun();
    assert.equal(first.code, 0, first.out);
    const once = await counts();
    assert.equal(Number(once.events), await exportEvents(DAYS - 1), "every exported event staged");
    assert.equal(once.events, once.event_keys, "no event staged twice");
    assert.equal(once.sessions, once.session_keys, "no session staged twice");

    // The same export again: nothing changes (the window is deleted and inserted again).
    const again = await dataformRun();
    assert.equal(again.code, 0, again.out);
    assert.deepEqual(await counts(), once);

    // One more day arrives: the incremental run adds it and keeps every row unique.
    await arrive(DAYS);
    const daily = await dataformRun();
    assert.equal(daily.code, 0, daily.out);
    const afterDaily = await counts();
    assert.equal(Number(afterDaily.events), await exportEvents(DAYS));
    assert.equal(afterDaily.events, afterDaily.event_keys);
    assert.equal(afterDaily.sessions, afterDaily.session_keys);
    const snapshot = async (): Promise<string[]> => [
      ...(await bq.rows(`SELECT event_key, event_date, session_key FROM \`${P}.${staging}.stg_ga4_events\``)).map((r) => JSON.stringify(["e", r.event_key, String(r.event_date), r.session_key])),
      ...(await bq.rows(`SELECT session_key, session_date, source, medium FROM \`${P}.${staging}.stg_ga4_sessions\``)).map((r) => JSON.stringify(["s", r.session_key, String(r.session_date), r.source, r.medium])),
    ].sort();
    const incremental = await snapshot();

    const full = await dataformRun("--full-refresh");
    assert.equal(full.code, 0, full.out);
    assert.deepEqual(await snapshot(), incremental, "three incremental runs equal one full refresh");
  });

  it("sends an incremental action as one script: its window DECLARE, DELETE, INSERT and checks in one job, without a transaction", async () => {
    // The tables the script below replaces into: the first test built them; alone, this test builds them.
    if (!(await bq.tableIds(staging)).includes("stg_ga4_events")) assert.equal((await dataformRun()).code, 0);
    const before = bq.requestsTo("jobs.insert").length;
    const run = await dataformRun();
    assert.equal(run.code, 0, run.out);
    const scripts = bq.requestsTo("jobs.insert").slice(before)
      .map((r) => String(((r.body as { configuration?: { query?: { query?: string } } }).configuration?.query?.query) ?? ""))
      .filter((q) => new RegExp(`INSERT\\s+INTO\\s+\`[^\`]*\\.${staging}\\.stg_ga4_events\``, "i").test(q));
    assert.equal(scripts.length, 1, "one job for stg_ga4_events");
    const s = scripts[0]!.replace(/--[^\n]*/g, "");
    const at = (re: RegExp): number => s.search(re);
    assert.ok(at(/\bDECLARE\b/i) >= 0 && at(/\bDECLARE\b/i) < at(/\bDELETE\b/i) && at(/\bDELETE\b/i) < at(/\bINSERT\b/i) && at(/\bINSERT\b/i) < at(/ERROR\(/), "DECLARE, DELETE, INSERT, then the checks");
    // Dataform opens no transaction: a failed check fails the action after its rows are written (docs/deploy-gcp.md §8).
    assert.equal(at(/BEGIN\s+TRANSACTION/i), -1);
  });
});
