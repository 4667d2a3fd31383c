/**
 * The engine seam: engines are registered in one place, bring their own options and run lease,
 * create missing inputs themselves, and nothing outside src/engines/ knows which engine runs.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ENGINES, ENGINE_KINDS, engineDriver, openEngine } from "../src/engines/registry.ts";
import { autoMemoryLimit } from "../src/engines/duckdb/driver.ts";
import { LeaseHeldError } from "../src/engines/lease.ts";
import { createBigQueryEngine } from "../src/engines/bigquery/engine.ts";
import { emptySourceTables } from "../src/catalog/index.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { googleSqlColumns } from "../src/googlesql/ddl.ts";
import { startFakeBigQuery } from "./support/fake-bigquery.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Relative imports of a file, resolved to repository paths (`src/engines/duckdb/engine.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => path.relative(PROJECT_DIR, path.resolve(path.dirname(file), m[1]!)));
}

describe("engine seam", function () {
  this.timeout(60_000);

  it("offers the registered engines as --engine choices, and fails naming them for any other", () => {
    assert.deepEqual(ENGINE_KINDS, Object.keys(ENGINES));
    assert.deepEqual([...ENGINE_KINDS].sort(), ["bigquery", "duckdb"]);
    for (const k of ENGINE_KINDS) assert.equal(engineDriver(k).kind, k);
    assert.throws(() => engineDriver("snowflake"), /unknown engine "snowflake": use --engine duckdb or --engine bigquery/);
    assert.throws(() => engineDriver("toString"), /unknown engine "toString"/);
  });

  it("takes the DuckDB file lease before opening the file and releases it on close", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-seam-"));
    const ctx = { projectDir: dir, defaultProject: "p", defaultLocation: "EU" };
    const values = { warehouse: "w.duckdb", "memory-limit": "1GB", threads: 1 };
    const lease = { runId: "run-1", waitMs: 0, writes: true, meta: { database: "p", schema: "m" } };
    const engine = await openEngine("duckdb", values, ctx, lease);
    assert.ok(existsSync(path.join(dir, "w.duckdb.lease")));
    await assert.rejects(openEngine("duckdb", values, ctx, { ...lease, runId: "run-2" }), (e: unknown) => e instanceof LeaseHeldError && /in use by run run-1/.test((e as Error).message));
    assert.ok(engine.localLoading, "DuckDB loads local files");
    await engine.close();
    assert.ok(!existsSync(path.join(dir, "w.duckdb.lease")), "the lease is released on close");
  });

  it("gives DuckDB half the memory available, between 1GiB and 3GiB, unless --memory-limit says otherwise, and reports it", async () => {
    assert.equal(autoMemoryLimit(2 * 2 ** 30), "1024MiB");
    assert.equal(autoMemoryLimit(5 * 2 ** 30), "2560MiB");
    // Regression: a big machine got 4GiB, and Node on top took the process past 4 GB (4.41 GB at 3.4M events).
    assert.equal(autoMemoryLimit(6 * 2 ** 30), "3072MiB");
    assert.equal(autoMemoryLimit(64 * 2 ** 30), "3072MiB");
    assert.equal(autoMemoryLimit(512 * 2 ** 20), "1024MiB");
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-seam-"));
    const ctx = { projectDir: dir, defaultProject: "p", defaultLocation: "EU" };
    for (const [values, expected] of [
      [{ warehouse: "a.duckdb", threads: 1 }, undefined],
      [{ warehouse: "b.duckdb", "memory-limit": "auto", threads: 1 }, undefined],
      [{ warehouse: "c.duckdb", "memory-limit": "1500MB", threads: 1 }, "1.3 GiB"],
    ] as const) {
      const engine = await openEngine("duckdb", values, ctx);
      try {
        assert.match(engine.resources ?? "", /^DuckDB memory_limit \d+(MiB|MB), 1 threads$/);
        const [{ limit }] = (await engine.query("SELECT CURRENT_SETTING('memory_limit') AS limit")) as [{ limit: string }];
        if (expected) assert.equal(limit, expected);
        else {
          const gib = Number(/^([\d.]+) GiB$/.exec(limit)?.[1]);
          assert.ok(gib >= 0.99 && gib <= 4, `auto limit ${limit}`);
        }
      } finally {
        await engine.close();
      }
    }
  });

  it("keeps engine implementations and connections inside src/engines", () => {
    // Importers and the sample generator get the engine's column types and quoting through Engine.localLoading: no exceptions.
    const offenders: string[] = [];
    for (const f of [...sourceFiles(path.join(PROJECT_DIR, "src")), ...sourceFiles(path.join(PROJECT_DIR, "jobs"))]) {
      const rel = path.relative(PROJECT_DIR, f);
      if (rel.startsWith("src/engines/")) continue;
      for (const imp of importsOf(f)) {
        if (/^src\/engines\/[^/]+\//.test(imp)) offenders.push(`${rel} imports ${imp}`);
      }
      const text = readFileSync(f, "utf8");
      if (/instanceof\s+(DuckDBEngine|BigQuery)/.test(text)) offenders.push(`${rel} tests an engine's class`);
      if (/\bengine\.conn\b|\.kind\s*===\s*"(duckdb|bigquery)"/.test(text)) offenders.push(`${rel} reaches into an engine`);
      if (/\b(engine|kind)\s*[!=]==?\s*"(duckdb|bigquery)"/.test(text)) offenders.push(`${rel} tests an engine's name`);
    }
    assert.deepEqual(offenders, []);
  });

  it("keeps engines below everything else: src/engines imports only engines, the GoogleSQL tools and util", () => {
    const offenders: string[] = [];
    for (const f of sourceFiles(path.join(PROJECT_DIR, "src", "engines"))) {
      for (const imp of importsOf(f)) {
        if (!/^src\/(engines|googlesql|util)\//.test(imp)) offenders.push(`${path.relative(PROJECT_DIR, f)} imports ${imp}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it("keeps each job to itself: no job imports another (shared readers live in src/jobs/)", () => {
    const offenders: string[] = [];
    for (const f of sourceFiles(path.join(PROJECT_DIR, "jobs"))) {
      const rel = path.relative(PROJECT_DIR, f);
      if (rel === "jobs/index.ts") continue; // the registry of jobs
      for (const imp of importsOf(f)) if (imp.startsWith("jobs/")) offenders.push(`${rel} imports ${imp}`);
    }
    assert.deepEqual(offenders, []);
  });

  it("has no import cycles in src/ and jobs/", () => {
    const files = [...sourceFiles(path.join(PROJECT_DIR, "src")), ...sourceFiles(path.join(PROJECT_DIR, "jobs"))].map((f) => path.relative(PROJECT_DIR, f));
    const graph = new Map(files.map((f) => [f, importsOf(path.join(PROJECT_DIR, f)).filter((i) => i.endsWith(".ts"))]));
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]): void => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") { cycles.push([...stack.slice(stack.indexOf(f)), f].join(" → ")); return; }
      state.set(f, "open");
      for (const d of graph.get(f) ?? []) visit(d, [...stack, f]);
      state.set(f, "done");
    };
    for (const f of files) visit(f, []);
    assert.deepEqual(cycles, []);
  });

  it("writes GoogleSQL DDL for nested and repeated columns", () => {
    assert.equal(
      googleSqlColumns([
        { name: "date", type: "DATE", mode: "REQUIRED" },
        { name: "from", type: "STRING" },
        { name: "items", type: "RECORD", mode: "REPEATED", fields: [{ name: "item_id", type: "STRING" }, { name: "price", type: "FLOAT64" }] },
      ]),
      "date DATE NOT NULL, `from` STRING, items ARRAY<STRUCT<item_id STRING, price FLOAT64>>",
    );
  });

  it("creates missing inputs on BigQuery with the catalog schema, through the real client, and leaves existing ones", async () => {
    const fake = await startFakeBigQuery({ projectId: "p", location: "EU" });
    try {
      const engine = createBigQueryEngine({ projectId: "p", location: "EU", apiEndpoint: fake.url }, { authClient: fake.authClient() });
      fake.addTable("p.funnelcredit_sources.costs", [{ name: "date", type: "DATE" }]);
      // The GA4 export is never created on BigQuery (the GA4 link writes it, maybe in another project).
      const { settings } = loadProjectSettings(PROJECT_DIR);
      const created = await engine.createMissingTables(emptySourceTables(settings, "p"));
      assert.ok(created.includes("funnelcredit_sources.crm_transactions"));
      assert.ok(!created.includes("funnelcredit_sources.costs"));
      assert.ok(!created.some((c) => c.startsWith("ga4_export.")));
      const ddl = fake.requestsTo("jobs.insert").map((r) => (r.body as { configuration?: { query?: { query?: string } } }).configuration?.query?.query ?? "");
      const tx = ddl.find((q) => q.includes("crm_transactions"));
      assert.match(tx ?? "", /^CREATE TABLE IF NOT EXISTS `p\.funnelcredit_sources\.crm_transactions` \(transaction_id STRING, user_id STRING, client_id STRING, transaction_created TIMESTAMP, /);
      assert.ok(fake.datasets.has("p.funnelcredit_sources") || [...fake.datasets.keys()].some((k) => k.includes("funnelcredit_sources")), "the sources dataset is created");
    } finally {
      await fake.close();
    }
  });
});
