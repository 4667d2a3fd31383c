/**
 * One run at a time per dataset on a shared warehouse (BigQuery): a lease row in
 * `<base>_meta.run_lease`, taken with one conditional MERGE (atomic in the warehouse), renewed while
 * the run lives and deleted when it ends. Another process cannot be checked for liveness across
 * machines, so a lease left by a dead run is taken over once it expires (ttl, default 120 s, renewed
 * every ttl/3). The statements are plain GoogleSQL (tested on DuckDB too). The DuckDB file has its own
 * file lease (../duckdb/file-lease.ts) because it has one writer anyway.
 */
import os from "node:os";
import type { Engine, Target } from "../engine.ts";
import { qualified } from "../engine.ts";
import { sqlString } from "../../util/sql.ts";
import { LeaseHeldError, type LeaseInfo } from "../lease.ts";

interface TableLease {
  info: LeaseInfo;
  /** Delete the lease row (awaited before the engine closes). */
  release(): Promise<void>;
}

export const RUN_LEASE_TABLE = "run_lease";
const RELEASE_ATTEMPTS = 3;

export function leaseStatements(t: Target, holder: LeaseInfo, ttlSeconds: number): { create: string; take: string; renew: string; release: string; read: string } {
  const table = qualified(t);
  const me = sqlString(holder.runId);
  return {
    create: `CREATE TABLE IF NOT EXISTS ${table} (lease_key STRING, run_id STRING, host STRING, pid INT64, expires_at TIMESTAMP)`,
    // Take the lease when nobody holds it or the holder's lease expired; otherwise change nothing.
    take: [
      `MERGE ${table} AS lease_row`,
      `USING (SELECT 'dataset' AS lease_key, ${me} AS run_id, ${sqlString(holder.host)} AS host, ${holder.pid} AS pid,`,
      `  TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL ${ttlSeconds} SECOND) AS expires_at) AS candidate`,
      `ON lease_row.lease_key = candidate.lease_key`,
      `WHEN MATCHED AND (lease_row.expires_at < CURRENT_TIMESTAMP() OR lease_row.run_id = candidate.run_id) THEN`,
      `  UPDATE SET run_id = candidate.run_id, host = candidate.host, pid = candidate.pid, expires_at = candidate.expires_at`,
      `WHEN NOT MATCHED THEN INSERT (lease_key, run_id, host, pid, expires_at)`,
      `  VALUES (candidate.lease_key, candidate.run_id, candidate.host, candidate.pid, candidate.expires_at)`,
    ].join("\n"),
    renew: `UPDATE ${table} SET expires_at = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL ${ttlSeconds} SECOND) WHERE lease_key = 'dataset' AND run_id = ${me}`,
    release: `DELETE FROM ${table} WHERE lease_key = 'dataset' AND run_id = ${me}`,
    read: `SELECT run_id, host, pid, expires_at FROM ${table} WHERE lease_key = 'dataset'`,
  };
}

export async function acquireTableLease(
  engine: Engine,
  target: Target,
  runId: string,
  opts: { ttlMs?: number; waitMs?: number; pollMs?: number } = {},
): Promise<TableLease> {
  const ttlSeconds = Math.max(1, Math.round((opts.ttlMs ?? 120_000) / 1000));
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const info: LeaseInfo = { pid: process.pid, host: os.hostname(), runId, expiresAt: "" };
  const sql = leaseStatements(target, info, ttlSeconds);
  await engine.ensureDataset(target.database, target.schema);
  await engine.execute([sql.create], { action: "lease" });
  for (;;) {
    try {
      await engine.execute([sql.take], { action: "lease" });
    } catch {
      // Two runs merging at once: the warehouse serialises or refuses one; read who won below.
    }
    const [holder] = await engine.query(sql.read, { action: "lease" });
    if (holder && holder.run_id === runId) {
      info.expiresAt = holder.expires_at instanceof Date ? holder.expires_at.toISOString() : String(holder.expires_at);
      break;
    }
    if (Date.now() >= deadline) {
      const until = holder?.expires_at instanceof Date ? holder.expires_at.toISOString() : String(holder?.expires_at);
      throw new LeaseHeldError(
        `dataset ${target.schema} is in use by run ${String(holder?.run_id)} (pid ${String(holder?.pid)} on ${String(holder?.host)}, lease until ${until}); ` +
          `wait for it, or pass --wait-for-lease SECONDS to queue behind it`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
  }
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = engine.execute([sql.renew], { action: "lease" }).catch(() => undefined);
  }, Math.max(1000, (ttlSeconds * 1000) / 3));
  timer.unref();
  return {
    info,
    async release() {
      clearInterval(timer);
      await renewing;
      // A DELETE can meet a concurrent DML on the table (BigQuery refuses one of two conflicting mutations): try
      // again, then give up — a lease that cannot be deleted expires by itself.
      for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
        try {
          await engine.execute([sql.release], { action: "lease" });
          return;
        } catch {
          if (attempt < RELEASE_ATTEMPTS) await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
        }
      }
    },
  };
}
