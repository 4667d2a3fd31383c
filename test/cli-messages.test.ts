/**
 * Messages a user meets before anything runs: a broken workflow_settings.yaml, bad `--vars`, a
 * misspelt setting, several bad settings at once, a bad `--memory-limit`, `--help`, and the run
 * summary's counts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli as cli } from "./support/cli.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { SettingsError } from "../src/util/errors.ts";
import { formatSummary } from "../src/runner/summary.ts";
import { commandErrorText } from "../src/cli/error-text.ts";
import { DuckDBInstance } from "@duckdb/node-api";
import type { RunRecord } from "../src/runner/run-record.ts";

const settingsError = (vars: Record<string, string>): string => {
  try {
    loadProjectSettings(PROJECT_DIR, vars);
  } catch (e) {
    assert.ok(e instanceof SettingsError, String(e));
    return e.message;
  }
  assert.fail("expected a SettingsError");
};

describe("CLI messages", function () {
  this.timeout(120_000);

  it("names workflow_settings.yaml and the line of a YAML syntax error, without a stack trace", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-yaml-"));
    writeFileSync(path.join(dir, "workflow_settings.yaml"), 'defaultProject: p\ndefaultDataset: funnelcredit\ndefaultLocation: US\nvars:\n  lookback_days: "30\n  markov_order: [\n');
    const r = cli(["compile", "--project", dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /workflow_settings\.yaml: not valid YAML: .*line \d+, column \d+/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  it("turns DuckDB running out of memory outside an action (import, demo) into DuckDB's first line and the command's knob, without a stack", async () => {
    // A real DuckDB error: a list aggregate of 100M integers cannot spill under 64 MiB.
    const instance = await DuckDBInstance.create(":memory:", { memory_limit: "64MiB", threads: "1" });
    const conn = await instance.connect();
    const oom = await conn.run("SELECT list(i) FROM range(100000000) t(i)").then(() => assert.fail("expected DuckDB to run out of memory"), (e: unknown) => e);
    conn.closeSync();
    instance.closeSync();
    const forImport = commandErrorText(oom, "import");
    assert.match(forImport, /^duckdb: Out of Memory Error: failed to allocate .* used\)\n  hint: raise --memory-limit .*--append/);
    assert.doesNotMatch(forImport, /\n\s+at |SET memory_limit/, "no stack, no SQL advice a CLI user cannot follow");
    assert.match(commandErrorText(oom, "demo"), /hint: the sample generator keeps DuckDB under 256 MiB.*--users, --days/);
    assert.match(commandErrorText(oom, undefined), /hint: raise --memory-limit/);
    // Anything else is a defect: its stack.
    assert.match(commandErrorText(new TypeError("x is undefined"), "import"), /^TypeError: x is undefined\n\s+at /);
  });

  it("blames a bad --vars value on --vars, not on workflow_settings.yaml", () => {
    const m = settingsError({ lookback_days: "-5" });
    assert.match(m, /vars\.lookback_days = "-5": expected a number from 1 to 3650 \(given with --vars\)/);
    assert.doesNotMatch(m, /workflow_settings\.yaml/);
  });

  it("suggests the setting a misspelt var was meant to be, without listing every setting", () => {
    const m = settingsError({ lookback_day: "30" });
    assert.match(m, /unknown setting\(s\) lookback_day \(did you mean lookback_days\?\)/);
    assert.doesNotMatch(m, /markov_order/);
    assert.ok(m.length < 200, m);
    assert.match(settingsError({ zzz: "1" }), /unknown setting\(s\) zzz \(every setting is listed with its default in includes\/settings\.js/);
  });

  it("reports every bad setting at once", () => {
    const m = settingsError({ lookback_days: "ninety", markov_order: "9", funnel_steps: "[{", lookbak_days: "3" });
    assert.match(m, /^4 settings are invalid:/);
    assert.match(m, /vars\.lookback_days = "ninety": expected a whole number \(given with --vars\)/);
    assert.match(m, /vars\.markov_order = "9": expected a number from 1 to 4 \(given with --vars\)/);
    assert.match(m, /vars\.funnel_steps = "\[\{": not valid JSON.*\(given with --vars\)/);
    assert.match(m, /unknown setting\(s\) lookbak_days \(did you mean lookback_days\?\)/);
  });

  it("says what --memory-limit expects instead of DuckDB's \"Failed to set config\"", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-mem-"));
    const r = cli(["run", "--memory-limit", "abc", "--warehouse", path.join(dir, "w.duckdb")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--memory-limit "abc": expected a size with a unit, e.g\. 4GB/);
    assert.doesNotMatch(r.stderr, /Failed to set config|\n\s+at /);
    const tiny = cli(["run", "--memory-limit", "4KB", "--warehouse", path.join(dir, "w.duckdb")]);
    assert.equal(tiny.code, 2, tiny.stderr);
    assert.match(tiny.stderr, /--memory-limit "4KB": too small/);
  });

  it("wraps --help at word boundaries", () => {
    const flat = (s: string): string => s.replace(/\s+/g, " ");
    const top = flat(cli(["--help"]).stdout);
    for (const d of [
      "load local exports into the embedded warehouse: ga4 (NDJSON export), transactions, custom-events, costs, paths (ChannelAttribution CSV), leads, dp6",
      "generate the deterministic sample warehouse (GA4 export, CRM, custom events, costs, leads) and run the whole pipeline on it",
      "send changed lead scores to a CRM endpoint (JSON batches, bearer token, retries, dead letters)",
    ]) assert.ok(top.includes(d), `${d}\n---\n${top}`);
    const run = flat(cli(["run", "--help"]).stdout);
    for (const d of ["machine-readable JSON log lines on stdout (for schedulers)", "validate every statement (BigQuery: estimate bytes) without running"]) {
      assert.ok(run.includes(d), `${d}\n---\n${run}`);
    }
  });

  it("counts in the summary line the warnings it lists", () => {
    const at = new Date("2024-01-01T00:00:00Z");
    const run: RunRecord = {
      runId: "r1", engine: "duckdb", startedAt: at, endedAt: at, status: "succeeded", fullRefresh: false, dryRun: false,
      actions: [
        { action: "a", kind: "table", status: "succeeded", startedAt: at, endedAt: at },
        { action: "dq_a", kind: "assertion", status: "warning", startedAt: at, endedAt: at, note: "1 row" },
        { action: "dq_b", kind: "assertion", status: "warning", startedAt: at, endedAt: at, note: "2 rows" },
      ],
      warnings: ["dq_a: 1 row", "dq_b: 2 rows", "lead_scoring: test AUC 0.5 is below ml_min_auc 0.7"],
    };
    const s = formatSummary(run);
    const listed = s.split("\n").filter((l) => l.startsWith("  ! ")).length;
    assert.equal(listed, 3);
    assert.match(s.split("\n")[0]!, /1 succeeded, 2 with warnings, 0 failed, 0 skipped; 3 warnings:$/);
  });

  it("prints a dry run's bytes per action and in total with the on-demand cost at the configured price per TiB", () => {
    const at = new Date("2024-01-01T00:00:00Z");
    // 2^40 bytes = 1 TiB → 6.25 USD; 2^39 → 3.125 → "3.13"; 2^20 (1 MiB) → 6.25 / 2^20 = 0.00000596… → "0.000006".
    const run: RunRecord = {
      runId: "r2", engine: "bigquery", startedAt: at, endedAt: at, status: "succeeded", fullRefresh: false, dryRun: true,
      actions: [
        { action: "stg", kind: "incremental", status: "dry_run", startedAt: at, endedAt: at, bytesProcessed: 2 ** 40 },
        { action: "sessions", kind: "table", status: "dry_run", startedAt: at, endedAt: at, bytesProcessed: 2 ** 39 },
        { action: "small", kind: "table", status: "dry_run", startedAt: at, endedAt: at, bytesProcessed: 2 ** 20 },
      ],
      warnings: [],
    };
    const lines = formatSummary(run, { perTib: 6.25, currency: "USD" }).split("\n");
    assert.ok(lines.includes("    stg: 1,099,511,627,776 bytes (1.000 TiB, 6.25 USD)"), lines.join("\n"));
    assert.ok(lines.includes("    sessions: 549,755,813,888 bytes (0.500 TiB, 3.13 USD)"), lines.join("\n"));
    assert.ok(lines.includes("    small: 1,048,576 bytes (0.001 GiB, 0.000006 USD)"), lines.join("\n"));
    assert.ok(lines.includes("  estimated bytes processed: 1,649,268,490,240 bytes (1.500 TiB, 9.38 USD) at 6.25 USD per TiB on demand"), lines.join("\n"));
  });
});
