/**
 * A child process for the lease tests: take the lease on argv[2], log "start"/"end" lines with
 * times to argv[3], hold it argv[4] ms, release. Exit code 3 when the lease was refused.
 */
import { appendFileSync } from "node:fs";
import { acquireLease, LeaseHeldError } from "../../src/engines/duckdb/file-lease.ts";

const [file, log, holdMs, waitMs] = process.argv.slice(2);
try {
  const lease = await acquireLease(file!, `holder-${process.pid}`, { waitMs: Number(waitMs ?? 0), pollMs: 20 });
  appendFileSync(log!, `start ${process.pid} ${Date.now()}\n`);
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  appendFileSync(log!, `end ${process.pid} ${Date.now()}\n`);
  lease.release();
} catch (e) {
  if (e instanceof LeaseHeldError) {
    process.stderr.write(e.message + "\n");
    process.exit(3);
  }
  throw e;
}
