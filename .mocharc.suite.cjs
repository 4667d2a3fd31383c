/**
 * `npm test`: every test file (test/**\/*.test.ts, test/soak/ left out), three at a time, the longest first.
 *
 * Three workers on 2 cores: with two, a fresh clone's CI took 1,045 s for 1,363 CPU s (as /usr/bin/time counts them,
 * without most of the Dataform compile workers' ≈ 200 s); with three, 982 s. The files wait on child processes (the
 * Dataform CLI, npm), on spilled DuckDB files and on the local BigQuery endpoint, and a third file fills some of it.
 *
 * mocha --parallel hands the files to its workers in the order given, so a long file started near the end
 * stretches the wall clock while the other worker sits idle. The files below, measured longest (CPU seconds of
 * `mocha FILE` alone, see the list), start first; every other file follows in path order. A listed file that does
 * not exist is an error, so a renamed test cannot silently drop out of the ordering. `npx mocha test/x.test.ts`
 * does not read this file (it reads .mocharc.json).
 */
const { readdirSync, existsSync } = require("node:fs");
const path = require("node:path");
const base = require("./.mocharc.json");

/**
 * Longest first. Measured alone (`/usr/bin/time -v npx mocha FILE`, user + sys CPU seconds, which leave out the
 * Dataform CLI's compile worker, ~6 s a compile) or, where marked ~, ranked by the work the file does (sample size ×
 * full pipeline runs); the order matters only roughly: the long files must not start last.
 */
const LONGEST_FIRST = [
  // 156–201 CPU s at load 10–22 (was 307 side by side; 187–230 with the compile workers, was 349): the README's demo
  // (2,000 × 14) and every example in a fresh copy, the benchmark example's 4 small worlds the largest part (≈ 72)
  "test/readme-commands.test.ts",
  "test/bigquery-dag.test.ts", // 170 CPU s: the whole DAG on the strict local BigQuery and DuckDB, several times
  // ≈ 90 CPU s whole-tree (measured by the lead, was not listed and so started among the last): five compiles, the
  // self-controlled credit on fixtures and a demo on DuckDB and the strict local BigQuery
  "test/self-controlled.test.ts",
  "test/incremental-equivalence.test.ts", // 78 CPU s: four daily runs and a full refresh, 1,500 users
  "test/dataform-cli.test.ts", // 51 CPU s + five runs of the real Dataform CLI (each compiles)
  "test/custom-events-doc.test.ts", // 61 CPU s (ciwall2, load 7–22; was not listed)
  "test/warehouse-incremental.test.ts", // 33 CPU s + five compiles: many staging runs
  "test/scoring-sql.test.ts", // 55 CPU s: demo 4,000 users × 21 days, then the strict local BigQuery
  "test/pipeline.test.ts", // 45 CPU s: demo 4,000 × 21, report in Chromium, a second full run
  "test/cli.test.ts", // 46 CPU s: demo 4,000 × 21 through the CLI
  "test/cli-daily.test.ts", // 50 CPU s (ciwall2, load 7–22): a demo and some twenty CLI runs
  "test/googlesql-all-layers.test.ts", // 32 CPU s: demo 4,000 × 21, every statement through ZetaSQL
  "test/benchmark.test.ts", // ~ simulated worlds, the benchmark CLI
  "test/lead-scoring.test.ts", // ~ demo 4,000 × 21
  "test/pipeline-credit.test.ts", // ~ demo 4,000 × 21
  "test/run-records.test.ts", // ~ demo 3,000 × 21 through the CLI
  "test/lead-leakage.test.ts", // ~ demo 3,000 × 21
];

const all = readdirSync(path.join(__dirname, "test"), { recursive: true })
  .map((f) => path.join("test", f).split(path.sep).join("/"))
  .filter((f) => f.endsWith(".test.ts") && !f.startsWith("test/soak/"))
  .sort();
const missing = LONGEST_FIRST.filter((f) => !existsSync(path.join(__dirname, f)));
if (missing.length) throw new Error(`.mocharc.suite.cjs lists test files that do not exist: ${missing.join(", ")}`);

module.exports = {
  ...base,
  parallel: true,
  jobs: 3,
  spec: [...LONGEST_FIRST, ...all.filter((f) => !LONGEST_FIRST.includes(f))],
};
