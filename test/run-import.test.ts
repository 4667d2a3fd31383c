/**
 * `run --import KIND=FILE`: the import and the run in one process (one start-up, one warehouse open), ending in
 * the state the two commands `import KIND FILE` and `run` leave; a file that cannot be imported stops the command
 * before the run, with the warehouse as it was.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli as cli } from "./support/cli.ts";
import { SHARED_DATA, readWarehouseFile } from "./support/warehouse.ts";

const PATH_DATA = path.join(SHARED_DATA, "channelattribution-pathdata", "PathData.csv");
const RUN = ["--vars", "path_source=import", "--actions", "channel_paths", "channel_markov"];

const STATE = [
  "SELECT * FROM funnelcredit_sources.channel_paths_import ORDER BY ALL",
  "SELECT * FROM funnelcredit_intermediate.channel_paths ORDER BY ALL",
  "SELECT * FROM funnelcredit_models.markov_removal_effects ORDER BY ALL",
  "SELECT * FROM funnelcredit_models.markov_transition_matrix ORDER BY ALL",
];

describe("run --import KIND=FILE", function () {
  this.timeout(300_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-run-import-"));
  const at = (name: string): string[] => ["--warehouse", path.join(dir, `${name}.duckdb`), "--artifacts", path.join(dir, `${name}-artifacts`)];

  it("leaves the tables `import` then `run` leave, and logs the import under the run's id", async () => {
    const imported = cli(["import", "paths", PATH_DATA, ...at("two")]);
    assert.equal(imported.code, 0, imported.stderr.slice(-2000));
    const ran = cli(["run", ...RUN, ...at("two")]);
    assert.equal(ran.code, 0, ran.stderr.slice(-2000));

    const one = cli(["run", "--json", "--import", `paths=${PATH_DATA}`, ...RUN, ...at("one")]);
    assert.equal(one.code, 0, one.stderr.slice(-2000));
    const lines = one.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { message?: string; runId?: string; event?: string; status?: string });
    const importLine = lines.find((l) => l.message?.startsWith("imported 10,000 rows into funnelcredit_sources.channel_paths_import"));
    assert.ok(importLine, `no import line in ${one.stdout.slice(0, 2000)}`);
    const finished = lines.find((l) => l.event === "run_finished");
    assert.equal(finished?.status, "succeeded", one.stdout.slice(-2000));
    assert.equal(importLine.runId, finished?.runId, "the import line carries the run's id");

    const [two, single] = [await readWarehouseFile(path.join(dir, "two.duckdb"), STATE), await readWarehouseFile(path.join(dir, "one.duckdb"), STATE)];
    for (let i = 0; i < STATE.length; i++) {
      assert.ok(JSON.parse(two[i]!).length > 0, `${STATE[i]}: empty`);
      assert.equal(single[i], two[i], `${STATE[i]} differs`);
    }
  });

  it("stops before the run when a file cannot be imported, leaving the warehouse as it was", async () => {
    const bad = path.join(dir, "bad.csv");
    writeFileSync(bad, "path,total_conversions,total_conversion_value,total_null\na > b,1,2.5,0\nb,not-a-number,1,0\n");
    const good = cli(["run", "--import", `paths=${PATH_DATA}`, ...RUN, ...at("stop")]);
    assert.equal(good.code, 0, good.stderr.slice(-2000));
    const before = await readWarehouseFile(path.join(dir, "stop.duckdb"), [...STATE, "SELECT COUNT(*) AS n FROM funnelcredit_meta.run_history"]);
    const r = cli(["run", "--import", `paths=${bad}`, "--vars", "import_bad_rows=reject", ...RUN, ...at("stop")]);
    assert.equal(r.code, 2, r.stderr.slice(-2000));
    assert.match(r.stderr, /bad\.csv/, "the error names the file");
    assert.match(r.stderr, /total_conversions/, "the error names the field");
    assert.doesNotMatch(r.stderr, /SUCCEEDED|FAILED/, "no run started");
    const after = await readWarehouseFile(path.join(dir, "stop.duckdb"), [...STATE, "SELECT COUNT(*) AS n FROM funnelcredit_meta.run_history"]);
    assert.deepEqual(after, before, "the imported table, the run's outputs and the run history are unchanged");
  });

  it("refuses what it cannot do, naming the option (exit 2)", () => {
    const cases: [string[], RegExp][] = [
      [["--import", `leads=${PATH_DATA}`], /--import "leads=.*": the kind is one of .*paths.*--id-column/],
      [["--import", PATH_DATA], /--import ".*PathData\.csv": expected KIND=FILE/],
      [["--import", `paths=${PATH_DATA}`, "--dry-run"], /--import with --dry-run/],
      [["--import", `paths=${PATH_DATA}`, "--resume", "20240101T000000-abcdef12"], /--import with --resume/],
    ];
    for (const [args, message] of cases) {
      const r = cli(["run", ...args, ...RUN, ...at("refused")]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr.slice(-1000)}`);
      assert.match(r.stderr, message, args.join(" "));
    }
  });
});
