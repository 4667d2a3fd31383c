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
 * Longest first. The figures are CPU seconds of each file inside one parallel `npm test` run (ci15, 14:48–15:41, load
 * 7–24 on 2 cores: a mocha root hook reading the worker's /proc/self/stat, user + sys with reaped children, so CLI
 * children count but Dataform's compile workers, ≈ 4–5 CPU s a compile, do not; the number of compiles is given where a
 * file makes many), then its wall seconds in that run. Files below ≈ 19 CPU s follow in path order. The order matters
 * only roughly: the long files must not start last.
 */
const LONGEST_FIRST = [
  // Failed early in that run (a clone without ../shared/data); ciwall2: 148 CPU s inside a parallel run, 187–230
  // whole-tree alone: the README's demo (2,000 × 14) and every example in a fresh copy, the benchmark example's 4 small
  // worlds the largest part (≈ 72)
  "test/readme-commands.test.ts",
  "test/bigquery-dag.test.ts", // 186 CPU s, 1,294 s: the whole DAG on the strict local BigQuery and DuckDB, several times
  "test/incremental-equivalence.test.ts", // 95 CPU s, 607 s: four daily runs and a full refresh, 1,500 users
  "test/custom-events-doc.test.ts", // 73 CPU s, 489 s: docs/custom-events.md in a fresh copy
  "test/pipeline.test.ts", // 72 CPU s, 442 s: demo 4,000 × 21, report in Chromium, a second full run
  "test/ml-attribution-job.test.ts", // 69 CPU s, 242 s (was not listed): the ML attribution job under several var sets
  "test/cli-daily.test.ts", // 64 CPU s, 449 s: a demo and some twenty CLI runs
  // 65 CPU s, 97 s at load 7 (alone): a demo 150 × 6 and five CLI runs, fixtures on DuckDB, the strict BigQuery
  "test/incremental-definitions.test.ts",
  "test/cli.test.ts", // 59 CPU s, 355 s: demo 4,000 × 21 through the CLI
  // 31 CPU s + 4 compiles, 220 s: the self-controlled credit on fixtures and a demo on DuckDB and the strict BigQuery
  "test/self-controlled.test.ts",
  "test/googlesql-all-layers.test.ts", // 48 CPU s, 327 s: demo 4,000 × 21, every statement through ZetaSQL
  "test/run-records.test.ts", // 44 CPU s, 232 s: demo 3,000 × 21 through the CLI
  "test/dataform-cli.test.ts", // 41 CPU s, 274 s + five runs of the real Dataform CLI (each compiles)
  "test/custom-sources.test.ts", // 38 CPU s, 157 s (was not listed)
  "test/lead-champion.test.ts", // 38 CPU s, 113 s (was not listed)
  "test/warehouse-incremental.test.ts", // 36 CPU s + five compiles, 326 s: many staging runs
  "test/channel-markov-steps.test.ts", // 17 CPU s + nine compiles, 248 s (was not listed): one per Markov var set
  "test/benchmark.test.ts", // 35 CPU s, 255 s: simulated worlds, the benchmark CLI
  "test/scoring-sql.test.ts", // 35 CPU s, 175 s without its X Education part (failed there, no data); 47 in ciwall2's run
  "test/demo.test.ts", // 34 CPU s, 96 s (was not listed)
  "test/warehouse-funnel.test.ts", // 32 CPU s, 186 s (was not listed)
  "test/reliability-resume.test.ts", // 31 CPU s, 113 s (was not listed)
  "test/compile-cache.test.ts", // 12 CPU s + eight compiles in its own folders, 194 s (was not listed)
  "test/join-plans.test.ts", // ≈ 17 CPU s, 28–42 s: demo 1,500 × 14, every statement planned
  "test/lead-scoring.test.ts", // 19 CPU s, 194 s: demo 4,000 × 21
  "test/lead-leakage.test.ts", // 16 CPU s, 103 s: demo 3,000 × 21
  "test/pipeline-credit.test.ts", // 16 CPU s, 140 s: demo 4,000 × 21
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
