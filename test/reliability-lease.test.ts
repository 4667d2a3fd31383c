/**
 * Promise 4 (overlapping runs are safe): one writer per warehouse. A second run waits for the lease
 * or exits with a clear message; a lease left by a dead process, or past its expiry, is taken over;
 * processes racing for a stale lease never both hold it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { acquireLease, isStale, LeaseHeldError } from "../src/engines/duckdb/file-lease.ts";
import { PROJECT_DIR } from "./support/warehouse.ts";
import { runCli } from "./support/cli.ts";

const HOLDER = path.join(PROJECT_DIR, "test", "support", "lease-holder.ts");

/** A pid that certainly belongs to no process: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "0"]);
  return r.pid!;
}

function holder(file: string, log: string, holdMs: number, waitMs = 0): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", HOLDER, file, log, String(holdMs), String(waitMs)], { cwd: PROJECT_DIR });
    let stderr = "";
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("reliability: warehouse lease", function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-lease-"));
    file = path.join(dir, "warehouse.duckdb.lease");
  });

  it("refuses a second holder with a message naming the run holding it and the --wait-for-lease option", async () => {
    const first = await acquireLease(file, "run-A");
    try {
      await assert.rejects(acquireLease(file, "run-B"), (e: Error) =>
        e instanceof LeaseHeldError && /in use by run run-A/.test(e.message) && /--wait-for-lease SECONDS/.test(e.message) && e.message.includes(`pid ${process.pid}`));
    } finally {
      first.release();
    }
    assert.equal(existsSync(file), false, "release removes the lease file");
  });

  it("lets a waiting run in as soon as the holder releases", async () => {
    const first = await acquireLease(file, "run-A");
    const t0 = Date.now();
    setTimeout(() => first.release(), 300);
    const second = await acquireLease(file, "run-B", { waitMs: 5_000, pollMs: 20 });
    assert.ok(Date.now() - t0 >= 250, "it waited");
    assert.equal(JSON.parse(readFileSync(file, "utf8")).runId, "run-B");
    second.release();
  });

  it("gives up waiting after --wait-for-lease seconds with the same clear message", async () => {
    const first = await acquireLease(file, "run-A");
    try {
      const t0 = Date.now();
      await assert.rejects(acquireLease(file, "run-B", { waitMs: 300, pollMs: 20 }), /in use by run run-A/);
      assert.ok(Date.now() - t0 >= 280);
    } finally {
      first.release();
    }
  });

  it("takes over a lease whose process died (SIGKILL leaves the file behind)", async () => {
    const pid = deadPid();
    writeFileSync(file, JSON.stringify({ pid, host: os.hostname(), runId: "killed-run", expiresAt: new Date(Date.now() + 3_600_000).toISOString() }));
    assert.equal(isStale(JSON.parse(readFileSync(file, "utf8"))), true);
    const lease = await acquireLease(file, "run-B");
    assert.equal(lease.info.runId, "run-B");
    lease.release();
  });

  it("takes over an expired lease from another host, and respects a live one", async () => {
    const other = { pid: 1, host: "some-other-host", runId: "remote-run" };
    writeFileSync(file, JSON.stringify({ ...other, expiresAt: new Date(Date.now() + 60_000).toISOString() }));
    await assert.rejects(acquireLease(file, "run-B"), /in use by run remote-run .* on some-other-host/);
    writeFileSync(file, JSON.stringify({ ...other, expiresAt: new Date(Date.now() - 1_000).toISOString() }));
    const lease = await acquireLease(file, "run-B");
    lease.release();
  });

  it("treats a half-written lease file as being taken (young) or abandoned (old)", async () => {
    writeFileSync(file, "");
    await assert.rejects(acquireLease(file, "run-B"), /being taken by another run/);
  });

  it("never lets two processes hold the lease at once, even racing for a stale one", async function () {
    this.timeout(60_000);
    const log = path.join(dir, "holds.log");
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: os.hostname(), runId: "dead", expiresAt: new Date(Date.now() + 3_600_000).toISOString() }));
    const results = await Promise.all([0, 1, 2, 3].map(() => holder(file, log, 150, 20_000)));
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0, 0], results.map((r) => r.stderr).join("\n"));
    const events = readFileSync(log, "utf8").trim().split("\n").map((l) => l.split(" ")).map(([kind, pid, t]) => ({ kind, pid, t: Number(t) }));
    assert.equal(events.length, 8);
    // Holds are strictly sequential: start A, end A, start B, end B, …
    for (let i = 0; i < events.length; i += 2) {
      assert.equal(events[i]!.kind, "start");
      assert.equal(events[i + 1]!.kind, "end");
      assert.equal(events[i]!.pid, events[i + 1]!.pid, `overlapping holds: ${JSON.stringify(events)}`);
    }
  });

  it("makes a second CLI run against the same warehouse exit with the clear message (exit code 2)", async function () {
    this.timeout(60_000);
    const warehouse = path.join(dir, "w.duckdb");
    const lease = await acquireLease(`${warehouse}.lease`, "scheduled-run-1");
    try {
      const r = runCli(["run", "--warehouse", warehouse, "--artifacts", path.join(dir, "art")]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /error: the warehouse is in use by run scheduled-run-1 .*--wait-for-lease SECONDS/);
      assert.equal(existsSync(warehouse), false, "the refused run never opened the warehouse");
    } finally {
      lease.release();
    }
  });
});

describe("lease on a fresh clone", () => {
  it("creates the warehouse folder when it does not exist yet (the first npm start)", async () => {
    const { mkdtempSync, existsSync } = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const { acquireLease } = await import("../src/engines/duckdb/file-lease.ts");
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), "fc-lease-")), ".funnelcredit", "nested");
    const lease = await acquireLease(path.join(dir, "warehouse.duckdb.lease"), "first-run");
    try {
      if (!existsSync(path.join(dir, "warehouse.duckdb.lease"))) throw new Error("lease file not written");
    } finally {
      lease.release();
    }
  });
});
