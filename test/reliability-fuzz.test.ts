/**
 * Promise 1, fuzzed: seeded files mixing good rows with malformed ones go through the importers in
 * quarantine mode and then the staging models. Every bad line is quarantined (and only those), and
 * every good row reaches staging (exact re-deliveries collapse to one, as designed). One seed here;
 * many seeds and bigger files in test/soak/fuzz-input.test.ts.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compiledProject, memoryEngine } from "./support/warehouse.ts";
import { fuzzRound } from "./support/fuzz.ts";

describe("reliability: fuzzed input through importers and staging", function () {
  this.timeout(120_000);
  it("quarantines exactly the malformed rows and drops no good one (seed 1, 400 rows per file)", async () => {
    const project = await compiledProject();
    const engine = await memoryEngine();
    try {
      await fuzzRound(project, engine, mkdtempSync(path.join(os.tmpdir(), "fc-fuzz-")), 1, 400);
    } finally {
      await engine.close();
    }
  });
});
