/**
 * The dataset lease of shared warehouses (BigQuery): a row taken by one conditional MERGE. The same
 * GoogleSQL runs here on DuckDB (and is checked by ZetaSQL), so its logic is tested on a real engine.
 */
import assert from "node:assert/strict";
import { acquireTableLease, leaseStatements } from "../src/engines/bigquery/table-lease.ts";
import { LeaseHeldError } from "../src/engines/lease.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { memoryEngine } from "./support/warehouse.ts";
import { startZetaSQL } from "./support/zetasql.ts";

const T = { database: "p", schema: "fc_meta", name: "run_lease" };

describe("reliability: dataset lease in a warehouse table", function () {
  this.timeout(60_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => engine.close());

  it("lets one run hold the dataset and refuses a second with a message naming the holder", async () => {
    const a = await acquireTableLease(engine, T, "run-a");
    await assert.rejects(acquireTableLease(engine, T, "run-b"), (e: unknown) =>
      e instanceof LeaseHeldError && /in use by run run-a .*--wait-for-lease/.test(e.message));
    await a.release();
    const b = await acquireTableLease(engine, T, "run-b");
    assert.equal(b.info.runId, "run-b");
    await b.release();
    assert.deepEqual(await engine.query("SELECT COUNT(*) AS n FROM `p.fc_meta.run_lease`"), [{ n: 0 }]);
  });

  it("lets a waiting run in once the holder releases", async () => {
    const a = await acquireTableLease(engine, T, "run-a");
    setTimeout(() => void a.release(), 300);
    const b = await acquireTableLease(engine, T, "run-b", { waitMs: 5000, pollMs: 100 });
    assert.equal(b.info.runId, "run-b");
    await b.release();
  });

  it("tries its release again when the DELETE meets a concurrent change, so the next run need not wait for expiry", async () => {
    const a = await acquireTableLease(engine, T, "run-a", { pollMs: 50 });
    // BigQuery refuses one of two conflicting mutations of a table: the first DELETE fails as such a refusal would.
    const execute = engine.execute.bind(engine);
    let refused = 0;
    engine.execute = async (statements, opts) => {
      if (refused === 0 && statements.some((s) => s.startsWith("DELETE"))) {
        refused++;
        throw new Error("Could not serialize access to table p:fc_meta.run_lease due to concurrent update");
      }
      return execute(statements, opts);
    };
    await a.release();
    assert.equal(refused, 1, "the first DELETE was refused");
    assert.deepEqual(await engine.query("SELECT COUNT(*) AS n FROM `p.fc_meta.run_lease`"), [{ n: 0 }], "the lease row is gone after the retry");
  });

  it("takes over a lease left by a dead run once it expires, and not before", async () => {
    // What a killed run leaves: its row, taken with a 1 s lease, and nobody renewing it.
    const dead = leaseStatements(T, { runId: "run-dead", host: "other-host", pid: 4242, expiresAt: "" }, 1);
    await engine.ensureDataset(T.database, T.schema);
    await engine.execute([dead.create]);
    await engine.execute([dead.take]);
    await assert.rejects(acquireTableLease(engine, T, "run-next"), (e: unknown) => e instanceof LeaseHeldError && /run-dead \(pid 4242 on other-host/.test(e.message));
    await new Promise((r) => setTimeout(r, 1500));
    const next = await acquireTableLease(engine, T, "run-next");
    assert.equal(next.info.runId, "run-next");
    // The dead run's late release deletes nothing that is not its own.
    await engine.execute([dead.release]);
    assert.deepEqual(await engine.query("SELECT run_id FROM `p.fc_meta.run_lease`"), [{ run_id: "run-next" }]);
    await next.release();
  });

  it("is valid GoogleSQL (ZetaSQL analyzer)", async () => {
    const zeta = await startZetaSQL();
    try {
      const sql = leaseStatements(T, { runId: "r'; DROP TABLE x; --", host: "h", pid: 1, expiresAt: "" }, 120);
      const tables = { "p.fc_meta.run_lease": [{ name: "lease_key", type: "STRING" }, { name: "run_id", type: "STRING" }, { name: "host", type: "STRING" }, { name: "pid", type: "INT64" }, { name: "expires_at", type: "TIMESTAMP" }] };
      for (const s of [sql.take, sql.renew, sql.release, sql.read]) {
        const r = await zeta.analyze(s, { tables });
        assert.ok(r.ok, `${s}\n${r.ok ? "" : r.error}`);
      }
    } finally {
      await zeta.stop();
    }
  });
});
