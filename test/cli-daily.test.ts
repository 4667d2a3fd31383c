/**
 * The commands for daily use, run as users run them (test/support/cli.ts) on a real DuckDB warehouse built
 * by `demo`: `runs`, `show`, `quarantine`, `compile --sql`, dbt-style `run --select`, `report --open` with a
 * fake opener on PATH, `plan --json`. Expected figures are read back from the warehouse and the run records themselves.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli as cli } from "./support/cli.ts";
import { compiledProject } from "./support/warehouse.ts";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { parseSelector, select } from "../src/dag/dag.ts";
import { reviveRunRecord } from "../src/report/data.ts";
import type { RunRecord } from "../src/runner/run-record.ts";
import type { Row } from "../src/engines/engine.ts";
import type { Project } from "../src/compile/project.ts";
import { openerFor } from "../src/cli/commands/report.ts";

describe("CLI for daily use: runs, show, quarantine, compile --sql, run --select, report --open, plan --json", function () {
  this.timeout(900_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-cli-daily-"));
  const warehouse = path.join(dir, "warehouse.duckdb");
  const artifacts = path.join(dir, "artifacts");
  const where = ["--warehouse", warehouse, "--artifacts", artifacts];
  // The small sample quarantines 1 of its custom events (within the default bad_row_max_share: src/demo/custom-events.ts).
  const small = ["--vars", "ml_min_auc=0", "--vars", "lead_label_maturity_days=0"];
  let project: Project;

  const record = (runId: string): RunRecord => reviveRunRecord(JSON.parse(readFileSync(path.join(artifacts, "runs", runId, "run.json"), "utf8")));
  const runIds = (): string[] => readdirSync(path.join(artifacts, "runs")).sort();
  /** Rows straight from the warehouse file (the CLI has exited and released it). */
  async function query(sql: string): Promise<Row[]> {
    const engine = await DuckDBEngine.open({ path: warehouse, memoryLimit: "1GB", threads: 1 });
    try { return await engine.queryNative(sql); } finally { await engine.close(); }
  }

  before(async () => {
    project = await compiledProject();
    const demo = cli(["demo", "--users", "400", "--days", "10", "--seed", "7", ...where, ...small]);
    assert.ok(existsSync(warehouse), demo.stderr.slice(-3000));
  });

  it("runs only +model (the model and everything it reads), model+ and +model+ selections", () => {
    const before = new Set(runIds());
    const r = cli(["run", "--select", "+channel_performance", ...where, ...small]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const id = runIds().find((x) => !before.has(x))!;
    const ran = new Set(record(id).actions.filter((a) => a.kind !== "check").map((a) => a.action));
    const expected = select(project.graph, { select: ["+channel_performance"] });
    // Declarations are selected but are not actions that run.
    const runnable = new Set([...expected].filter((n) => project.graph.actions.find((a) => a.name === n)!.kind !== "declaration"));
    assert.deepEqual([...ran].sort(), [...runnable].sort());
    for (const n of ["funnelcredit.channel_performance", "funnelcredit_staging.stg_costs", "funnelcredit.session_credit", "channel_markov", "funnelcredit_intermediate.sessions"]) assert.ok(ran.has(n), `+channel_performance runs ${n}`);
    assert.ok(!ran.has("funnelcredit_reporting.rpt_channel_performance"), "+model does not run what reads the model");
  });

  it("leaves out what --exclude names (dbt's --exclude), and the assertions of a table it leaves out", () => {
    const before = new Set(runIds());
    const r = cli(["run", "--select", "+channel_performance", "--exclude", "+stg_costs", ...where, ...small]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const id = runIds().find((x) => !before.has(x))!;
    const ran = new Set(record(id).actions.filter((a) => a.kind !== "check").map((a) => a.action));
    const expected = select(project.graph, { select: ["+channel_performance"], exclude: ["+stg_costs"] });
    const runnable = new Set([...expected].filter((n) => project.graph.actions.find((a) => a.name === n)!.kind !== "declaration"));
    assert.deepEqual([...ran].sort(), [...runnable].sort());
    assert.ok(ran.has("funnelcredit.channel_performance") && ran.has("funnelcredit.session_credit"), [...ran].join(", "));
    assert.ok(!ran.has("funnelcredit_staging.stg_costs"), "stg_costs is left out");
    // A Dataform assertion leaves with its table.
    const withoutLeads = select(project.graph, { exclude: ["lead_scoring+"] });
    const leadAssertions = project.graph.actions.filter((a) => a.kind === "assertion" && a.parentAction === "funnelcredit_reporting.rpt_lead_scores");
    assert.ok(leadAssertions.length > 0 && leadAssertions.every((a) => !withoutLeads.has(a.name)));
    assert.ok(withoutLeads.has("ml_attribution") && !withoutLeads.has("pipeline_credit"));
  });

  it("resolves dbt's graph operators per selector and refuses a malformed one", () => {
    const g = project.graph;
    const down = select(g, { select: ["channel_performance+"] });
    assert.ok(down.has("funnelcredit.channel_performance") && down.has("funnelcredit_reporting.rpt_channel_performance"));
    assert.ok(!down.has("funnelcredit.session_credit"), "model+ leaves out what the model reads");
    const both = select(g, { select: ["+channel_performance+"] });
    assert.deepEqual([...both].sort(), [...new Set([...select(g, { select: ["+channel_performance"] }), ...down])].sort());
    // Each selector walks from its own name: +stg_costs adds nothing downstream of it.
    const mixed = select(g, { select: ["+stg_costs", "session_credit+"] });
    assert.ok(mixed.has("funnelcredit.channel_performance") && !mixed.has("funnelcredit_intermediate.sessions"));
    assert.ok(select(g, { select: ["tag:performance"] }).has("funnelcredit.campaign_performance"));
    assert.deepEqual(parseSelector("+a+"), { name: "a", tag: false, upstream: true, downstream: true });
    assert.throws(() => parseSelector("++a"), /--select "\+\+a": expected a name/);
    const r = cli(["run", "--select", "no_such_model+", ...where]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no action or table named "no_such_model"/);
  });

  it("lists recent runs newest first with status, duration and the run record's warnings", () => {
    const ids = runIds().reverse();
    const text = cli(["runs", ...where]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split("\n");
    assert.match(lines[0]!, /^run_id\s+started_at\s+status\s+duration_s\s+succeeded\s+failed\s+skipped\s+warnings$/);
    ids.forEach((id, i) => {
      const rec = record(id);
      const cells = lines[2 + i]!.split(/\s{2,}/);
      assert.equal(cells[0], id);
      assert.equal(cells[2], rec.status);
      assert.equal(Number(cells[3]), Math.round((rec.endedAt.getTime() - rec.startedAt.getTime()) / 100) / 10);
      assert.equal(Number(cells[7]), rec.warnings.length);
      for (const w of rec.warnings) assert.ok(text.stdout.includes(`  ! ${w}`), `warning of ${id} listed: ${w}`);
    });
    const json = cli(["runs", "--limit", "1", "--json", ...where]);
    const parsed = json.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { run_id: string; warnings: string[]; status: string });
    assert.deepEqual(parsed.map((p) => p.run_id), [ids[0]]);
    assert.deepEqual(parsed[0]!.warnings, record(ids[0]!).warnings);
  });

  it("shows a table's first rows and its row count, and names a table that does not exist", async () => {
    const r = cli(["show", "channel_performance", "--limit", "3", ...where]);
    assert.equal(r.code, 0, r.stderr);
    const [{ n }] = (await query(`SELECT COUNT(*)::INTEGER AS n FROM funnelcredit.channel_performance`)) as [{ n: number }];
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], `funnelcredit.channel_performance: ${n.toLocaleString("en-US")} rows (first 3)`);
    assert.match(lines[1]!, /^date\s+model\s+channel\s+cost\s+clicks\s+impressions\s+conversions\s+value\s+cpa\s+roas\s+/);
    assert.equal(lines.length, 2 + 1 + 3);
    const json = cli(["show", "funnelcredit_sources.costs", "--limit", "2", "--json", ...where]);
    const rows = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(Object.keys(rows[0]!), ["date", "source", "medium", "campaign", "cost", "clicks", "impressions"]);
    assert.equal(rows.length, 2);
    const missing = cli(["show", "no_such_table", ...where]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no action or table named "no_such_table"/);
    assert.match(cli(["show", "channel_markov", ...where]).stderr, /channel_markov is a job .*markov_removal_effects/);
    assert.match(cli(["show", "x", "--limit", "0", ...where]).stderr, /--limit 0: expected a whole number of rows from 1/);
  });

  it("prints the quarantine: counts per reason and the newest rows, reason first", async () => {
    // The sample quarantines one custom event (as many as stay within bad_row_max_share); two more rows of other
    // reasons beside it, so that the newest rows printed are a part of the table's.
    const engine = await DuckDBEngine.open({ path: warehouse, memoryLimit: "1GB", threads: 1 });
    try {
      await engine.runNative(`INSERT INTO funnelcredit_meta.custom_events_quarantine
        SELECT q.* REPLACE (r.reason AS reason, q.row_number + r.k AS row_number, q.quarantined_at + r.k * INTERVAL 1 SECOND AS quarantined_at)
        FROM funnelcredit_meta.custom_events_quarantine AS q, (VALUES ('unparseable time', 1), ('negative revenue', 2)) AS r(reason, k)`);
    } finally {
      await engine.close();
    }
    const want = await query(`SELECT reason, COUNT(*)::INTEGER AS n FROM funnelcredit_meta.custom_events_quarantine GROUP BY reason ORDER BY n DESC, reason`);
    assert.ok(want.length > 0, "the demo quarantines some custom events");
    const r = cli(["quarantine", "--limit", "2", ...where]);
    assert.equal(r.code, 0, r.stderr);
    const total = want.reduce((a, x) => a + Number(x.n), 0);
    assert.match(r.stdout, new RegExp(`funnelcredit_meta\\.custom_events_quarantine: ${total.toLocaleString("en-US")} rows \\(newest 2\\)`));
    for (const w of want) assert.ok(r.stdout.includes(`  ${Number(w.n).toLocaleString("en-US")} × ${String(w.reason)}`), `reason ${w.reason} counted`);
    const section = r.stdout.slice(r.stdout.indexOf("funnelcredit_meta.custom_events_quarantine"));
    assert.match(section.split("\n\n")[1]!.split("\n")[0]!, /^reason\s+row_number\s+/);
  });

  it("prints one action's compiled SQL, and says why a job or a source has none", () => {
    const r = cli(["compile", "--sql", "channel_performance"]);
    assert.equal(r.code, 0, r.stderr);
    // Restated by conversion day: an incremental table (its full-refresh form first).
    assert.match(r.stdout, /^-- funnelcredit\.channel_performance \(incremental, definitions\/attribution\/channel_performance\.sqlx\)/);
    assert.match(r.stdout, /CREATE OR REPLACE TABLE `[^`]*\.funnelcredit\.channel_performance`/);
    assert.match(r.stdout, /FROM `[^`]*\.funnelcredit_staging\.stg_costs`/);
    const inc = cli(["compile", "--sql", "stg_ga4_events"]);
    assert.match(inc.stdout, /-- full refresh \(and the first run\)\nCREATE OR REPLACE TABLE [^\n]*stg_ga4_events`[\s\S]*-- incremental run: these rows are merged into the table/);
    const job = cli(["compile", "--sql", "channel_markov"]);
    assert.equal(job.code, 2);
    assert.match(job.stderr, /channel_markov is a TypeScript job \(jobs\/channel-markov\.ts\), not SQL/);
    assert.match(cli(["compile", "--sql", "costs"]).stderr, /is a declared source .*funnelcredit show costs/);
  });

  it("opens the report with xdg-open (open on macOS) found on PATH, and prints its path when there is none", async () => {
    assert.equal(openerFor("darwin"), "open");
    assert.equal(openerFor("linux"), "xdg-open");
    const bin = path.join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    const opened = path.join(dir, "opened.txt");
    writeFileSync(path.join(bin, openerFor(process.platform)), `#!/bin/sh\nprintf '%s\\n' "$@" > '${opened}'\n`);
    chmodSync(path.join(bin, openerFor(process.platform)), 0o755);
    const r = cli(["report", "--open", ...where], undefined, { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` });
    assert.equal(r.code, 0, r.stderr);
    const file = r.stdout.trim();
    assert.match(file, /report\.html$/);
    // The opener runs detached: wait for it.
    for (let i = 0; i < 100 && !existsSync(opened); i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal(readFileSync(opened, "utf8").trim(), file);
    const none = cli(["report", "--open", ...where], undefined, { PATH: path.join(dir, "empty") });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout.trim(), file);
    assert.match(none.stderr, /--open: xdg-open is not on PATH; open the file above in a browser/);
  });

  it("plans with --json: one line per action and a total whose daily bytes split into whole-table actions and incremental models", () => {
    const r = cli(["plan", "--json", ...where, ...small]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const lines = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { event: string; kind?: string; daily?: number; dailyBytes?: number; dailyWholeBytes?: number });
    const rows = lines.filter((l) => l.event === "plan_action");
    const total = lines.at(-1)!;
    assert.equal(total.event, "plan_total");
    const sum = (xs: typeof rows) => xs.reduce((n, x) => n + (x.daily ?? 0), 0);
    assert.equal(total.dailyBytes, sum(rows));
    assert.equal(total.dailyWholeBytes, sum(rows.filter((x) => x.kind !== "incremental")));
    // The demo pipeline has both: incremental staging, and tables rebuilt whole with their assertions.
    assert.ok(sum(rows.filter((x) => x.kind === "incremental")) > 0 && sum(rows.filter((x) => x.kind === "table")) > 0, JSON.stringify(total));
    assert.ok(total.dailyWholeBytes! < total.dailyBytes!);
  });

  it("plans the selection run would make: --select and --exclude", () => {
    const r = cli(["plan", "--select", "+channel_performance", "--exclude", "+session_credit", "--json", ...where, ...small]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const planned = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { event: string; action?: string }).filter((l) => l.event === "plan_action").map((l) => l.action!);
    const expected = [...select(project.graph, { select: ["+channel_performance"], exclude: ["+session_credit"] })]
      .filter((n) => project.graph.actions.find((a) => a.name === n)!.kind !== "declaration");
    assert.deepEqual([...planned].sort(), expected.sort());
    assert.ok(planned.includes("funnelcredit.channel_performance") && !planned.includes("funnelcredit.session_credit"), planned.join(", "));
  });
});
