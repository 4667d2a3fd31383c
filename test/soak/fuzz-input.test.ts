/**
 * Soak (npm run test:soak): the importer + staging fuzz round of test/reliability-fuzz.test.ts over
 * many seeds and bigger files. FC_SOAK_FUZZ_SEEDS (default 30) and FC_SOAK_FUZZ_ROWS (default 5000).
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compiledProject, memoryEngine } from "../support/warehouse.ts";
import { fuzzRound } from "../support/fuzz.ts";

describe("soak: fuzzed input never loses a good row", function () {
  this.timeout(0);
  const seeds = Number(process.env.FC_SOAK_FUZZ_SEEDS ?? 30);
  const rows = Number(process.env.FC_SOAK_FUZZ_ROWS ?? 5000);
  it(`quarantines exactly the bad rows over ${seeds} seeds of ${rows} rows per file`, async () => {
    const project = await compiledProject();
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-soak-fuzz-"));
    for (let seed = 100; seed < 100 + seeds; seed++) {
      const engine = await memoryEngine();
      try {
        await fuzzRound(project, engine, dir, seed, rows);
      } finally {
        await engine.close();
      }
    }
  });
});
