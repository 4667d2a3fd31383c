/**
 * The BigQuery bytes cap: vars.maximum_bytes_billed (workflow_settings.yaml, default 1 TiB) reaches
 * every job BigQuery runs, `--maximum-bytes-billed` overrides it for one run, "0" means no cap, and a
 * bad value fails naming the var.
 */
import assert from "node:assert/strict";
import { loadProjectSettings } from "../src/config/settings.ts";
import { bigqueryDriver } from "../src/engines/bigquery/driver.ts";
import { createBigQueryEngine, type BigQueryConfig } from "../src/engines/bigquery/engine.ts";
import { SettingsError } from "../src/util/errors.ts";
import { startFakeBigQuery } from "./support/fake-bigquery.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";

/** The BigQuery config the CLI would open: the driver's options over the project's settings. */
function bqConfig(vars: Record<string, string>, options: Record<string, unknown> = {}): BigQueryConfig {
  const p = loadProjectSettings(PROJECT_DIR, vars);
  return bigqueryDriver.configure(options, {
    projectDir: PROJECT_DIR, defaultProject: p.workflow.defaultProject, defaultLocation: p.workflow.defaultLocation,
    maximumBytesBilled: p.settings.maximumBytesBilled,
  }) as BigQueryConfig;
}

describe("maximum_bytes_billed", () => {
  it("caps every BigQuery job at workflow_settings.yaml's 1 TiB by default", async () => {
    const cfg = bqConfig({});
    assert.equal(cfg.maximumBytesBilled, String(2 ** 40));
    const fake = await startFakeBigQuery({ projectId: cfg.projectId, location: "EU" });
    try {
      fake.setResult(/^SELECT 1/, { numDmlAffectedRows: 0 });
      const engine = createBigQueryEngine({ ...cfg, location: "EU", apiEndpoint: fake.url }, { authClient: fake.authClient() });
      await engine.execute(["SELECT 1"], { action: "a", jobId: "j1" });
      const body = fake.requestsTo("jobs.insert")[0]!.body as { configuration: { query: { maximumBytesBilled?: string } } };
      assert.equal(body.configuration.query.maximumBytesBilled, String(2 ** 40));
    } finally {
      await fake.close();
    }
  });

  it("takes --maximum-bytes-billed for one run over the setting", () => {
    assert.equal(bqConfig({}, { "maximum-bytes-billed": "5000000" }).maximumBytesBilled, "5000000");
    assert.equal(bqConfig({ maximum_bytes_billed: "7000" }).maximumBytesBilled, "7000");
  });

  it('sends no cap for "0"', () => {
    assert.equal(bqConfig({ maximum_bytes_billed: "0" }).maximumBytesBilled, undefined);
  });

  it("fails naming the var for a value that is not a whole number of bytes", () => {
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { maximum_bytes_billed: "1TB" }), (e: unknown) => e instanceof SettingsError && /maximum_bytes_billed/.test(e.message));
    assert.throws(() => loadProjectSettings(PROJECT_DIR, { maximum_bytes_billed: "-1" }), /maximum_bytes_billed/);
  });
});
