/**
 * Importers on hostile values (issue 12): non-finite and negative amounts, impossible dates, INT64 and
 * FLOAT64 overflow, bytes that are not UTF-8, several files in one import, and the column options the
 * error messages point to. Each bad value is either quarantined with file:line:field or fails the import
 * naming them; a value is never changed silently.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { dbAndFolderPerTest } from "./support/duckdb.ts";
import { importCsvOrNdjson, importDp6Journeys, importGa4 } from "../src/import/index.ts";
import { inputQuality } from "../src/import/quarantine.ts";
import { isCalendarDay } from "../src/import/load.ts";
import { parseColumnMap } from "../src/cli/commands/import.ts";
import { InputError, UserError } from "../src/util/errors.ts";
import { ga4CreateTableSql } from "../src/import/ga4-schema.ts";
import { PROJECT_DIR, assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";

const HEADER = "transaction_id,user_id,client_id,transaction_created,transaction_status,transaction_revenue,transaction_region";

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

async function count(conn: DuckDBConnection, table: string): Promise<number> {
  return Number((await conn.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows()[0]![0]);
}

async function quarantined(conn: DuckDBConnection): Promise<{ line: number; field: string | null; reason: string; file: string }[]> {
  return (await rows(conn, `SELECT file, line, field, reason FROM funnelcredit_meta.import_quarantine ORDER BY file, line`)).map((r) => ({
    file: String(r.file), line: Number(r.line), field: r.field as string | null, reason: String(r.reason),
  }));
}

/** Reject mode: the import fails with an InputError naming this line and field. */
async function failsAt(p: Promise<unknown>, line: number, field: string | undefined, reason: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.equal(e.line, line, e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.reason, reason);
    return true;
  });
}

function ga4Line(o: Record<string, unknown>): string {
  return JSON.stringify({ event_date: "20240301", event_timestamp: 1709251200000000, event_name: "page_view", user_pseudo_id: "1.1", ...o });
}

/** UTF-8 text with "@@" replaced by one Latin-1 byte (0xFC, "ü" in Latin-1): not valid UTF-8. */
function latin1(text: string): Buffer {
  const [before, after] = text.split("@@");
  return Buffer.concat([Buffer.from(before!), Buffer.from([0xfc]), Buffer.from(after ?? "")]);
}

const QUARANTINE = { badRows: "quarantine" as const, badRowMaxShare: 0.9 };

describe("import: hostile values are quarantined or refused, never changed", function () {
  this.timeout(60_000);
  const fx = dbAndFolderPerTest("fc-hostile-");
  const file = fx.file;

  describe("amounts (item 4)", () => {
    it("quarantines NaN, inf, -inf, 1e309 and negative transaction revenue, each with its line and field", async () => {
      const f = file("t.csv", [
        HEADER,
        "T1,u1,c1,2024-03-01 10:00:00,completed,10.5,x", // line 2: good
        "T2,u1,c1,2024-03-01 10:00:00,completed,NaN,x",
        "T3,u1,c1,2024-03-01 10:00:00,completed,inf,x",
        "T4,u1,c1,2024-03-01 10:00:00,completed,-inf,x",
        "T5,u1,c1,2024-03-01 10:00:00,completed,1e309,x",
        "T6,u1,c1,2024-03-01 10:00:00,completed,-5,x",
        "T7,u1,c1,2024-03-01 10:00:00,completed,0,x", // line 8: good
      ].join("\n") + "\n");
      const r = await importCsvOrNdjson(fx.db.local, "transactions", f, QUARANTINE);
      assert.equal(r.rows, 2);
      assert.equal(r.quarantined, 5);
      assert.deepEqual((await rows(fx.db.conn, `SELECT transaction_id, transaction_revenue AS rev FROM funnelcredit_sources.crm_transactions ORDER BY 1`)), [
        { transaction_id: "T1", rev: 10.5 },
        { transaction_id: "T7", rev: 0 },
      ]);
      const q = await quarantined(fx.db.conn);
      assert.deepEqual(q.map((x) => [x.line, x.field]), [3, 4, 5, 6, 7].map((l) => [l, "transaction_revenue"]));
      assert.match(q[0]!.reason, /must be a finite number, got "NaN"/);
      assert.match(q[2]!.reason, /must be a finite number, got "-inf"/);
      assert.match(q[3]!.reason, /must be a finite number, got "1e309"/);
      assert.match(q[4]!.reason, /must not be negative, got "-5"/);
    });

    it("refuses a clean-looking file with one NaN (the fast reader path) naming its line", async () => {
      const f = file("t.csv", `${HEADER}\nT1,u1,c1,2024-03-01 10:00:00,completed,1,x\nT2,u1,c1,2024-03-01 10:00:00,completed,nan,x\n`);
      await failsAt(importCsvOrNdjson(fx.db.local, "transactions", f), 3, "transaction_revenue", /finite/);
    });

    it("refuses each bad path amount alone in a clean-looking file (the fast reader path), naming its line and field; keeps -0 and the largest finite amount", async () => {
      // The fast path's guard is the only check a clean-looking file meets: a value it let through would be imported.
      const head = "path,total_conversions,total_conversion_value,total_null\na > b,1,10,0\n";
      const cases: [string, string, RegExp][] = [
        ["NaN", "total_conversion_value", /finite number, got "NaN"/],
        ["inf", "total_conversion_value", /finite number, got "inf"/],
        ["-inf", "total_conversion_value", /finite number, got "-inf"/],
        ["1e309", "total_conversion_value", /finite number, got "1e309"/],
        ["-5", "total_conversion_value", /must not be negative, got "-5"/],
        ["-0.001", "total_conversion_value", /must not be negative, got "-0.001"/],
      ];
      for (const [i, [value, field, reason]] of cases.entries()) {
        const f = file(`bad-${i}.csv`, `${head}c,2,${value},1\n`);
        await failsAt(importCsvOrNdjson(fx.db.local, "paths", f), 3, field, reason);
      }
      const bad = file("bad-nulls.csv", `${head}c,2,1,-1\n`);
      await failsAt(importCsvOrNdjson(fx.db.local, "paths", bad), 3, "total_null", /must not be negative, got "-1"/);
      const good = file("good.csv", `${head}c,0,-0,1.7976931348623157e308\n`);
      assert.equal((await importCsvOrNdjson(fx.db.local, "paths", good)).rows, 2);
      assert.deepEqual(await rows(fx.db.conn, `SELECT path, total_conversion_value AS v, total_null AS n FROM funnelcredit_sources.channel_paths_import ORDER BY path`), [
        { path: "a > b", v: 10, n: 0 },
        { path: "c", v: -0, n: 1.7976931348623157e308 },
      ]);
    });

    it("reads amounts with blanks around them as the numbers, on the fast and the exact path", async () => {
      const head = "path,total_conversions,total_conversion_value,total_null\n";
      // ASCII blanks DuckDB's cast skips itself; the no-break and ideographic spaces only trim() removes.
      const padded = `a, 2 ,\t12.5,\u00a01\u3000\nb,\u3000\u30003,4.25 ,0\n`;
      const expected = [{ path: "a", c: 2, v: 12.5, n: 1 }, { path: "b", c: 3, v: 4.25, n: 0 }];
      const read = (): Promise<unknown[]> => rows(fx.db.conn, `SELECT path, total_conversions AS c, total_conversion_value AS v, total_null AS n FROM funnelcredit_sources.channel_paths_import ORDER BY path`);
      // A clean file: the fast reader path.
      assert.equal((await importCsvOrNdjson(fx.db.local, "paths", file("padded.csv", head + padded))).rows, 2);
      assert.deepEqual(await read(), expected);
      // One bad row: the reader still reads the file (the bad row alone is checked again line by line); the padded rows read the same.
      const r = await importCsvOrNdjson(fx.db.local, "paths", file("padded-bad.csv", `${head}${padded}c,x,1,1\n`), QUARANTINE);
      assert.deepEqual([r.rows, r.quarantined, r.files[0]!.read], [2, 1, "reader"]);
      assert.deepEqual(await read(), expected);
      // A row of another field count, which DuckDB's reader refuses, sends the file line by line: the same again.
      const e = await importCsvOrNdjson(fx.db.local, "paths", file("padded-short.csv", `${head}${padded}c\n`), QUARANTINE);
      assert.deepEqual([e.rows, e.quarantined, e.files[0]!.read], [2, 1, "lines"]);
      assert.deepEqual(await read(), expected);
    });

    it("checks costs, path values and custom event amounts the same way", async () => {
      const costs = file("costs.csv", "date,source,medium,cost\n2024-03-01,google,cpc,Infinity\n");
      await failsAt(importCsvOrNdjson(fx.db.local, "costs", costs), 2, "cost", /finite number, got "Infinity"/);
      const paths = file("paths.csv", "path,total_conversions,total_conversion_value,total_null\na > b,1,NaN,0\n");
      await failsAt(importCsvOrNdjson(fx.db.local, "paths", paths), 2, "total_conversion_value", /finite number, got "NaN"/);
      const events = file("e.ndjson", [
        JSON.stringify({ name: "call", time: "2024-03-01 10:00:00", user_id: "u1", revenue: "12.5" }),
        JSON.stringify({ name: "call", time: "2024-03-01 10:00:00", user_id: "u2", revenue: "NaN" }),
        JSON.stringify({ name: "call", time: "2024-03-01 10:00:00", user_id: "u3", cost: "-1" }),
        JSON.stringify({ name: "call", time: "not a time", user_id: "u4", revenue: "3" }),
      ].join("\n"));
      const r = await importCsvOrNdjson(fx.db.local, "custom_events", events, QUARANTINE);
      assert.equal(r.rows, 2);
      assert.deepEqual((await quarantined(fx.db.conn)).map((x) => [x.line, x.field, x.reason]), [
        [2, "revenue", 'must be a finite number, got "NaN"'],
        [3, "cost", 'must not be negative, got "-1"'],
      ]);
      // Amounts stay text, as custom events do (staging parses them); the bad time is staging's to quarantine.
      assert.deepEqual(await rows(fx.db.conn, `SELECT user_id, revenue, time FROM funnelcredit_sources.custom_events ORDER BY 1`), [
        { user_id: "u1", revenue: "12.5", time: "2024-03-01 10:00:00" },
        { user_id: "u4", revenue: "3", time: "not a time" },
      ]);
    });
  });

  describe("impossible dates (item 9)", () => {
    it("refuses a GA4 event_date that is not a calendar day, naming line and field", async () => {
      const f = file("g.ndjson", [ga4Line({}), ga4Line({ event_date: "20240132" }), ga4Line({ event_date: "00000000" })].join("\n"));
      await failsAt(importGa4(fx.db.local, [f]), 2, "event_date", /not a calendar date, got "20240132"/);
      const r = await importGa4(fx.db.local, [f], QUARANTINE);
      assert.deepEqual(r.tables, ["ga4_export.events_20240301"]);
      assert.deepEqual((await quarantined(fx.db.conn)).map((x) => [x.line, x.field, x.reason]), [
        [2, "event_date", 'is not a calendar date, got "20240132"'],
        [3, "event_date", 'is not a calendar date, got "00000000"'],
      ]);
      assert.equal(await count(fx.db.conn, `duckdb_tables() WHERE schema_name = 'ga4_export'`), 1);
    });

    it("knows calendar days", () => {
      assert.deepEqual(["20240229", "20230229", "20241231", "20240132", "00000000", "20241301", "2024030"].map(isCalendarDay), [true, false, true, false, false, false, false]);
    });

    it("refuses impossible dates in a CSV date column", async () => {
      const costs = file("costs.csv", "date,source,medium,cost\n2024-03-01,google,cpc,1\n20240132,google,cpc,1\n");
      await failsAt(importCsvOrNdjson(fx.db.local, "costs", costs), 3, "date", /expected a date/);
    });
  });

  describe("several files (item 10)", () => {
    it("loads every file in one transaction: the first replaces the table, the others add to it", async () => {
      const a = file("a.csv", `${HEADER}\nA1,u1,c1,2024-03-01 10:00:00,completed,1,x\n`);
      const b = file("b.csv", `${HEADER}\nB1,u1,c1,2024-03-02 10:00:00,completed,2,x\nB2,u2,c2,2024-03-02 11:00:00,completed,3,x\n`);
      const r = await importCsvOrNdjson(fx.db.local, "transactions", [a, b]);
      assert.equal(r.rows, 3);
      assert.deepEqual(r.files.map((x) => x.rows), [1, 2]);
      assert.deepEqual((await rows(fx.db.conn, `SELECT transaction_id FROM funnelcredit_sources.crm_transactions ORDER BY 1`)).map((x) => x.transaction_id), ["A1", "B1", "B2"]);
      // Replace mode again with one file: the table holds that file only.
      await importCsvOrNdjson(fx.db.local, "transactions", [b]);
      assert.equal(await count(fx.db.conn, "funnelcredit_sources.crm_transactions"), 2);
    });

    it("writes nothing when a later file is bad, and names that file's line", async () => {
      const a = file("a.csv", `${HEADER}\nA1,u1,c1,2024-03-01 10:00:00,completed,1,x\n`);
      await importCsvOrNdjson(fx.db.local, "transactions", [a]);
      const b = file("b.csv", `${HEADER}\nB1,u1,c1,2024-03-02 10:00:00,completed,ten,x\n`);
      await assert.rejects(importCsvOrNdjson(fx.db.local, "transactions", [a, b]), (e: unknown) => e instanceof InputError && e.file.endsWith("b.csv") && e.line === 2);
      assert.deepEqual((await rows(fx.db.conn, `SELECT transaction_id FROM funnelcredit_sources.crm_transactions`)).map((x) => x.transaction_id), ["A1"]);
      assert.equal(await count(fx.db.conn, "duckdb_tables() WHERE temporary"), 0);
    });

    it("holds the bad-row share to the limit over all files, quarantining with each row's own file", async () => {
      const a = file("a.csv", `${HEADER}\nA1,u1,c1,2024-03-01 10:00:00,completed,1,x\nA2,u1,c1,2024-03-01 10:00:00,completed,NaN,x\n`);
      const b = file("b.ndjson", [1, 2, 3].map((i) => JSON.stringify({ transaction_id: `B${i}`, transaction_created: "2024-03-02 10:00:00", transaction_revenue: i })).join("\n"));
      // 1 bad of 5 rows = 20 %: over a 10 % limit even though a.csv alone is 50 % and b.ndjson 0 %.
      await assert.rejects(importCsvOrNdjson(fx.db.local, "transactions", [a, b], { badRows: "quarantine", badRowMaxShare: 0.1 }), /1 of 5 transactions rows/);
      const r = await importCsvOrNdjson(fx.db.local, "transactions", [a, b], { badRows: "quarantine", badRowMaxShare: 0.25 });
      assert.equal(r.rows, 4);
      assert.ok((await quarantined(fx.db.conn)).every((x) => x.file.endsWith("a.csv") && x.line === 3));
    });

    it("loads several leads files and DP6 files together, a lead id repeated across files is a duplicate", async () => {
      const a = file("a.csv", "Lead ID,Converted,Score\nL1,1,3\nL2,0,4\n");
      const b = file("b.csv", "Lead ID,Converted,Score\nL3,yes,2.5\nL1,0,1\n");
      await failsAt(importCsvOrNdjson(fx.db.local, "leads", [a, b], { idColumn: "Lead ID", labelColumn: "Converted" }), 3, "Lead ID", /duplicate lead id "L1"/);
      const c = file("c.csv", "Lead ID,Converted,Score\nL3,yes,2.5\n");
      const r = await importCsvOrNdjson(fx.db.local, "leads", [a, c], { idColumn: "Lead ID", labelColumn: "Converted" });
      assert.equal(r.rows, 3);
      // Score is typed over both files: 2.5 in the second makes it DOUBLE.
      assert.deepEqual(await rows(fx.db.conn, `SELECT lead_id, converted, score FROM funnelcredit_sources.leads ORDER BY 1`), [
        { lead_id: "L1", converted: true, score: 3 },
        { lead_id: "L2", converted: false, score: 4 },
        { lead_id: "L3", converted: true, score: 2.5 },
      ]);
      const dp6Header = "user_pseudo_id,session_id,event_time,user_id,is_conversion_purchase,source_medium";
      const d1 = file("d1.csv", `${dp6Header}\nA,1,2022-03-01 10:00:00,,0,seo\n`);
      const d2 = file("d2.csv", `${dp6Header}\nB,2,2022-03-02 10:00:00,,1,direct\n`);
      const d = await importDp6Journeys(fx.db.local, [d1, d2]);
      assert.equal(d.rows, 3);
      const dup = file("d3.csv", `${dp6Header}\nC,1,2022-03-03 10:00:00,,0,seo\n`);
      await failsAt(importDp6Journeys(fx.db.local, [d1, dup]), 2, "session_id", /duplicate session id "1"/);
    });
  });

  describe("silent value changes (item 11)", () => {
    it("refuses a nested INT64 beyond 64 bits (string or number) and keeps the largest INT64 exact", async () => {
      const sid = (v: unknown): Record<string, unknown> => ({ event_params: [{ key: "page_location", value: { string_value: "x" } }, { key: "ga_session_id", value: { int_value: v } }] });
      const over = file("over.ndjson", [ga4Line(sid("9223372036854775807")), ga4Line(sid("9223372036854775808"))].join("\n"));
      await failsAt(importGa4(fx.db.local, [over]), 2, "event_params[1].value.int_value", /outside the INT64 range, got "9223372036854775808"/);
      const overNumber = file("over-number.ndjson", ga4Line({}).replace(/}$/, `,"event_params":[{"key":"ga_session_id","value":{"int_value":9223372036854775808}}]}`));
      await failsAt(importGa4(fx.db.local, [overNumber]), 1, "event_params[0].value.int_value", /outside the INT64 range/);
      const max = file("max.ndjson", ga4Line({}).replace(/}$/, `,"event_params":[{"key":"ga_session_id","value":{"int_value":9223372036854775807}}]}`));
      await importGa4(fx.db.local, [max]);
      assert.deepEqual(await rows(fx.db.conn, `SELECT event_params[1].value.int_value AS sid FROM ga4_export.events_20240301`), [{ sid: 9223372036854775807n }]);
    });

    it("refuses a FLOAT64 that overflows to infinity", async () => {
      const f = file("g.ndjson", [ga4Line({ event_params: [{ key: "value", value: { double_value: "1e400" } }] })].join("\n"));
      await failsAt(importGa4(fx.db.local, [f]), 1, "event_params[0].value.double_value", /too large for FLOAT64, got "1e400"/);
      const n = file("n.ndjson", ga4Line({}).replace(/}$/, `,"ecommerce":{"purchase_revenue":1e400}}`));
      await failsAt(importGa4(fx.db.local, [n]), 1, "ecommerce.purchase_revenue", /too large for FLOAT64/);
    });

    it("quarantines GA4 lines that are not UTF-8, naming the field", async () => {
      const bad = ga4Line({ event_params: [{ key: "page_title", value: { string_value: "caf@@" } }] });
      const f = file("g.ndjson", Buffer.concat([Buffer.from(ga4Line({}) + "\n"), latin1(bad)]));
      await failsAt(importGa4(fx.db.local, [f]), 2, "event_params[0].value.string_value", /not valid UTF-8/);
      const r = await importGa4(fx.db.local, [f], QUARANTINE);
      assert.equal(r.rows, 1);
      assert.equal(r.quarantined, 1);
      assert.deepEqual((await quarantined(fx.db.conn)).map((x) => [x.line, x.field]), [[2, "event_params[0].value.string_value"]]);
    });

    it("refuses an NDJSON integer past 2^53 that JSON.parse would round, naming line and field", async () => {
      const f = file("t.ndjson", [
        JSON.stringify({ transaction_id: "T1", transaction_created: "2024-03-01 10:00:00", transaction_revenue: 1 }),
        `{"transaction_id":"T2","user_id":12345678901234567891,"transaction_created":"2024-03-01 10:00:00","transaction_revenue":1}`,
        `{"transaction_id":"T3","user_id":"12345678901234567891","transaction_created":"2024-03-01 10:00:00","transaction_revenue":1}`,
      ].join("\n"));
      await failsAt(importCsvOrNdjson(fx.db.local, "transactions", f), 2, "user_id", /loses digits/);
      const r = await importCsvOrNdjson(fx.db.local, "transactions", f, QUARANTINE);
      assert.equal(r.rows, 2);
      assert.deepEqual(await rows(fx.db.conn, `SELECT user_id FROM funnelcredit_sources.crm_transactions WHERE transaction_id = 'T3'`), [{ user_id: "12345678901234567891" }]);
    });

    it("quarantines CSV rows that are not UTF-8 on both the fast and the exact path, naming line and field", async () => {
      const f = file("t.csv", latin1(`${HEADER}\nT1,u1,c1,2024-03-01 10:00:00,completed,1,Zürich\nT2,u1,c1,2024-03-01 10:00:00,completed,1,Z@@rich\n`));
      await failsAt(importCsvOrNdjson(fx.db.local, "transactions", f), 3, "transaction_region", /not valid UTF-8/);
      const r = await importCsvOrNdjson(fx.db.local, "transactions", f, QUARANTINE);
      assert.equal(r.rows, 1);
      assert.deepEqual(await rows(fx.db.conn, `SELECT transaction_region FROM funnelcredit_sources.crm_transactions`), [{ transaction_region: "Zürich" }]);
      assert.deepEqual((await quarantined(fx.db.conn)).map((x) => [x.line, x.field]), [[3, "transaction_region"]]);
      // The same for a leads file (no fast path) and a custom events NDJSON file.
      const leads = file("l.csv", latin1("id,converted,city\nL1,1,Z@@rich\n"));
      await failsAt(importCsvOrNdjson(fx.db.local, "leads", leads, { idColumn: "id", labelColumn: "converted" }), 2, "city", /not valid UTF-8/);
    });
  });

  describe("column options (item 15)", () => {
    const ALT = "id,created,revenue,crm_note\n";
    it("maps file columns onto the table's and drops unknown ones when asked", async () => {
      const f = file("t.csv", `${ALT}T1,2024-03-01 10:00:00,12.5,call back\n`);
      await failsAt(importCsvOrNdjson(fx.db.local, "transactions", f), 1, "id", /--map FILE_COLUMN=TABLE_COLUMN.*--ignore-unknown-columns/);
      const columnMap = { id: "transaction_id", created: "transaction_created", revenue: "transaction_revenue" };
      await failsAt(importCsvOrNdjson(fx.db.local, "transactions", f, { columnMap }), 1, "crm_note", /--ignore-unknown-columns/);
      const r = await importCsvOrNdjson(fx.db.local, "transactions", f, { columnMap, ignoreUnknownColumns: true });
      assert.equal(r.rows, 1);
      assert.deepEqual(await rows(fx.db.conn, `SELECT transaction_id, transaction_created::VARCHAR AS at, transaction_revenue AS rev FROM funnelcredit_sources.crm_transactions`), [
        { transaction_id: "T1", at: "2024-03-01 10:00:00", rev: 12.5 },
      ]);
      const nd = file("t.ndjson", JSON.stringify({ id: "T2", created: "2024-03-01 11:00:00", revenue: 3 }));
      await importCsvOrNdjson(fx.db.local, "transactions", nd, { columnMap });
      assert.deepEqual(await rows(fx.db.conn, `SELECT transaction_id, transaction_revenue AS rev FROM funnelcredit_sources.crm_transactions`), [{ transaction_id: "T2", rev: 3 }]);
      await failsAt(importCsvOrNdjson(fx.db.local, "transactions", f, { columnMap: { amount: "transaction_revenue" } }), 1, "amount", /--map amount=transaction_revenue: the header has no column "amount"/);
      // Leads: a mapped NDJSON key keeps its values (the key is renamed in every object, not only in the header).
      const leads = file("l.ndjson", [JSON.stringify({ id: "L1", won: 1, Score: 3 }), JSON.stringify({ id: "L2", won: 0, Score: 4 })].join("\n"));
      await importCsvOrNdjson(fx.db.local, "leads", leads, { idColumn: "lead_ref", labelColumn: "won", columnMap: { id: "lead_ref" } });
      assert.deepEqual(await rows(fx.db.conn, `SELECT lead_id, converted, score FROM funnelcredit_sources.leads ORDER BY 1`), [
        { lead_id: "L1", converted: true, score: 3n },
        { lead_id: "L2", converted: false, score: 4n },
      ]);
    });

    it("reads epoch seconds and milliseconds by magnitude, on both paths", async () => {
      // 1709287200 s = 1709287200000 ms = 2024-03-01 10:00:00 UTC; 1709287200.5 s keeps its half second.
      const body = "T1,u,c,1709287200,completed,1,x\nT2,u,c,1709287200000,completed,1,x\nT3,u,c,1709287200.5,completed,1,x\n";
      const fast = file("fast.csv", `${HEADER}\n${body}`);
      await importCsvOrNdjson(fx.db.local, "transactions", fast);
      const expect = [
        { transaction_id: "T1", at: "2024-03-01 10:00:00" },
        { transaction_id: "T2", at: "2024-03-01 10:00:00" },
        { transaction_id: "T3", at: "2024-03-01 10:00:00.5" },
      ];
      assert.deepEqual(await rows(fx.db.conn, `SELECT transaction_id, transaction_created::VARCHAR AS at FROM funnelcredit_sources.crm_transactions ORDER BY 1`), expect);
      // A bad row elsewhere (checked again line by line), and a row the reader refuses (the file read line by line): same values.
      for (const [name, bad, read] of [["marked.csv", "T4,u,c,1709287200,completed,ten,x", "reader"], ["exact.csv", "T4,u", "lines"]]) {
        const r = await importCsvOrNdjson(fx.db.local, "transactions", file(name!, `${HEADER}\n${body}${bad}\n`), QUARANTINE);
        assert.equal(r.files[0]!.read, read);
        assert.deepEqual(await rows(fx.db.conn, `SELECT transaction_id, transaction_created::VARCHAR AS at FROM funnelcredit_sources.crm_transactions ORDER BY 1`), expect);
      }
      // 12 digits of seconds would be the year 5138: milliseconds by the rule, so 1973; before 1990 is a bad row.
      const old = file("old.csv", `${HEADER}\nT1,u,c,100000000000,completed,1,x\n`);
      await failsAt(importCsvOrNdjson(fx.db.local, "transactions", old), 2, "transaction_created", /before 1990-01-01/);
    });

    it("parses --map entries and names a malformed one", () => {
      assert.deepEqual(parseColumnMap(["revenue=transaction_revenue", " id = transaction_id "]), { revenue: "transaction_revenue", id: "transaction_id" });
      assert.equal(parseColumnMap(undefined), undefined);
      assert.throws(() => parseColumnMap(["revenue"]), (e: unknown) => e instanceof UserError && /--map "revenue": expected FILE_COLUMN=TABLE_COLUMN/.test(e.message));
    });
  });
});

describe("import CLI: several files, --map, --ignore-unknown-columns (items 10, 15)", function () {
  this.timeout(120_000);
  it("keeps the rows of every file given", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-import-cli-"));
    const a = path.join(dir, "a.csv");
    const b = path.join(dir, "b.csv");
    writeFileSync(a, "id,created,revenue,note\nA1,2024-03-01 10:00:00,1,x\n");
    writeFileSync(b, "id,created,revenue,note\nB1,2024-03-02 10:00:00,2,y\nB2,1709287200,3,z\n");
    const warehouse = path.join(dir, "w.duckdb");
    const cli = (args: string[]): { code: number; stderr: string } => {
      const r = spawnSync(path.join(PROJECT_DIR, "node_modules", ".bin", "tsx"), [path.join(PROJECT_DIR, "src", "cli", "main.ts"), ...args], {
        cwd: PROJECT_DIR, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" },
      });
      return { code: r.status ?? -1, stderr: r.stderr };
    };
    const maps = ["--map", "id=transaction_id", "--map", "created=transaction_created", "--map", "revenue=transaction_revenue"];
    const unknown = cli(["import", "transactions", a, b, "--warehouse", warehouse, ...maps]);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /note.*--ignore-unknown-columns/);
    const r = cli(["import", "transactions", a, b, "--warehouse", warehouse, ...maps, "--ignore-unknown-columns"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /imported 3 rows into funnelcredit_sources\.crm_transactions from .*a\.csv \(1\), .*b\.csv \(2\)/);
  });
});

describe("GA4 staging skips a malformed day table and the run names it (item 9)", function () {
  this.timeout(180_000);
  it("stages the good days and warns about events_20240132", async () => {
    const engine = await memoryEngine();
    try {
      const project = await compiledProject({ start_date: "20240101" }, []);
      const ga4 = project.settings.datasets.ga4;
      const dir = mkdtempSync(path.join(os.tmpdir(), "fc-ga4-day-"));
      const f = path.join(dir, "g.ndjson");
      writeFileSync(f, [ga4Line({}), ga4Line({ event_timestamp: 1709251300000000, event_name: "scroll" })].join("\n"));
      await importGa4(engine.localLoading, [f], { schema: ga4 });
      // What the importer wrote before it checked calendar days (or a hand-made table): a day that does not exist.
      await engine.runNative(ga4CreateTableSql(engine.localLoading, `"${ga4}"."events_20240132"`));
      await engine.runNative(`INSERT INTO "${ga4}"."events_20240132" (event_date, event_timestamp, event_name, user_pseudo_id) VALUES ('20240132', 1706745600000000, 'page_view', '9.9')`);
      const run = await runProject(project, engine, { selection: { actions: ["stg_ga4_events"], includeDependencies: true } });
      assertRunSucceeded(run);
      const staged = await engine.queryNative(`SELECT event_name, CAST(event_date AS VARCHAR) AS d FROM ${project.settings.datasets.staging}.stg_ga4_events ORDER BY event_at`);
      assert.deepEqual(staged, [{ event_name: "page_view", d: "2024-03-01" }, { event_name: "scroll", d: "2024-03-01" }]);
      const q = await inputQuality(engine, project.graph.projectConfig.defaultDatabase, project.settings, run.runId);
      assert.ok(q.warnings.some((w) => /events_20240132/.test(w) && /skipped/.test(w)), q.warnings.join("\n"));
      assert.equal(q.failure, undefined);
    } finally {
      await engine.close();
    }
  });
});
