/**
 * A fixed-source CSV file with bad rows read by DuckDB's own reader (issue 15, target 4): the reader reads the whole
 * file once, marking each bad row, and only the marked lines are found again and checked line by line
 * (prepareMarkedCsv). What must hold: the same table and the same quarantine (line, field, reason, raw row) as the
 * line-by-line path gives for the same file, and the same error in reject mode — whatever the rows hold, wherever the
 * line ends fall in the read chunks, with blank lines, CRLF or gzip, and on several DuckDB threads without insertion
 * order (as the engine runs).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { DuckDBConnection } from "@duckdb/node-api";
import { dbAndFolderPerTest } from "./support/duckdb.ts";
import { importCsvOrNdjson } from "../src/import/index.ts";
import type { SourceImportResult } from "../src/import/sources.ts";
import { InputError } from "../src/util/errors.ts";
import { runCli as cli } from "./support/cli.ts";
import { readWarehouseFile } from "./support/warehouse.ts";

const HEADER = "transaction_id,user_id,client_id,transaction_created,transaction_status,transaction_revenue,transaction_region";
const QUARANTINE = { badRows: "quarantine" as const, badRowMaxShare: 0.99 };
/**
 * Options that send a file line by line without changing what it means: a NULL marker no file here holds (null
 * markers are applied by the line reader only). The other ways there (a row of another field count, bytes that are not
 * UTF-8) would add a bad row that reject mode reports first, since the line reader refuses a malformed row as it reads.
 */
const LINE_BY_LINE = { nullValues: ["\u0001 not in these files"] };

/** Values each column of a fixed source may take: good ones and bad ones, quoted and not, as files in the wild hold them (the first is good). */
const TEXT = ["t{n}", "", "\"\"", "\"a \"\"q\"\"\"", " x{n} ", "Zürich", "c\"x"];
const AMOUNT = ["10.5", "0", "-0", " 2 ", "\"3.25\"", "", "\"\"", "\"  \"", "\u3000", "ten", "-5", "NaN", "inf", "1e309", "1.7976931348623157e308"];
const TIME = [
  "2024-03-01 10:00:00", "2024-03-01T10:00:00Z", "1709287200", "1709287200000", "\"2024-03-02 11:00:00\"",
  "not a time", "1980-01-01 00:00:00", "2999-01-01 00:00:00", "", "2024-02-30 10:00:00",
];
const POOLS: Record<"transactions" | "custom_events" | "costs" | "paths", Record<string, string[]>> = {
  transactions: {
    transaction_id: ["T{n}", "\"T{n}\"", "\"T\"\"{n}\"", "", "\"\"", "   ", "T\"{n}"],
    user_id: ["u{n}", ...TEXT],
    client_id: ["{n}.1700000000", "", "c\"x"],
    transaction_created: TIME,
    transaction_status: ["completed", "refunded", "", "\"\""],
    transaction_revenue: AMOUNT,
    transaction_region: ["north", ...TEXT, "east west"],
  },
  custom_events: {
    name: ["webinar", "", "   ", "\"\""],
    time: TIME,
    user_id: ["u{n}", ...TEXT],
    revenue: AMOUNT,
    cost: ["", ...AMOUNT],
    utm_source: ["google", ...TEXT],
  },
  costs: {
    date: ["2024-03-01", "2024-03-01 00:00:00", "20240301", "2024-02-30", "1980-01-01", "", "\"2024-03-02\""],
    source: ["google", ...TEXT],
    medium: ["cpc", "", "\"\""],
    cost: AMOUNT,
    clicks: ["3", "0", "-1", "1.5", "x", "", "9223372036854775808", " 4 "],
    impressions: ["", "10", "-2"],
  },
  paths: {
    path: ["a > b > {n}", "", "  ", "\"a > \"\"b\"\"\""],
    total_conversions: ["1", ...AMOUNT],
    total_conversion_value: AMOUNT,
    total_null: ["0", ...AMOUNT],
  },
};

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` lines drawn from `pool` (mostly good: each field keeps its first value with probability `clean`), some blank lines between. */
function lines(pool: Record<string, string[]>, rows: number, seed: number, clean: number): string[] {
  const next = random(seed);
  const out: string[] = [];
  for (let n = 1; n <= rows; n++) {
    if (next() < 0.01) out.push("");
    out.push(Object.values(pool).map((values) => (next() < clean ? values[0]! : values[Math.floor(next() * values.length)]!).replaceAll("{n}", String(n))).join(","));
  }
  return out;
}

const TABLES = { transactions: "crm_transactions", custom_events: "custom_events", costs: "costs", paths: "channel_paths_import" };
type Kind = keyof typeof TABLES;

async function tableRows(conn: DuckDBConnection, kind: Kind = "transactions"): Promise<string[][]> {
  const r = await conn.runAndReadAll(`SELECT * FROM funnelcredit_sources.${TABLES[kind]} ORDER BY rowid`);
  return r.getRows().map((row) => row.map((v) => (v === null ? "NULL" : String(v))));
}

async function quarantineRows(conn: DuckDBConnection): Promise<string[][]> {
  const r = await conn.runAndReadAll(`SELECT line, field, reason, raw_row FROM funnelcredit_meta.import_quarantine ORDER BY line`);
  return r.getRows().map((row) => row.map(String));
}

/** How the file was read, the table it gave and its quarantined rows; the quarantine table is dropped after. */
async function imported(conn: DuckDBConnection, kind: Kind, result: Promise<SourceImportResult>): Promise<{ read: string | undefined; table: string[][]; quarantine: string[][] }> {
  const r = await result;
  const out = { read: r.files[0]!.read, table: await tableRows(conn, kind), quarantine: await quarantineRows(conn) };
  await conn.run("DROP TABLE IF EXISTS funnelcredit_meta.import_quarantine");
  return out;
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return `${e.line} ${e.field} ${e.reason}`;
  }
  return "no error";
}

describe("import: a CSV file's bad rows found by DuckDB's reader (issue 15, target 4)", function () {
  this.timeout(120_000);
  const fx = dbAndFolderPerTest("fc-csv-reader-");
  const file = fx.file;

  /** Imports `body` by the reader and line by line, and checks both give the same. */
  async function sameAsLineByLine(kind: Kind, name: string, body: string[], eol = "\n"): Promise<{ quarantined: number; rows: number }> {
    const f = file(`${name}.csv`, [Object.keys(POOLS[kind]).join(","), ...body].join(eol) + eol);
    const byReader = await imported(fx.db.conn, kind, importCsvOrNdjson(fx.db.local, kind, f, QUARANTINE));
    const byLines = await imported(fx.db.conn, kind, importCsvOrNdjson(fx.db.local, kind, f, { ...QUARANTINE, ...LINE_BY_LINE }));
    assert.equal(byReader.read, "reader", name);
    assert.equal(byLines.read, "lines", name);
    assert.deepEqual(byReader.table, byLines.table, name);
    assert.deepEqual(byReader.quarantine, byLines.quarantine, name);
    // Reject mode: the same first bad line, field and reason.
    assert.equal(await rejection(importCsvOrNdjson(fx.db.local, kind, f)), await rejection(importCsvOrNdjson(fx.db.local, kind, f, LINE_BY_LINE)), name);
    return { quarantined: byReader.quarantine.length, rows: byReader.table.length };
  }

  for (const kind of Object.keys(POOLS) as Kind[]) {
    it(`gives the table and quarantine of the line-by-line path for ${kind} rows drawn from good and bad values`, async () => {
      for (const seed of [1, 2, 3]) {
        const { quarantined, rows } = await sameAsLineByLine(kind, `${kind}-${seed}`, lines(POOLS[kind], 1_000, seed, 0.75));
        // Both kinds of row are there in numbers, or the comparison would say little.
        assert.ok(quarantined > 100 && rows > 100, `${kind}, seed ${seed}: ${quarantined} quarantined, ${rows} rows`);
      }
    });
  }

  it("finds the bad lines across read chunks, after blank lines, in a CRLF file", async () => {
    // ≈ 3.5 MB: lines end in three 1 MiB chunks of the line finder, bad rows everywhere (1 in ≈ 50).
    const { quarantined } = await sameAsLineByLine("transactions", "crlf", lines(POOLS.transactions, 40_000, 7, 0.997), "\r\n");
    assert.ok(quarantined > 100, String(quarantined));
  });

  it("reads a gzipped file the same, naming the line of a bad row after blank lines", async () => {
    const body = lines(POOLS.transactions, 3_000, 11, 1);
    body.splice(2_000, 0, "", "", "TBAD,u1,c1,2024-03-01 10:00:00,completed,ten,north");
    const f = file("t.csv.gz", gzipSync([HEADER, ...body].join("\n") + "\n"));
    const r = await importCsvOrNdjson(fx.db.local, "transactions", f, QUARANTINE);
    assert.deepEqual([r.files[0]!.read, r.rows, r.quarantined], ["reader", 3_000, 1]);
    // Line 1 the header, then the 2,000 rows before it and the two blank lines: line 2,004.
    assert.deepEqual((await quarantineRows(fx.db.conn)).map((q) => q.slice(0, 3)), [["2004", "transaction_revenue", 'expected a number, got "ten"']]);
  });

  it("finds a bad row's line when DuckDB reads the file on several threads, with insertion order off as the engine runs it", async () => {
    // The engine opens warehouses with preserve_insertion_order off: the rows the reader gives are then not in the
    // file's order, so a bad row's line is found by its text, not its place. Two bad lines of the same text are both found.
    await fx.db.conn.run("SET threads = 4");
    await fx.db.conn.run("SET preserve_insertion_order = false");
    const n = 300_000;
    const rows = Array.from({ length: n }, (_, i) => `T${String(i).padStart(7, "0")},u${i % 977},c,2024-03-01 10:00:00,completed,${i % 100},north`);
    const badAt = [1_000, n / 2, n / 2 + 77_000];
    const bad = "T,u,c,2024-03-01 10:00:00,completed,ten,north";
    for (const i of badAt) rows[i] = i === 1_000 ? rows[i]!.replace(/,\d+,north$/, ",ten,north") : bad;
    const r = await importCsvOrNdjson(fx.db.local, "transactions", file("big.csv", [HEADER, ...rows].join("\n")), QUARANTINE);
    assert.deepEqual([r.files[0]!.read, r.rows, r.quarantined], ["reader", n - 3, 3]);
    assert.deepEqual((await quarantineRows(fx.db.conn)).map((q) => q[0]), badAt.map((i) => String(i + 2)));
    const ids = (await fx.db.conn.runAndReadAll(`SELECT transaction_id FROM funnelcredit_sources.crm_transactions ORDER BY 1`)).getRows().map((x) => String(x[0]));
    assert.deepEqual(ids, rows.filter((_, i) => !badAt.includes(i)).map((l) => l.slice(0, 8)));
    assert.equal((await fx.db.conn.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`)).getRows()[0]![0], false);
  });

  it("quarantines the right lines through the CLI, on the engine's own settings", async () => {
    const n = 200_000;
    const rows = Array.from({ length: n }, (_, i) => `T${String(i).padStart(7, "0")},u${i % 977},c,2024-03-01 10:00:00,completed,${i % 100},north`);
    const badAt = [70_000, 140_000];
    for (const i of badAt) rows[i] = rows[i]!.replace(/,\d+,north$/, ",-1,north");
    const warehouse = path.join(fx.dir, "cli.duckdb");
    const r = cli(["import", "transactions", file("cli.csv", [HEADER, ...rows].join("\n")), "--warehouse", warehouse]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stdout + r.stderr, /imported 199,998 rows/);
    const [quarantine, imported, hidden] = await readWarehouseFile(warehouse, [
      "SELECT line, field FROM funnelcredit_meta.import_quarantine ORDER BY line",
      "SELECT count(*) AS n, count(DISTINCT transaction_id) AS ids, bool_or(transaction_revenue < 0) AS negative FROM funnelcredit_sources.crm_transactions",
      "SELECT count(*) AS n FROM duckdb_tables() WHERE starts_with(table_name, 'fc_')",
    ]);
    assert.deepEqual(JSON.parse(quarantine!), badAt.map((i) => ({ line: String(i + 2), field: "transaction_revenue" })));
    assert.deepEqual(JSON.parse(imported!), [{ n: "199998", ids: "199998", negative: false }]);
    assert.deepEqual(JSON.parse(hidden!), [{ n: "0" }]);
  });

  it("leaves no hidden table behind, after an import, a refused one, or one killed before it finished", async () => {
    const hidden = async (): Promise<string[]> =>
      (await fx.db.conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, 'fc_') ORDER BY 1`)).getRows().map((r) => String(r[0]));
    const good = "T1,u1,c1,2024-03-01 10:00:00,completed,1,north";
    const bad = "T2,u1,c1,2024-03-01 10:00:00,completed,ten,north";
    await importCsvOrNdjson(fx.db.local, "transactions", file("ok.csv", [HEADER, good, bad].join("\n")), QUARANTINE);
    assert.deepEqual(await hidden(), []);
    await assert.rejects(importCsvOrNdjson(fx.db.local, "transactions", file("refused.csv", [HEADER, good, bad].join("\n"))), InputError);
    assert.deepEqual(await hidden(), []);
    await assert.rejects(importCsvOrNdjson(fx.db.local, "transactions", file("share.csv", [HEADER, good, bad].join("\n")), { badRows: "quarantine", badRowMaxShare: 0.1 }));
    assert.deepEqual(await hidden(), []);
    // What a process killed mid-import (pid 1 is never this one) left: dropped by the next import of the kind.
    await fx.db.conn.run(`CREATE TABLE funnelcredit_sources.fc_transactions_marked_1_7 AS SELECT 1 AS x`);
    await fx.db.conn.run(`CREATE TABLE funnelcredit_sources.fc_costs_marked_1_7 AS SELECT 1 AS x`);
    const r = await importCsvOrNdjson(fx.db.local, "transactions", file("again.csv", [HEADER, good].join("\n")));
    assert.equal(r.files[0]!.read, "reader");
    assert.deepEqual(await hidden(), ["fc_costs_marked_1_7"]);
    assert.deepEqual(await tableRows(fx.db.conn), [["T1", "u1", "c1", "2024-03-01 10:00:00", "completed", "1", "north"]]);
  });

  it("reads line by line a file with more bad rows than it would hold in memory", async () => {
    const body = Array.from({ length: 10_050 }, (_, i) => `T${i},u,c,2024-03-01 10:00:00,completed,${i < 10_001 ? "ten" : "1"},north`);
    const r = await importCsvOrNdjson(fx.db.local, "transactions", file("many.csv", [HEADER, ...body].join("\n")), { badRows: "quarantine", badRowMaxShare: 1 });
    assert.deepEqual([r.files[0]!.read, r.rows, r.quarantined], ["lines", 49, 10_001]);
  });

  it("reads blank and quoted empty text as NULL, a blank required id as missing, with or without a bad row beside them", async () => {
    const body = ["\"\",u1,c1,2024-03-01 10:00:00,completed,1,north", "   ,u1,c1,2024-03-01 10:00:00,completed,1,north", "T3,\"\",c1,2024-03-01 10:00:00,\"\",1,north"];
    const clean = await importCsvOrNdjson(fx.db.local, "transactions", file("empty.csv", [HEADER, ...body].join("\n")), QUARANTINE);
    assert.deepEqual([clean.files[0]!.read, clean.rows, clean.quarantined], ["reader", 1, 2]);
    assert.deepEqual((await quarantineRows(fx.db.conn)).map((q) => q.slice(0, 3)), [["2", "transaction_id", "a value is required here"], ["3", "transaction_id", "a value is required here"]]);
    assert.deepEqual((await tableRows(fx.db.conn)).map((row) => [row[0], row[1], row[4]]), [["T3", "NULL", "NULL"]]);
  });
});
