/**
 * npm run bench -- --imports — issue 15, target 4: `import transactions` and `import ga4` against DuckDB's own
 * CSV / JSON reader on the same file (into a table of the same types, in a file database like the warehouse).
 * Each measurement is a fresh child process; its CPU seconds are the process's own (all DuckDB threads) from
 * just before the read to just after the database is closed, so process start-up is not in them. Runs
 * alternate (reader, import, reader, import, …); medians. A file with one bad row: the import's reader still reads it
 * (the bad line checked again alone); DuckDB's reader reads it with its own error handling (CSV `store_rejects`, JSON
 * `ignore_errors`).
 * Transactions are measured at two sizes: the demo's (6,351 rows, `--tx-small-rows`), where the import's fixed
 * cost (reading the header, planning the checked read, describing the table) weighs, and `--tx-rows`, where the
 * read itself does. Peak RSS is printed for both sides (the GA4 importer streams in batches: it should stay near the reader's).
 *
 *   npm run bench -- --imports                                # 6,351 and 200k transactions, GA4 of 2,000 users × 20 days
 *   npm run bench -- --imports --tx-rows 1000000 --ga4-size 75000x60 --repeats 3   # the issue's 1M sizes (minutes)
 *   npm run bench -- --imports --ga4-file export.ndjson       # GA4 from a file already written
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { duckLocalLoading } from "../src/engines/duckdb/local-loading.ts";
import { GA4_EVENTS_SCHEMA } from "../src/import/ga4-schema.ts";
import { importCsvOrNdjson, importGa4 } from "../src/import/index.ts";
import { option as opt, median } from "./measure.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);

const TX_COLUMNS = "{'transaction_id': 'VARCHAR', 'user_id': 'VARCHAR', 'client_id': 'VARCHAR', 'transaction_created': 'TIMESTAMP', 'transaction_status': 'VARCHAR', 'transaction_revenue': 'DOUBLE', 'transaction_region': 'VARCHAR'}";

/** One measurement in this process: `--one <what> <file> <db>`; prints `BENCH:{cpu, seconds, peakMb, note}`. */
async function one(what: string, file: string, db: string): Promise<void> {
  const instance = await DuckDBInstance.create(db);
  const conn = await instance.connect();
  await conn.run("SET TimeZone='UTC'");
  const local = duckLocalLoading(conn);
  const lit = local.literal;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let note = "";
  // A file with a bad row: the reader's own way of keeping going (CSV: rejected rows stored with their line; JSON: skipped).
  if (what === "reader-csv" || what === "reader-csv-rejects") {
    const rejects = what === "reader-csv-rejects" ? ", store_rejects = true" : "";
    await conn.run(`CREATE TABLE t AS SELECT * FROM read_csv(${lit(file)}, header = true, auto_detect = false, delim = ',', columns = ${TX_COLUMNS}${rejects})`);
  } else if (what === "reader-json" || what === "reader-json-ignore") {
    const columns = `{${GA4_EVENTS_SCHEMA.map((c) => `${lit(c.name)}: ${lit(local.columnType(c))}`).join(", ")}}`;
    const ignore = what === "reader-json-ignore" ? ", ignore_errors = true" : "";
    await conn.run(`CREATE TABLE t AS SELECT * FROM read_json(${lit(file)}, format = 'newline_delimited', columns = ${columns}${ignore})`);
  } else if (what === "import-tx") {
    const r = await importCsvOrNdjson(local, "transactions", [file], { badRows: "quarantine" });
    note = `${r.rows} rows, ${r.quarantined} quarantined; ${r.files[0]!.read === "reader" ? "DuckDB's reader read it" : "read line by line"}`;
  } else if (what === "import-ga4") {
    const r = await importGa4(local, [file], { badRows: "quarantine" });
    note = `${r.rows} events, ${r.quarantined} quarantined; ${r.reader === "files" ? "the files" : "day files"} read${r.readWhileChecked ? " while checked" : " after the checks"}`;
  } else throw new Error(`unknown measurement ${what}`);
  conn.closeSync();
  instance.closeSync();
  const c = process.cpuUsage(c0);
  console.log(`BENCH:${JSON.stringify({ cpu: (c.user + c.system) / 1e6, seconds: (performance.now() - t0) / 1000, peakMb: process.resourceUsage().maxRSS / 1024, note })}`);
}

interface Figure { cpu: number; seconds: number; peakMb: number; note: string }

function child(what: string, file: string, dir: string): Figure {
  const db = path.join(dir, `${what}-${Date.now()}.duckdb`);
  const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [fileURLToPath(import.meta.url), "--one", what, file, db], { cwd: ROOT, encoding: "utf8", maxBuffer: 16 * 2 ** 20 });
  rmSync(db, { force: true });
  rmSync(db + ".wal", { force: true });
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("BENCH:"));
  if (r.status !== 0 || !line) throw new Error(`${what} ${file} failed (exit ${r.status}):\n${r.stderr?.slice(-3000)}`);
  return JSON.parse(line.slice(6)) as Figure;
}


async function makeFiles(dir: string): Promise<{ tx: string; txSmall: string; txBad: string; ga4: string; ga4Bad: string }> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  await conn.run("SET TimeZone='UTC'");
  const transactions = async (rows: number, tx: string): Promise<string> => {
    await conn.run(
      `COPY (SELECT 'T' || lpad(CAST(i AS VARCHAR), 8, '0') AS transaction_id, CASE WHEN i % 3 = 0 THEN NULL ELSE 'u' || (i % 50000) END AS user_id, ` +
        `(i % 90000) || '.' || (1700000000 + i % 1000) AS client_id, strftime(TIMESTAMP '2024-01-01' + to_seconds(i * 5), '%Y-%m-%d %H:%M:%S') AS transaction_created, ` +
        `CASE WHEN i % 10 = 0 THEN 'refunded' ELSE 'completed' END AS transaction_status, round(10 + (i * 7919 % 50000) / 100.0, 2) AS transaction_revenue, ` +
        `['north', 'south', 'east', 'west'][1 + i % 4] AS transaction_region FROM range(${rows}) t(i)) TO '${tx}' (HEADER, DELIMITER ',')`,
    );
    return tx;
  };
  const tx = await transactions(Number(opt("--tx-rows", "200000")), path.join(dir, "transactions.csv"));
  const txSmall = await transactions(Number(opt("--tx-small-rows", "6351")), path.join(dir, "transactions-small.csv"));
  // --ga4-file: an export already written (by an earlier run's demo, or a real one), so that repeated measurements
  // at the issue's size need not generate 600 MB each time.
  let ga4 = opt("--ga4-file", "");
  if (!ga4) {
    const [users, days] = opt("--ga4-size", "2000x20").split("x").map(Number) as [number, number];
    const { generateDemo } = await import("../src/demo/generate.ts");
    const demo = await generateDemo(duckLocalLoading(conn), { users, days, seed: 42 });
    ga4 = path.join(dir, "ga4.ndjson");
    const days_ = demo.tables.filter((t) => /\.events_\d{8}$/.test(t));
    await conn.run(`COPY (${days_.map((t) => `SELECT * FROM ${t}`).join(" UNION ALL ")}) TO '${ga4}' (FORMAT JSON)`);
  }
  conn.closeSync();
  instance.closeSync();
  // The same files with one bad row in the middle (a revenue that is not a number; an object as event_name). Copied
  // in chunks around that line: a GA4 file of the issue's size (18,000 users × 60 days, ≈ 600 MB) is longer than
  // the longest string Node can hold.
  const withBad = (src: string, dst: string, fix: (line: string) => string): string => {
    const newlines: number[] = [];
    const chunk = Buffer.alloc(1 << 20);
    const input = openSync(src, "r");
    for (let at = 0, n = 0; (n = readSync(input, chunk, 0, chunk.length, at)) > 0; at += n) {
      for (let i = chunk.indexOf(10, 0); i >= 0 && i < n; i = chunk.indexOf(10, i + 1)) newlines.push(at + i);
    }
    // Line k spans [start, end): the text between newline k - 1 and newline k (the last line ends at the file's end).
    const size = statSync(src).size;
    const mid = Math.floor((newlines.length + 1) / 2);
    const start = mid === 0 ? 0 : newlines[mid - 1]! + 1;
    const end = mid < newlines.length ? newlines[mid]! : size;
    const line = Buffer.alloc(end - start);
    readSync(input, line, 0, line.length, start);
    const output = openSync(dst, "w");
    const copy = (from: number, to: number): void => {
      for (let at = from; at < to; ) {
        const n = readSync(input, chunk, 0, Math.min(chunk.length, to - at), at);
        writeSync(output, chunk, 0, n);
        at += n;
      }
    };
    copy(0, start);
    writeSync(output, fix(line.toString("utf8")));
    copy(end, size);
    closeSync(output);
    closeSync(input);
    return dst;
  };
  return {
    tx,
    txSmall,
    ga4,
    txBad: withBad(tx, path.join(dir, "transactions-bad.csv"), (l) => l.replace(/,[0-9.]+,(north|south|east|west)$/, ",ten,$1")),
    ga4Bad: withBad(ga4, path.join(dir, "ga4-bad.ndjson"), (l) => l.replace(/"event_name":"[^"]*"/, '"event_name":{"x":1}')),
  };
}

async function main(): Promise<void> {
  if (args[0] === "--one") return one(args[1]!, args[2]!, args[3]!);
  const repeats = Number(opt("--repeats", "3"));
  const dir = mkdtempSync(path.join(os.tmpdir(), "fc-bench-imports-"));
  try {
    const f = await makeFiles(dir);
    const mb = (p: string): string => `${(statSync(p).size / 2 ** 20).toFixed(0)} MB`;
    const rows = (p: string): string => `${(readFileSync(p, "utf8").split("\n").length - 2).toLocaleString("en-US")} rows`;
    const cases: [string, string, string, string][] = [
      [`transactions CSV (${rows(f.txSmall)})`, "reader-csv", "import-tx", f.txSmall],
      [`transactions CSV (${rows(f.tx)}, ${mb(f.tx)})`, "reader-csv", "import-tx", f.tx],
      [`transactions CSV, 1 bad row`, "reader-csv-rejects", "import-tx", f.txBad],
      [`GA4 NDJSON (${mb(f.ga4)})`, "reader-json", "import-ga4", f.ga4],
      [`GA4 NDJSON, 1 bad line`, "reader-json-ignore", "import-ga4", f.ga4Bad],
    ];
    console.log(`imports vs DuckDB's reader (issue 15 target 4: import ≤ 1.5 × reader), ${repeats} alternating runs, medians, CPU s without process start-up`);
    console.log(`${"file".padEnd(40)}  reader CPU s  import CPU s  ratio  reader s  import s  reader / import peak MB  load  note`);
    for (const [label, reader, imp, file] of cases) {
      const rs: Figure[] = [];
      const is: Figure[] = [];
      const load0 = os.loadavg()[0]!;
      for (let i = 0; i < repeats; i++) {
        rs.push(child(reader, file, dir));
        is.push(child(imp, file, dir));
      }
      const rc = median(rs.map((r) => r.cpu));
      const ic = median(is.map((r) => r.cpu));
      console.log(
        `${label.padEnd(40)}  ${rc.toFixed(2).padStart(12)}  ${ic.toFixed(2).padStart(12)}  ${(ic / rc).toFixed(2).padStart(5)}  ` +
          `${median(rs.map((r) => r.seconds)).toFixed(2).padStart(8)}  ${median(is.map((r) => r.seconds)).toFixed(2).padStart(8)}  ` +
          `${`${Math.round(median(rs.map((r) => r.peakMb)))} / ${Math.round(median(is.map((r) => r.peakMb)))}`.padStart(23)}  ${((load0 + os.loadavg()[0]!) / 2).toFixed(1).padStart(4)}  ${is[0]!.note}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
