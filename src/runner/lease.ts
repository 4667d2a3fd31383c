/**
 * One writer per warehouse: a lease file beside the DuckDB file holding {pid, host, runId,
 * expiresAt}, created exclusively and renewed while the run lives. A second run waits for it or
 * exits with a clear message; a lease left by a dead process (same host, pid gone) or past its
 * expiry is taken over.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, writeFileSync, renameSync } from "node:fs";
import os from "node:os";
import { UserError } from "../util/errors.ts";

export interface LeaseInfo { pid: number; host: string; runId: string; expiresAt: string }
export interface Lease { release(): void; info: LeaseInfo }

export class LeaseHeldError extends UserError {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function read(file: string): LeaseInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LeaseInfo;
  } catch {
    return undefined;
  }
}

/** Whether a lease can be taken over: expired, or its process on this host is gone. */
export function isStale(info: LeaseInfo | undefined, now = Date.now()): boolean {
  if (!info) return true;
  if (Date.parse(info.expiresAt) < now) return true;
  return info.host === os.hostname() && !alive(info.pid);
}

export async function acquireLease(
  file: string,
  runId: string,
  opts: { ttlMs?: number; waitMs?: number; pollMs?: number } = {},
): Promise<Lease> {
  const ttl = opts.ttlMs ?? 120_000;
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const mine = (): LeaseInfo => ({ pid: process.pid, host: os.hostname(), runId, expiresAt: new Date(Date.now() + ttl).toISOString() });
  for (;;) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, JSON.stringify(mine()));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const held = read(file);
      if (isStale(held)) {
        // Take over atomically: whoever renames last wins, and then re-checks below.
        const tmp = `${file}.${process.pid}`;
        writeFileSync(tmp, JSON.stringify(mine()));
        renameSync(tmp, file);
        if (read(file)?.pid === process.pid) break;
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LeaseHeldError(
          `the warehouse is in use by run ${held!.runId} (pid ${held!.pid} on ${held!.host}, lease until ${held!.expiresAt}); ` +
            `wait for it, or pass --wait-for-lease SECONDS to queue behind it`,
        );
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    }
  }
  let info = mine();
  const timer = setInterval(() => {
    info = mine();
    try { writeFileSync(file, JSON.stringify(info)); } catch { /* renewal is best effort */ }
  }, Math.max(1000, ttl / 3));
  timer.unref();
  return {
    get info() { return info; },
    release() {
      clearInterval(timer);
      if (read(file)?.pid === process.pid) {
        try { unlinkSync(file); } catch { /* already gone */ }
      }
    },
  };
}
