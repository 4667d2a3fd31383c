/**
 * One writer per warehouse: a lease file beside the DuckDB file holding {pid, host, runId,
 * expiresAt}, created exclusively and renewed while the run lives. A second run waits for it or
 * exits with a clear message; a lease left by a dead process (same host, pid gone) or past its
 * expiry is taken over.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, writeFileSync, renameSync, mkdirSync, rmdirSync, statSync } from "node:fs";
import path from "node:path";
import os from "node:os";
import { LeaseHeldError, type LeaseInfo } from "../lease.ts";

export { LeaseHeldError, type LeaseInfo };
interface Lease { release(): void; info: LeaseInfo }

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

/**
 * A lease file that cannot be read: either being written right now by its creator (young: not stale)
 * or left half-written by a process killed while creating it (old: stale).
 */
const UNREADABLE_GRACE_MS = 5_000;
function unreadableIsStale(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > UNREADABLE_GRACE_MS;
  } catch {
    return true;
  }
}

/** Whether a lease can be taken over: expired, or its process on this host is gone. */
export function isStale(info: LeaseInfo | undefined, now = Date.now()): boolean {
  if (!info) return true;
  if (Date.parse(info.expiresAt) < now) return true;
  return info.host === os.hostname() && !alive(info.pid);
}

/**
 * Replace a stale lease with ours. Several processes may find the same stale lease at once: a
 * takeover lock (a directory, created exclusively) lets one of them re-check and replace it, so two
 * never both believe they hold the lease. A takeover lock older than TAKEOVER_LOCK_MS was left by a
 * process killed mid-takeover and is removed.
 */
const TAKEOVER_LOCK_MS = 10_000;
function takeOver(file: string, seen: LeaseInfo | undefined, mine: () => LeaseInfo): boolean {
  const lock = `${file}.takeover`;
  try {
    mkdirSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    try {
      if (Date.now() - statSync(lock).mtimeMs > TAKEOVER_LOCK_MS) rmdirSync(lock);
    } catch { /* someone else removed it */ }
    return false;
  }
  try {
    const now = read(file);
    // Someone else took it over (or released it) between our read and our lock: start again.
    if (JSON.stringify(now) !== JSON.stringify(seen) || !(now ? isStale(now) : unreadableIsStale(file))) return false;
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(mine()));
    renameSync(tmp, file);
    return read(file)?.pid === process.pid;
  } finally {
    try { rmdirSync(lock); } catch { /* already gone */ }
  }
}

export async function acquireLease(
  file: string,
  runId: string,
  opts: { ttlMs?: number; waitMs?: number; pollMs?: number } = {},
): Promise<Lease> {
  const ttl = opts.ttlMs ?? 120_000;
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const mine = (): LeaseInfo => ({ pid: process.pid, host: os.hostname(), runId, expiresAt: new Date(Date.now() + ttl).toISOString() });
  // The first run on a fresh clone: the warehouse folder does not exist yet.
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  for (;;) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, JSON.stringify(mine()));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const held = read(file);
      if (held ? isStale(held) : unreadableIsStale(file)) {
        if (takeOver(file, held, mine)) break;
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
        continue;
      }
      if (Date.now() >= deadline) {
        if (!held) throw new LeaseHeldError(`the warehouse lease ${file} is being taken by another run; try again, or pass --wait-for-lease SECONDS`);
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
    // Renew only a lease that is still ours, and by rename so a reader never sees a half-written file.
    if (read(file)?.pid !== process.pid) return;
    info = mine();
    try {
      const tmp = `${file}.${process.pid}`;
      writeFileSync(tmp, JSON.stringify(info));
      renameSync(tmp, file);
    } catch { /* renewal is best effort */ }
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
