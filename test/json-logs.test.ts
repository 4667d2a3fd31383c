/**
 * `--json` logs for schedulers: every line is one Cloud Logging structured entry (severity, message,
 * time, the run id, and per action its status, duration, rows, bytes, job id), every warning and the
 * full text of every failure have their line, the last line is the run's summary, and the exit code
 * is 0 / 1 / 2 as the README documents.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RunRecord } from "../src/runner/run-record.ts";
import { runCli } from "./support/cli.ts";

interface Entry {
  severity: string; message: string; time: string; runId?: string; event?: string; action?: string; status?: string;
  durationMs?: number; error?: string; exitCode?: number; failed?: number; record?: string; bytesProcessed?: number;
  failedActions?: { action: string; error: string }[];
  "logging.googleapis.com/operation"?: { id: string; producer: string };
}

function cliJson(args: string[]): { code: number | null; entries: Entry[]; stdout: string; stderr: string } {
  const r = runCli([...args, "--json"]);
  const entries = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Entry);
  return { code: r.code, entries, stdout: r.stdout, stderr: r.stderr };
}

/** What Cloud Logging needs of each line. */
function assertStructured(entries: Entry[]): void {
  assert.ok(entries.length > 0);
  for (const e of entries) {
    assert.ok(["DEBUG", "INFO", "WARNING", "ERROR"].includes(e.severity), JSON.stringify(e));
    assert.equal(typeof e.message, "string");
    assert.ok(e.message.length > 0);
    assert.ok(!Number.isNaN(Date.parse(e.time)), e.time);
  }
}

describe("--json logs for schedulers", function () {
  this.timeout(240_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-json-"));

  it("gives a failed action an ERROR line with its full error, and ends with an ERROR summary, exit 1", () => {
    // A job whose input table was never built fails (nothing selected builds it).
    const w = path.join(dir, "failing", "w.duckdb");
    const r = cliJson(["run", "--warehouse", w, "--artifacts", path.join(dir, "failing", "art"), "--actions", "channel_markov"]);
    assert.equal(r.code, 1, r.stderr);
    assertStructured(r.entries);
    const summary = r.entries.at(-1)!;
    assert.equal(summary.event, "run_finished");
    assert.equal(summary.severity, "ERROR");
    assert.equal(summary.exitCode, 1);
    assert.equal(summary.failed, 1);
    const run = JSON.parse(readFileSync(summary.record!, "utf8")) as RunRecord;
    const failedError = run.actions.find((a) => a.action === "channel_markov")!.error!;
    assert.match(failedError, /channel_paths/);
    const line = r.entries.find((e) => e.event === "action_finished" && e.action === "channel_markov")!;
    assert.equal(line.severity, "ERROR");
    assert.equal(line.status, "failed");
    assert.equal(line.error, failedError);
    assert.ok(line.message.includes(failedError), "the message carries the full error text");
    assert.equal(typeof line.durationMs, "number");
    assert.deepEqual(summary.failedActions?.map((f) => [f.action, f.error]), [["channel_markov", failedError]]);
    // One run id on every line of the run, also as Cloud Logging's operation id (groups the run's lines).
    for (const e of r.entries) {
      assert.equal(e.runId, run.runId);
      assert.deepEqual(e["logging.googleapis.com/operation"], { id: run.runId, producer: "funnelcredit" });
    }
  });

  it("gives every warning of a run its WARNING line before a succeeded summary, exit 0", () => {
    // No leads imported: lead_scoring succeeds with a warning.
    const w = path.join(dir, "warning", "w.duckdb");
    const r = cliJson(["run", "--warehouse", w, "--artifacts", path.join(dir, "warning", "art"), "--actions", "lead_scoring", "--include-deps"]);
    assert.equal(r.code, 0, r.stderr);
    assertStructured(r.entries);
    const summary = r.entries.at(-1)!;
    assert.equal(summary.event, "run_finished");
    assert.equal(summary.severity, "INFO");
    assert.equal(summary.status, "succeeded");
    const run = JSON.parse(readFileSync(summary.record!, "utf8")) as RunRecord;
    assert.ok(run.warnings.length > 0);
    const warned = r.entries.filter((e) => e.event === "run_warning");
    assert.deepEqual(warned.map((e) => e.message), run.warnings);
    assert.ok(warned.every((e) => e.severity === "WARNING"));
    assert.ok(r.entries.filter((e) => e.event === "action_finished").length >= 10);
  });

  it("reports the bytes in the summary whenever the engine estimated them (a DuckDB dry run), and none when it did not", () => {
    const w = path.join(dir, "bytes", "w.duckdb");
    const art = path.join(dir, "bytes", "art");
    const seed = cliJson(["run", "--warehouse", w, "--artifacts", art, "--actions", "stg_ga4_events"]);
    assert.equal(seed.code, 0, seed.stderr);
    assert.equal(seed.entries.at(-1)!.bytesProcessed, undefined, "an executed DuckDB run reports no bytes");
    const r = cliJson(["run", "--warehouse", w, "--artifacts", art, "--actions", "stg_ga4_events", "sessions", "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    const summary = r.entries.at(-1)!;
    const run = JSON.parse(readFileSync(summary.record!, "utf8")) as RunRecord;
    const estimated = run.actions.filter((a) => a.bytesProcessed !== undefined);
    assert.ok(estimated.length > 0, "the DuckDB dry run estimates bytes per action");
    assert.equal(summary.bytesProcessed, estimated.reduce((n, a) => n + a.bytesProcessed!, 0));
  });

  it("reports a usage or settings error as one ERROR line, exit 2", () => {
    const r = cliJson(["run", "--warehouse", path.join(dir, "bad", "w.duckdb"), "--vars", "lookback_days=-5"]);
    assert.equal(r.code, 2);
    assert.equal(r.entries.length, 1, r.stdout);
    assertStructured(r.entries);
    assert.equal(r.entries[0]!.severity, "ERROR");
    assert.equal(r.entries[0]!.exitCode, 2);
    assert.match(r.entries[0]!.message, /vars\.lookback_days = "-5"/);
    assert.equal(r.stderr, "");
  });
});
