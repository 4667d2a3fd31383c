/**
 * `npm test`: every test file (test/**\/*.test.ts, test/soak/ left out), three at a time, the longest first.
 *
 * Three workers on 2 cores: with two, a fresh clone's CI took 1,045 s for 1,363 CPU s (as /usr/bin/time counts them,
 * without most of the Dataform compile workers' ≈ 200 s); with three, 982 s. The files wait on child processes (the
 * Dataform CLI, npm), on spilled DuckDB files and on the local BigQuery endpoint, and a third file fills some of it.
 *
 * mocha --parallel hands the files to its workers in the order given, so a long file started near the end
 * stretches the wall clock while the other worker sits idle. The files below, measured longest (CPU seconds inside
 * a parallel run, see the list), start first; every other file follows in path order. A listed file that does
 * not exist is an error, so a renamed test cannot silently drop out of the ordering. `npx mocha test/x.test.ts`
 * does not read this file (it reads .mocharc.json).
 */
const { readdirSync, readFileSync, existsSync } = require("node:fs");
const path = require("node:path");
const base = require("./.mocharc.json");

/**
 * Longest first. The figures are CPU seconds of each file inside one parallel `npm test` run (session 26, work tree,
 * 14 min 34 s at 189 % CPU on 2 cores: a mocha root hook reading the worker's /proc/self/stat around each file, user +
 * sys with reaped children, so CLI children count but Dataform's compile workers and the ZetaSQL server do not), then
 * its wall seconds in that run. Files below 16 CPU s follow in path order. The order matters only roughly: the long
 * files must not start last (in that run two files not listed, 42 and 45 CPU s, started in the last 90 seconds).
 */
const LONGEST_FIRST = [
  "test/bigquery-dag.test.ts", // 168 CPU s, 299 s: the whole DAG on the strict local BigQuery and DuckDB, several times
  "test/readme-commands.test.ts", // 117 CPU s, 171 s: the README's reduced demo and every example as processes in a fresh copy
  "test/cli-daily.test.ts", // 63 CPU s, 94 s: a demo and some twenty CLI runs
  "test/ml-attribution-job.test.ts", // 63 CPU s, 92 s: the ML attribution job under several var sets
  "test/incremental-equivalence.test.ts", // 55 CPU s, 83 s: daily runs and a full refresh, 1,500 users
  "test/custom-events-doc.test.ts", // 55 CPU s, 84 s: docs/custom-events.md in a fresh copy
  "test/incremental-definitions.test.ts", // 54 CPU s, 88 s: a demo and CLI runs, fixtures on DuckDB and the strict BigQuery
  "test/pipeline.test.ts", // 46 CPU s, 83 s: demo 4,000 × 21, report in Chromium, a second full run
  "test/scoring-sql.test.ts", // 45 CPU s, 65 s
  "test/sql-credit-bootstrap.test.ts", // 45 CPU s, 66 s
  "test/identity-horizon.test.ts", // 46 CPU s, 38 s alone (session 27, not yet measured in a parallel run): demo runs, the strict BigQuery
  "test/dataform-cli.test.ts", // 42 CPU s, 64 s: runs of the real Dataform CLI
  "test/same-output-edits.test.ts", // 42 CPU s, 66 s
  "test/cli.test.ts", // 39 CPU s, 56 s: demo 4,000 × 21 through the CLI
  "test/custom-sources.test.ts", // 38 CPU s, 64 s
  "test/run-records.test.ts", // 36 CPU s, 54 s
  "test/lead-champion.test.ts", // 36 CPU s, 50 s
  "test/reliability-resume.test.ts", // 31 CPU s, 51 s
  "test/demo.test.ts", // 30 CPU s, 43 s
  "test/ga4-import-batches.test.ts", // 28 CPU s, 47 s
  "test/lead-web-behaviour.test.ts", // 27 CPU s, 45 s
  "test/benchmark.test.ts", // 27 CPU s, 36 s
  "test/googlesql-all-layers.test.ts", // 26 CPU s, 36 s
  "test/self-controlled.test.ts", // 25 CPU s, 42 s
  "test/warehouse-incremental.test.ts", // 20 CPU s, 37 s
  "test/reliability-safety.test.ts", // 19 CPU s, 32 s
  "test/model-registry.test.ts", // 18 CPU s, 25 s
  "test/warehouse-funnel.test.ts", // 17 CPU s, 32 s
  "test/join-plans.test.ts", // 17 CPU s, 25 s
  "test/bi-lookml.test.ts", // 17 CPU s, 24 s
  "test/catalog.test.ts", // 16 CPU s, 24 s
  "test/import-csv-reader-path.test.ts", // 16 CPU s, 22 s
];

const all = readdirSync(path.join(__dirname, "test"), { recursive: true })
  .map((f) => path.join("test", f).split(path.sep).join("/"))
  .filter((f) => f.endsWith(".test.ts") && !f.startsWith("test/soak/"))
  .sort();
const missing = LONGEST_FIRST.filter((f) => !existsSync(path.join(__dirname, f)));
if (missing.length) throw new Error(`.mocharc.suite.cjs lists test files that do not exist: ${missing.join(", ")}`);

// A test file imported by another registers its describe blocks a second time in the importing file's worker, unless
// that worker had already loaded it: the suite's test count then depends on scheduling (it moved between 1,088 and
// 1,092 in equal runs). Shared test code lives in test/support/ or test/fixtures/.
const importsTestFile = all.filter((f) => /from\s+["'][^"']*\.test(\.ts)?["']/.test(readFileSync(path.join(__dirname, f), "utf8")));
if (importsTestFile.length) throw new Error(`.mocharc.suite.cjs: these test files import another test file (move the shared code to test/support/): ${importsTestFile.join(", ")}`);

module.exports = {
  ...base,
  parallel: true,
  jobs: 3,
  spec: [...LONGEST_FIRST, ...all.filter((f) => !LONGEST_FIRST.includes(f))],
};
