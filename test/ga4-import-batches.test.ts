/**
 * The GA4 importer streams (issue 15, target 4): checked lines are held a batch at a time and appended to a
 * temporary file per day, and at the end one transaction converts every day file by one DuckDB JSON reader statement
 * into the one table `ga4_events` (each day then read as the view `events_YYYYMMDD`). These tests run it with tiny
 * batches (`batchChars`) so that a few dozen lines span many batches, and check that the days, the errors and the
 * quarantine are what one batch gives: same rows in file order, the right line named, nothing half written, nothing
 * left behind. A clean file sorted by day skips the day files (DuckDB's reader reads it itself): the same table.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { importGa4 } from "../src/import/ga4.ts";
import { GA4_EVENTS_SCHEMA, ga4LocalTypes } from "../src/import/ga4-schema.ts";
import { duckColumnType } from "../src/engines/duckdb/types.ts";
import { BadRowShareError } from "../src/import/quarantine.ts";
import { InputError } from "../src/util/errors.ts";
import { openDb } from "./support/duckdb.ts";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { duckLocalLoading } from "../src/engines/duckdb/local-loading.ts";
import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";

const DAYS = ["20240301", "20240302", "20240303"];
const BASE_MICROS = 1709251200000000; // 2024-03-01 00:00:00 UTC

/**
 * Line i (1-based) is event i - 1: its day is DAYS[(i - 1) % 3], so the days interleave and every day's rows
 * are spread over the whole file; event_timestamp is BASE + i, so a day table in file order has rising
 * timestamps. `bad` lines get a timestamp that is not an integer.
 */
function eventLines(n: number, bad: readonly number[] = []): string[] {
  return Array.from({ length: n }, (_, k) => {
    const line = k + 1;
    return JSON.stringify({
      event_date: DAYS[k % 3],
      event_timestamp: bad.includes(line) ? "soon" : BASE_MICROS + line,
      event_name: k % 2 ? "page_view" : "session_start",
      user_pseudo_id: `u${k % 7}`,
      event_params: [{ key: "ga_session_id", value: { int_value: 100 + (k % 5) } }],
    });
  });
}

/** Timestamps of a day table in its stored order (a plain scan of a small table keeps insertion order). */
async function stamps(conn: DuckDBConnection, table: string): Promise<number[]> {
  return (await conn.runAndReadAll(`SELECT event_timestamp FROM ${table}`)).getRows().map((r) => Number(r[0]));
}

/** The lines of `n` that fall on DAYS[d] (1-based), in file order, minus `skip`. */
function linesOfDay(n: number, d: number, skip: readonly number[] = []): number[] {
  return Array.from({ length: n }, (_, k) => k + 1).filter((l) => (l - 1) % 3 === d && !skip.includes(l));
}

async function hiddenTables(conn: DuckDBConnection): Promise<number> {
  return Number((await conn.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE temporary OR starts_with(table_name, 'fc_')`)).getRows()[0]![0]);
}

describe("GA4 import in batches (issue 15, target 4)", () => {
  let db: Awaited<ReturnType<typeof openDb>>;
  let dir: string;
  /** `lines` as a file of the test's folder (`pre` before the first line: a byte order mark). */
  const file = (name: string, lines: string[], pre = ""): string => {
    const f = path.join(dir, name);
    writeFileSync(f, pre + lines.join("\n") + "\n");
    return f;
  };
  /** Line i of the file is on day DAYS[floor((i - 1) / per)]: the days in runs, as GA4 writes them; timestamps rise. */
  const sortedLines = (n: number, per: number): string[] =>
    Array.from({ length: n }, (_, k) =>
      JSON.stringify({
        event_date: DAYS[Math.floor(k / per)],
        event_timestamp: BASE_MICROS + k + 1,
        event_name: k % 2 ? "page_view" : "session_start",
        user_pseudo_id: `u${k % 7}`,
        event_params: [{ key: "ga_session_id", value: { int_value: 100 + (k % 5) } }, { key: "page_location", value: { string_value: `https://x.example/${k}` } }],
        items: k % 4 ? null : [{ item_id: `i${k}`, price: k / 4, quantity: 1 }],
      }),
    );
  /** ga4_events of a schema in its stored order, every column, as text. */
  const table = async (schema: string): Promise<string[]> =>
    (await db.conn.runAndReadAll(`SELECT CAST(t AS VARCHAR) FROM (SELECT * FROM ${schema}.ga4_events ORDER BY rowid) t`)).getRows().map((r) => String(r[0]));
  beforeEach(async () => {
    db = await openDb();
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-ga4-batches-"));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a multi-day file in many batches into the same day tables as one batch, rows in file order", async () => {
    const f = file("events.ndjson", eventLines(24));
    // One line per batch (batchChars 1), a few lines per batch, and the default (the whole file in one).
    for (const [schema, batchChars] of [["one_line", 1], ["few_lines", 1000], ["whole", undefined]] as const) {
      const r = await importGa4(db.local, [f], { schema, batchChars });
      assert.deepEqual(r.tables, DAYS.map((d) => `${schema}.events_${d}`));
      assert.deepEqual(r.rowsByTable, { events_20240301: 8, events_20240302: 8, events_20240303: 8 });
      assert.equal(r.rows, 24);
      for (const [d, day] of DAYS.entries()) {
        assert.deepEqual(await stamps(db.conn, `${schema}.events_${day}`), linesOfDay(24, d).map((l) => BASE_MICROS + l), `${schema} ${day}`);
      }
    }
    // Every column, not only the timestamps: the batched tables equal the one-batch tables row for row.
    for (const day of DAYS) {
      for (const schema of ["one_line", "few_lines"]) {
        const diff = await db.conn.runAndReadAll(
          `(SELECT * FROM ${schema}.events_${day} EXCEPT ALL SELECT * FROM whole.events_${day}) UNION ALL (SELECT * FROM whole.events_${day} EXCEPT ALL SELECT * FROM ${schema}.events_${day})`,
        );
        assert.equal(diff.getRows().length, 0, `${schema}.events_${day} differs`);
      }
    }
    assert.equal(await hiddenTables(db.conn), 0);
  });

  it("re-imports idempotently in replace mode and adds in append mode, also to a day table it creates", async () => {
    const f = file("events.ndjson", eventLines(30));
    await importGa4(db.local, [f], { batchChars: 1000 });
    await importGa4(db.local, [f], { batchChars: 1000 });
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240301"), linesOfDay(30, 0).map((l) => BASE_MICROS + l));
    // Append: two days exist (rows added after the old ones), one is new.
    await db.conn.run("DELETE FROM ga4_export.ga4_events WHERE _TABLE_SUFFIX = '20240303'; DROP VIEW ga4_export.events_20240303");
    const r = await importGa4(db.local, [f], { batchChars: 1000, mode: "append" });
    assert.deepEqual(r.rowsByTable, { events_20240301: 10, events_20240302: 10, events_20240303: 10 });
    const day1 = linesOfDay(30, 0).map((l) => BASE_MICROS + l);
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240301"), [...day1, ...day1]);
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240303"), linesOfDay(30, 2).map((l) => BASE_MICROS + l));
    assert.equal(await hiddenTables(db.conn), 0);
  });

  it("names the line of a bad event in a late batch and leaves every day table as it was", async () => {
    await importGa4(db.local, [file("first.ndjson", eventLines(6))]);
    const f = file("second.ndjson", [...eventLines(60, [55]), JSON.stringify({ event_date: "20240309", event_timestamp: BASE_MICROS, event_name: "x" })]);
    await assert.rejects(importGa4(db.local, [f], { batchChars: 2000 }), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.equal(e.line, 55);
      assert.equal(e.field, "event_timestamp");
      assert.match(e.message, /second\.ndjson:55.*expected an integer, got "soon"/);
      return true;
    });
    // Days 1 and 2 hold the first file's rows; the days only the second file has were never created.
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240301"), [BASE_MICROS + 1, BASE_MICROS + 4]);
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240302"), [BASE_MICROS + 2, BASE_MICROS + 5]);
    const tables = (await db.conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() ORDER BY 1`)).getRows().map((r) => r[0]);
    assert.deepEqual(tables, ["ga4_events"]);
    const views = (await db.conn.runAndReadAll(`SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1`)).getRows().map((r) => r[0]);
    assert.deepEqual(views, ["events_20240301", "events_20240302", "events_20240303"]);
    const suffixes = (await db.conn.runAndReadAll(`SELECT DISTINCT _TABLE_SUFFIX FROM ga4_export.ga4_events ORDER BY 1`)).getRows().map((r) => r[0]);
    assert.deepEqual(suffixes, ["20240301", "20240302", "20240303"]);
    assert.equal(await hiddenTables(db.conn), 0);
  });

  it("quarantines bad events of late batches with their lines, and above the share writes only the quarantine", async () => {
    const f = file("events.ndjson", eventLines(60, [41, 55]));
    const r = await importGa4(db.local, [f], { batchChars: 2000, badRows: "quarantine", badRowMaxShare: 0.05 });
    assert.equal(r.quarantined, 2);
    assert.equal(r.rows, 58);
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240302"), linesOfDay(60, 1, [41, 55]).map((l) => BASE_MICROS + l));
    const q = async (): Promise<unknown[][]> =>
      (await db.conn.runAndReadAll(`SELECT line, field FROM funnelcredit_meta.import_quarantine ORDER BY quarantined_at, line`)).getRows();
    assert.deepEqual(await q(), [[41n, "event_timestamp"], [55n, "event_timestamp"]]);

    // 2 of 60 lines (3.3 %) is above a 1 % share: the day tables stay as the first import left them.
    const g = file("other.ndjson", eventLines(60, [41, 55]).map((l) => l.replace(/"u([0-9])"/, '"v$1"')));
    await assert.rejects(importGa4(db.local, [g], { batchChars: 2000, badRows: "quarantine", badRowMaxShare: 0.01 }), BadRowShareError);
    const users = (await db.conn.runAndReadAll(`SELECT DISTINCT left(user_pseudo_id, 1) FROM ga4_export.events_20240301`)).getRows();
    assert.deepEqual(users, [["u"]]);
    assert.equal((await q()).length, 4);
    assert.equal(await hiddenTables(db.conn), 0);
  });
  it("drops the hidden day tables an import killed before its swap left behind, and nothing else", async () => {
    // What a killed import of another process leaves: its hidden day tables (stagingName's fc_ga4_<pid>_<n>_ + the
    // day table's name), beside a table of the user's whose name only starts alike.
    const other = process.pid + 1;
    await db.conn.run(`CREATE SCHEMA ga4_export`);
    for (const t of [`fc_ga4_${other}_3_events_20240301`, `fc_ga4_${other}_3_events_intraday_20240302`, "fc_ga4_notes"]) {
      await db.conn.run(`CREATE TABLE ga4_export."${t}" (x INTEGER)`);
    }
    const r = await importGa4(db.local, [file("events.ndjson", eventLines(6))], { batchChars: 200 });
    assert.equal(r.rows, 6);
    const tables = (await db.conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() ORDER BY 1`)).getRows().map((x) => x[0]);
    assert.deepEqual(tables, ["fc_ga4_notes", "ga4_events"]);
  });

  it("keeps each day in file order in a batch of several row groups with preserve_insertion_order off, and puts the setting back", async () => {
    // The engine runs with preserve_insertion_order off and the day INSERTs have no ORDER BY: the importer turns the
    // setting on for itself. Batches of two row groups (122,880 rows each) scanned by 4 threads show a wrong order.
    const n = 2 * 122_880 + 10;
    const f = path.join(dir, "big.ndjson");
    writeFileSync(f, eventLines(n).join("\n") + "\n");
    const instance = await DuckDBInstance.create(":memory:", { preserve_insertion_order: "false", threads: "4" });
    const conn = await instance.connect();
    try {
      const r = await importGa4(duckLocalLoading(conn), [f]);
      assert.equal(r.rows, n);
      for (const [d, day] of DAYS.entries()) {
        // The stored order: rowid (a plain scan may reorder a table of several row groups with the setting off).
        const got = (await conn.runAndReadAll(`SELECT event_timestamp FROM ga4_export.ga4_events WHERE _TABLE_SUFFIX = '${day}' ORDER BY rowid`)).getRows().map((x) => Number(x[0]));
        assert.deepEqual(got, linesOfDay(n, d).map((l) => BASE_MICROS + l), `events_${day} in file order`);
      }
      const [[setting]] = (await conn.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`)).getRows();
      assert.equal(setting, false);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it("imports an export of many days into a database file under a low memory_limit, the same rows as in memory", async () => {
    // Regression: each new day table keeps memory for every leaf column until a checkpoint writes it out, whatever
    // its rows; `import ga4` of a 400-day, 38 MB export ran out of 1 GB. Scaled down: 60 days of 2 events under 64 MiB.
    const days = Array.from({ length: 60 }, (_, d) => new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10).replace(/-/g, ""));
    const lines = days.flatMap((day, d) => [0, 1].map((k) => JSON.stringify({
      event_date: day,
      event_timestamp: BASE_MICROS + d * 86_400_000_000 + k,
      event_name: k ? "page_view" : "session_start",
      user_pseudo_id: `u${d % 7}`,
      event_params: [{ key: "ga_session_id", value: { int_value: 100 + d } }],
    })));
    const f = file("many-days.ndjson", lines);
    const instance = await DuckDBInstance.create(path.join(dir, "w.duckdb"), { memory_limit: "64MiB", threads: "1" });
    const conn = await instance.connect();
    try {
      const r = await importGa4(duckLocalLoading(conn), [f]);
      const inMemory = await importGa4(db.local, [f]);
      assert.deepEqual(r.rowsByTable, inMemory.rowsByTable);
      assert.equal(r.tables.length, 60);
      for (const t of [r.tables[0]!, r.tables[59]!]) assert.deepEqual(await stamps(conn, t), await stamps(db.conn, t), t);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
  it("imports an event with a key written twice as json_transform reads it, though DuckDB's JSON reader refuses the line", async () => {
    // read_json stops at a duplicated key; the importer then converts that day with json_transform, which keeps the
    // first value (as the importer did before it used the reader). JS checks the last one (JSON.parse keeps it).
    const [a, b, c] = eventLines(3);
    const twice = b!.replace('"event_name":"page_view"', '"event_name":"first","event_name":"page_view"');
    assert.notEqual(twice, b);
    const r = await importGa4(db.local, [file("twice.ndjson", [a!, twice, c!])], { batchChars: 1000 });
    assert.deepEqual(r.rowsByTable, { events_20240301: 1, events_20240302: 1, events_20240303: 1 });
    const names = (await db.conn.runAndReadAll(`SELECT event_name FROM ga4_export.events_20240302`)).getRows().map((x) => x[0]);
    assert.deepEqual(names, ["first"]);
    assert.equal(await hiddenTables(db.conn), 0);
  });

  it("removes its temporary day files after an import and after a refused one", async () => {
    const mine = (): string[] => readdirSync(os.tmpdir()).filter((n) => n.startsWith(`fc_ga4_${process.pid}_`));
    assert.deepEqual(mine(), []);
    await importGa4(db.local, [file("ok.ndjson", eventLines(30))], { batchChars: 1000 });
    assert.deepEqual(mine(), []);
    await assert.rejects(importGa4(db.local, [file("bad.ndjson", eventLines(30, [25]))], { batchChars: 1000 }), InputError);
    assert.deepEqual(mine(), []);
  });

  it("replaces only the days a file has: the other days keep their rows", async () => {
    await importGa4(db.local, [file("three-days.ndjson", eventLines(30))]);
    // A later file of day 2 only, with other timestamps: day 2 is replaced, days 1 and 3 stay as they were.
    const day2 = eventLines(30).filter((_, k) => k % 3 === 1).map((l) => l.replace(/"event_timestamp":([0-9]+)/, (_, t) => `"event_timestamp":${Number(t) + 1000}`));
    const r = await importGa4(db.local, [file("day2.ndjson", day2)]);
    assert.deepEqual(r.tables, ["ga4_export.events_20240302"]);
    // One day is in day order: read while checked, in the transaction that then deletes the day's older rows only.
    assert.equal(r.reader, "files");
    assert.equal(r.readWhileChecked, true);
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240301"), linesOfDay(30, 0).map((l) => BASE_MICROS + l));
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240302"), linesOfDay(30, 1).map((l) => BASE_MICROS + l + 1000));
    assert.deepEqual(await stamps(db.conn, "ga4_export.events_20240303"), linesOfDay(30, 2).map((l) => BASE_MICROS + l));
    const perDay = (await db.conn.runAndReadAll(`SELECT _TABLE_SUFFIX, count(*) FROM ga4_export.ga4_events GROUP BY 1 ORDER BY 1`)).getRows();
    assert.deepEqual(perDay, [["20240301", 10n], ["20240302", 10n], ["20240303", 10n]]);
  });

  it("reads each day through its view as the export's columns, the same rows DuckDB's reader gives for that day's lines", async () => {
    const lines = eventLines(30);
    await importGa4(db.local, [file("events.ndjson", lines)], { batchChars: 1000 });
    const cols = (await db.conn.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'ga4_export' AND table_name = 'events_20240302' ORDER BY ordinal_position`)).getRows().map((r) => r[0]);
    assert.deepEqual(cols, GA4_EVENTS_SCHEMA.map((c) => c.name));
    // The day's lines converted on their own, by the reader with the export's columns, straight from a file of that day.
    const own = file("day2-only.ndjson", lines.filter((_, k) => k % 3 === 1));
    const columns = `{${GA4_EVENTS_SCHEMA.map((c) => `'${c.name}': '${duckColumnType(c)}'`).join(", ")}}`;
    await db.conn.run(`CREATE TABLE day2 AS SELECT * FROM read_json('${own}', format = 'newline_delimited', columns = ${columns})`);
    const diff = await db.conn.runAndReadAll(
      `(SELECT * FROM ga4_export.events_20240302 EXCEPT ALL SELECT * FROM day2) UNION ALL (SELECT * FROM day2 EXCEPT ALL SELECT * FROM ga4_export.events_20240302)`,
    );
    assert.equal(diff.getRows().length, 0, "events_20240302 differs from its lines");
    assert.equal(Number((await db.conn.runAndReadAll(`SELECT count(*) FROM day2`)).getRows()[0]![0]), 10);
  });

  it("reads an old warehouse's real day tables through events_* beside the imported days, and moves or replaces a day it imports", async () => {
    const engine = await DuckDBEngine.open({ path: ":memory:", threads: 1 });
    try {
      // A warehouse from before the one table: real day tables, one per day (the demo writes these too).
      const ddl = ga4LocalTypes(engine.localLoading.columnType).columnsDdl;
      await engine.runNative(`CREATE SCHEMA ga4_export`);
      for (const [day, ts] of [["20240229", 1], ["20240301", 2], ["20240302", 3]] as const) {
        await engine.runNative(`CREATE TABLE ga4_export.events_${day} (${ddl})`);
        await engine.runNative(`INSERT INTO ga4_export.events_${day} (event_date, event_timestamp, event_name) VALUES ('${day}', ${BASE_MICROS - ts}, 'old')`);
      }
      const all = async (): Promise<unknown[][]> => {
        await engine.prepareDeclarations([{ database: "", schema: "ga4_export", name: "events_*" }]);
        return (await engine.queryNative(`SELECT _TABLE_SUFFIX AS s, event_name AS e, count(*) AS n FROM ga4_export."events_*" GROUP BY ALL ORDER BY ALL`)).map((r) => [r.s, r.e, r.n]);
      };
      // Day 1 replaced (its real table dropped), day 2 appended to (its old row moved into the one table first),
      // day 3 new; 2024-02-29 untouched, still a real table.
      const lines = eventLines(6);
      const day1 = await importGa4(engine.localLoading, [file("day1.ndjson", lines.filter((_, k) => k % 3 === 0))]);
      // Real day tables in the schema: their rows are moved or dropped before the read, so it is not read early.
      assert.deepEqual([day1.reader, day1.readWhileChecked], ["files", false]);
      await importGa4(engine.localLoading, [file("days23.ndjson", lines.filter((_, k) => k % 3 !== 0))], { mode: "append" });
      assert.deepEqual(await all(), [
        ["20240229", "old", 1],
        ["20240301", "page_view", 1], ["20240301", "session_start", 1],
        ["20240302", "old", 1], ["20240302", "page_view", 1], ["20240302", "session_start", 1],
        ["20240303", "page_view", 1], ["20240303", "session_start", 1],
      ]);
      const tables = (await engine.queryNative(`SELECT table_name AS t FROM duckdb_tables() WHERE schema_name = 'ga4_export' ORDER BY 1`)).map((r) => r.t);
      assert.deepEqual(tables, ["events_20240229", "ga4_events"]);
      assert.deepEqual(await stamps(engine.conn, "ga4_export.events_20240302"), [BASE_MICROS - 3, BASE_MICROS + 2, BASE_MICROS + 5]);
    } finally {
      await engine.close();
    }
  });

  it("names the first bad line when a later line of the same read chunk is not JSON (reject mode)", async () => {
    // Lines are read a chunk at a time: line 3 fails the JS check, line 5 is not JSON; line 3 is the one named.
    const lines = eventLines(6, [3]);
    lines[4] = "{not json";
    await assert.rejects(importGa4(db.local, [file("two-bad.ndjson", lines)]), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.equal(e.line, 3);
      assert.equal(e.field, "event_timestamp");
      return true;
    });
  });

  it("writes the lines of a file sorted by day as they are, and leaves out the bad, blank and other days' lines between them", async () => {
    // Days in runs (as GA4 writes them): day 1 lines 1-4, day 2 lines 5-8, day 1 again 9-10. Line 3 is bad (quarantined),
    // line 6 blank, line 7 ends in CRLF. Adjacent lines of a day are written as one range of the read chunk.
    const ev = (day: string, line: number, ts: unknown = BASE_MICROS + line): string => JSON.stringify({ event_date: day, event_timestamp: ts, event_name: "page_view", user_pseudo_id: "u" });
    const lines = [
      ev(DAYS[0]!, 1), ev(DAYS[0]!, 2), ev(DAYS[0]!, 3, "soon"), ev(DAYS[0]!, 4),
      ev(DAYS[1]!, 5), "", ev(DAYS[1]!, 7) + "\r", ev(DAYS[1]!, 8),
      ev(DAYS[0]!, 9), ev(DAYS[0]!, 10),
    ];
    const r = await importGa4(db.local, [file("sorted.ndjson", lines)], { badRows: "quarantine", badRowMaxShare: 0.5 });
    assert.equal(r.quarantined, 1);
    assert.deepEqual(await stamps(db.conn, `ga4_export.events_${DAYS[0]}`), [1, 2, 4, 9, 10].map((l) => BASE_MICROS + l));
    assert.deepEqual(await stamps(db.conn, `ga4_export.events_${DAYS[1]}`), [5, 7, 8].map((l) => BASE_MICROS + l));
  });

  // A file sorted by day is read by DuckDB's reader itself.
  it("reads a clean sorted file (blank lines, CRLF, gzip, several files in day order) directly, the same rows in the same order as through the day files", async () => {
    const lines = sortedLines(30, 10);
    // The same lines with a line that is not JSON at the end: quarantined, so the good lines go through the day files.
    const viaDays = await importGa4(db.local, [file("bad-at-end.ndjson", [...lines, '{"event_date":"20240303"'])], { schema: "via_days", badRows: "quarantine", badRowMaxShare: 0.5 });
    assert.equal(viaDays.reader, "day files");
    assert.equal(viaDays.quarantined, 1);
    const expected = await table("via_days");
    assert.equal(expected.length, 30);
    const cases: [string, string[]][] = [
      ["plain", [file("plain.ndjson", lines)]],
      ["blank lines and CRLF", [file("blank.ndjson", [lines[0]!, "", ...lines.slice(1, 12).map((l) => l + "\r"), "   ", ...lines.slice(12), ""])]],
      ["two files in day order", [file("a.ndjson", lines.slice(0, 15)), file("b.ndjson", lines.slice(15))]],
    ];
    const gz = path.join(dir, "plain.ndjson.gz");
    writeFileSync(gz, gzipSync(Buffer.from(lines.join("\n") + "\n")));
    cases.push(["gzip", [gz]]);
    for (const [i, [label, files]] of cases.entries()) {
      const r = await importGa4(db.local, files, { schema: `direct_${i}` });
      assert.equal(r.reader, "files", `${label}: read directly`);
      assert.deepEqual(r.rowsByTable, { events_20240301: 10, events_20240302: 10, events_20240303: 10 }, label);
      assert.deepEqual(await table(`direct_${i}`), expected, `${label}: the same table, row for row, as through the day files`);
      assert.deepEqual(await stamps(db.conn, `direct_${i}.events_${DAYS[1]}`), lines.slice(10, 20).map((_, k) => BASE_MICROS + 11 + k), `${label}: a day's view`);
    }
  });

  it("copies the lines before the first bad line or earlier day into the day files and goes on from there", async () => {
    const lines = sortedLines(30, 10);
    await importGa4(db.local, [file("clean.ndjson", lines)], { schema: "clean" });
    const clean = await table("clean");
    // A bad line in the middle of day 2 (quarantined): every good line is kept, in order.
    const bad = [...lines.slice(0, 14), '{"event_date":"20240302","event_timestamp":"soon","event_name":"x"}', "{not json", ...lines.slice(14)];
    const r = await importGa4(db.local, [file("bad-mid.ndjson", bad)], { schema: "bad_mid", badRows: "quarantine", badRowMaxShare: 0.5, batchChars: 500 });
    assert.equal(r.reader, "day files");
    assert.equal(r.quarantined, 2);
    assert.deepEqual(await table("bad_mid"), clean, "the good lines, before and after the bad ones, as the clean file gives them");
    // A day-1 line after day 2 has begun: each day's rows stay together, in file order.
    const back = [...lines.slice(0, 12), lines[5]!.replace(`"event_timestamp":${BASE_MICROS + 6}`, `"event_timestamp":${BASE_MICROS + 99}`), ...lines.slice(12)];
    const b = await importGa4(db.local, [file("back.ndjson", back)], { schema: "back", batchChars: 300 });
    assert.equal(b.reader, "day files");
    assert.deepEqual(await stamps(db.conn, `back.events_${DAYS[0]}`), [...Array.from({ length: 10 }, (_, k) => BASE_MICROS + k + 1), BASE_MICROS + 99]);
    const suffixes = (await db.conn.runAndReadAll("SELECT _TABLE_SUFFIX FROM back.ga4_events ORDER BY rowid")).getRows().map((x) => String(x[0]));
    assert.deepEqual(suffixes, [...suffixes].sort(), "the rows grouped by day");
    // An event_date written as a number (JSON.parse reads 2.0240302e7 as 20240302; DuckDB's reader would give
    // '20240302.0'): through the day files, the row under its day.
    const numeric = [...lines.slice(0, 15), lines[15]!.replace('"event_date":"20240302"', '"event_date":2.0240302e7'), ...lines.slice(16)];
    const n = await importGa4(db.local, [file("numeric-date.ndjson", numeric)], { schema: "numeric_date" });
    assert.equal(n.reader, "day files");
    assert.deepEqual(n.rowsByTable, { events_20240301: 10, events_20240302: 10, events_20240303: 10 });
    assert.equal((await stamps(db.conn, `numeric_date.events_${DAYS[1]}`)).length, 10, "the numeric-date row is read under its day");
    // Two files whose days do not follow each other in the order given.
    const two = await importGa4(db.local, [file("late.ndjson", lines.slice(15)), file("early.ndjson", lines.slice(0, 15))], { schema: "two" });
    assert.equal(two.reader, "day files");
    assert.equal((await table("two")).length, 30);
  });

  it("reads a clean export while checking it, in a transaction a bad line rolls back: nothing of it stays, in either mode", async () => {
    const lines = sortedLines(30, 10);
    // The read runs on one DuckDB thread (the checks have the other core); the database's setting is put back.
    await db.conn.run("SET threads = 3");
    const threads = async (): Promise<unknown> => (await db.conn.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0];
    const first = await importGa4(db.local, [file("clean.ndjson", lines)]);
    assert.equal(first.readWhileChecked, true, "an empty warehouse");
    assert.equal(Number(await threads()), 3);
    const before = await table("ga4_export");
    const later = lines.map((l) => l.replace(/"event_timestamp":([0-9]+)/, (_, t) => `"event_timestamp":${Number(t) + 1000}`));
    // Reject mode: the bad line (the last, so the reader is long done) throws; the early read's rows are rolled back.
    const bad = [...later.slice(0, 29), '{"event_date":"20240303","event_timestamp":"soon","event_name":"x"}'];
    for (const mode of ["replace", "append"] as const) {
      await assert.rejects(importGa4(db.local, [file(`bad-${mode}.ndjson`, bad)], { mode }), InputError);
      assert.deepEqual(await table("ga4_export"), before, `${mode}: the table as it was`);
      assert.equal(Number(await threads()), 3, `${mode}: the thread setting put back`);
    }
    // The connection has no transaction left open: the next import commits, and only its own rows.
    const append = await importGa4(db.local, [file("later.ndjson", later)], { mode: "append" });
    assert.equal(append.readWhileChecked, true);
    assert.deepEqual((await table("ga4_export")).slice(0, 30), before, "append: the old rows first, unchanged");
    assert.equal((await table("ga4_export")).length, 60);
    const replace = await importGa4(db.local, [file("later-again.ndjson", later)]);
    assert.equal(replace.readWhileChecked, true);
    assert.deepEqual(await stamps(db.conn, `ga4_export.events_${DAYS[2]}`), later.slice(20).map((_, k) => BASE_MICROS + 1021 + k), "replace: the day's new rows only");
    assert.equal(await hiddenTables(db.conn), 0);
  });

  it("keeps reading while checked past bad lines the reader reads as rows, deleting just their rows, in either mode", async () => {
    const lines = sortedLines(30, 10);
    await importGa4(db.local, [file("clean.ndjson", lines)], { schema: "clean" });
    const clean = await table("clean");
    // JSON objects the checks refuse but DuckDB's reader converts (an object as event_name becomes its JSON text, a
    // fraction in an INT64 is rounded) or reads as a row of NULLs and defaults (an event without its ids, of a day
    // before the others): quarantined, their rows deleted before the read commits. Blank lines, CRLF, two files.
    const bad = [
      lines[4]!.replace(/"event_name":"[^"]*"/, '"event_name":{"x":1}'),
      lines[15]!.replace(/"int_value":([0-9]+)/, '"int_value":$1.5'),
      '{"event_date":"20200101","event_name":"x"}',
    ];
    const a = [...lines.slice(0, 4), bad[0]!, "", ...lines.slice(4, 12).map((l) => l + "\r")];
    const b = ["   ", ...lines.slice(12, 15), bad[1]!, ...lines.slice(15, 29), bad[2]!, lines[29]!];
    const opts = { badRows: "quarantine" as const, badRowMaxShare: 0.5 };
    const r = await importGa4(db.local, [file("a.ndjson", a), file("b.ndjson", b)], { schema: "marked", ...opts });
    assert.deepEqual([r.reader, r.readWhileChecked, r.rows, r.quarantined], ["files", true, 30, 3]);
    assert.deepEqual(await table("marked"), clean, "the good lines' rows, in order, and nothing of the bad ones");
    const quarantined = (await db.conn.runAndReadAll(`SELECT regexp_extract(file, '[ab][.]ndjson'), line FROM funnelcredit_meta.import_quarantine ORDER BY file, line`)).getRows();
    assert.deepEqual(quarantined.map((x) => `${x[0]}:${x[1]}`), ["a.ndjson:5", "b.ndjson:5", "b.ndjson:20"]);
    // Append, to rows of the same days already there: the older rows stay, the bad lines' rows go.
    const later = lines.map((l) => l.replace(/"event_timestamp":([0-9]+)/, (_, t) => `"event_timestamp":${Number(t) + 1000}`));
    const appended = await importGa4(db.local, [file("later.ndjson", [...later.slice(0, 20), bad[0]!, ...later.slice(20)])], { schema: "marked", mode: "append", ...opts });
    assert.deepEqual([appended.readWhileChecked, appended.quarantined], [true, 1]);
    assert.deepEqual(await stamps(db.conn, "marked.ga4_events"), [...lines, ...later].map((_, k) => BASE_MICROS + (k < 30 ? k + 1 : k - 29 + 1000)));
    // Replace: the days' older rows and the bad line's row deleted, the new rows kept.
    const replaced = await importGa4(db.local, [file("later-again.ndjson", [bad[0]!, ...later])], { schema: "marked", ...opts });
    assert.deepEqual([replaced.readWhileChecked, replaced.quarantined], [true, 1]);
    assert.deepEqual(await stamps(db.conn, "marked.ga4_events"), later.map((_, k) => BASE_MICROS + k + 1001));
  });

  it("goes through the day files when a bad line leaves the reader unable to go on, skipping the lines it set aside", async () => {
    const lines = sortedLines(30, 10);
    await importGa4(db.local, [file("clean.ndjson", lines)], { schema: "clean" });
    const clean = await table("clean");
    // An object as event_name (left to the reader), then a timestamp the reader cannot convert: the read fails, and the
    // day files hold every good line, neither bad one.
    const bad = [...lines.slice(0, 3), lines[3]!.replace(/"event_name":"[^"]*"/, '"event_name":{"x":1}'), ...lines.slice(3, 17), '{"event_date":"20240302","event_timestamp":"soon","event_name":"x"}', ...lines.slice(17)];
    const r = await importGa4(db.local, [file("bad.ndjson", bad)], { schema: "failed", badRows: "quarantine", badRowMaxShare: 0.5, batchChars: 500 });
    assert.deepEqual([r.reader, r.readWhileChecked, r.rows, r.quarantined], ["day files", false, 30, 2]);
    assert.deepEqual(await table("failed"), clean);
  });

  it("leaves no transaction open when the read while checked is abandoned just as it ends (a race, tried 100 times)", async () => {
    // Line 4 comes back to day 1: the pass abandons the read at about the moment a 60-line read ends. An interrupt
    // that reached the statement after the INSERT (seen once in CI, and here within ≈ 50 tries before the fix) left
    // an aborted transaction open, and the next statement failed.
    const f = file("interleaved.ndjson", eventLines(60));
    for (let i = 0; i < 100; i++) {
      const r = await importGa4(db.local, [f], { schema: `race_${i % 3}` });
      assert.deepEqual([r.reader, r.readWhileChecked], ["day files", false]);
      await db.conn.run("BEGIN TRANSACTION");
      await db.conn.run("ROLLBACK");
    }
  });

  it("falls back to the day files when the reader refuses what the checks accept (a key written twice; a byte order mark on more than one thread), and for a file name DuckDB would glob", async () => {
    const lines = sortedLines(12, 4);
    await importGa4(db.local, [file("clean.ndjson", lines)], { schema: "clean" });
    const clean = await table("clean");
    // DuckDB's JSON reader takes a byte order mark on one thread (the read while checked) and refuses it on more.
    await db.conn.run("SET threads = 2");
    const bom = await importGa4(db.local, [file("bom.ndjson", lines, "\uFEFF")], { schema: "bom" });
    assert.deepEqual([bom.reader, bom.readWhileChecked], ["files", true]);
    assert.deepEqual(await table("bom"), clean);
    // A real day table (of another day) keeps the read after the checks, on the engine's two threads: refused, so the day files.
    await db.conn.run("CREATE SCHEMA bom_later; CREATE TABLE bom_later.events_20200101 AS SELECT 1 AS x");
    const later = await importGa4(db.local, [file("bom-later.ndjson", lines, "\uFEFF")], { schema: "bom_later" });
    assert.deepEqual([later.reader, later.readWhileChecked], ["day files", false]);
    assert.deepEqual(await table("bom_later"), clean);
    // A key written twice: refused by the reader however it runs; json_transform (the first value) converts the day files.
    const twice = [...lines.slice(0, 5), lines[5]!.replace('"event_name":"page_view"', '"event_name":"first","event_name":"page_view"'), ...lines.slice(6)];
    assert.notEqual(twice[5], lines[5]);
    const dup = await importGa4(db.local, [file("twice.ndjson", twice)], { schema: "twice" });
    assert.deepEqual([dup.reader, dup.readWhileChecked], ["day files", false]);
    assert.deepEqual((await table("twice")).filter((_, k) => k !== 5), clean.filter((_, k) => k !== 5));
    assert.deepEqual((await db.conn.runAndReadAll(`SELECT event_name FROM twice.ga4_events ORDER BY rowid LIMIT 1 OFFSET 5`)).getRows(), [["first"]]);
    const glob = await importGa4(db.local, [file("events[1].ndjson", lines)], { schema: "globbed" });
    assert.equal(glob.reader, "day files");
    assert.deepEqual(await table("globbed"), clean);
  });
});
