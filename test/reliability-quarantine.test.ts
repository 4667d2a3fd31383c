/**
 * Promise 1 (bad input never crashes a run and is never silently lost): in quarantine mode every bad
 * row goes to <base>_meta.import_quarantine with its source, file, line, field, reason and raw text;
 * every good row is imported; past vars.bad_row_max_share the import fails, clearly, writing nothing
 * but the quarantine. The run summary counts quarantined rows, and a staged bad-row share past the
 * threshold fails the run. Longer randomised fuzzing is in test/soak/fuzz-input.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { importCsvOrNdjson, importGa4 } from "../src/import/index.ts";
import { BadRowShareError, inputQuality, RAW_ROW_MAX_CHARS } from "../src/import/quarantine.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { InputError } from "../src/util/errors.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { PROJECT_DIR, fixtureTable, memoryEngine } from "./support/warehouse.ts";
import { runCli } from "./support/cli.ts";

const settings = loadProjectSettings(PROJECT_DIR).settings;
const META = settings.datasets.meta;
const HUGE = "x".repeat(200_000);
const FUTURE = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 19).replace("T", " ");

/** Good rows (whose ids must all arrive) and bad rows (each must be quarantined with this field). */
const TRANSACTIONS = {
  header: "transaction_id,user_id,client_id,transaction_created,transaction_status,transaction_revenue,transaction_region",
  good: [
    ["t1", "u1", "c1", "2024-01-02 10:00:00", "paid", "10.5", "Zürich"],
    ["t2", "", "c2", "2024-01-02T11:00:00Z", "paid", "", "東京"],
    ["t3", "u3", "", "2024-01-03 09:00:00+02:00", `"${HUGE}"`, "0", "emoji 🚀"],
    ["t4", "u4", "c4", "2024-01-03 10:00:00", "paid", "1e3", `"a ""quoted"", region"`],
    ["t4", "u4", "c4", "2024-01-03 10:00:00", "paid", "1e3", "dup rows are not bad: staging deduplicates"],
  ],
  bad: [
    { line: ["", "u5", "c5", "2024-01-02 10:00:00", "paid", "1", "x"], field: "transaction_id", reason: /required/ },
    { line: ["t6", "u6", "c6", "yesterday", "paid", "1", "x"], field: "transaction_created", reason: /expected a timestamp .*, got "yesterday"/ },
    { line: ["t7", "u7", "c7", "2024-01-02 10:00:00", "paid", "ten", "x"], field: "transaction_revenue", reason: /expected a number, got "ten"/ },
    { line: ["t8", "u8", "c8", FUTURE, "paid", "1", "x"], field: "transaction_created", reason: /in the future/ },
    { line: ["t9", "u9", "c9", "1970-01-01 00:00:00", "paid", "1", "x"], field: "transaction_created", reason: /before 1990-01-01/ },
    { line: ["t10", "u10", "c10", "2024-01-02 10:00:00", "paid", "1"], field: "transaction_region", reason: /expected 7 fields/ },
    { line: ["t11", "u11", "c11", "2024-01-02 10:00:00", 'pa"id', "1", "x"], field: "transaction_status", reason: /quote inside an unquoted field/ },
  ],
};

function writeTransactions(dir: string): { file: string; badLines: number[] } {
  const lines = [TRANSACTIONS.header];
  const badLines: number[] = [];
  // Interleave: good, bad, good, bad, …
  const n = Math.max(TRANSACTIONS.good.length, TRANSACTIONS.bad.length);
  for (let i = 0; i < n; i++) {
    if (TRANSACTIONS.good[i]) lines.push(TRANSACTIONS.good[i]!.join(","));
    if (TRANSACTIONS.bad[i]) {
      lines.push(TRANSACTIONS.bad[i]!.line.join(","));
      badLines.push(lines.length);
    }
  }
  const file = path.join(dir, "transactions.csv");
  writeFileSync(file, lines.join("\n") + "\n");
  return { file, badLines };
}

async function quarantined(engine: DuckDBEngine): Promise<{ source: string; file: string; line: number; field: string | null; reason: string; raw_row: string }[]> {
  return (await engine.queryNative(`SELECT source, file, line, field, reason, raw_row, quarantined_at FROM ${META}.import_quarantine ORDER BY line`)) as never;
}

describe("reliability: bad input rows are quarantined, never lost", function () {
  this.timeout(60_000);
  let dir: string;
  let engine: DuckDBEngine;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "fc-quarantine-"));
    engine = await memoryEngine();
  });
  afterEach(async () => engine.close());

  it("imports every good CRM row and quarantines each bad one with source, file, line, field, reason and raw row", async () => {
    const { file, badLines } = writeTransactions(dir);
    const r = await importCsvOrNdjson(engine.localLoading, "transactions", file, { badRows: "quarantine", badRowMaxShare: 0.6, quarantineSchema: META });
    assert.equal(r.rows, TRANSACTIONS.good.length);
    assert.equal(r.quarantined, TRANSACTIONS.bad.length);
    const got = await engine.queryNative(`SELECT transaction_id, transaction_region, length(transaction_status) AS status_length FROM funnelcredit_sources.crm_transactions ORDER BY transaction_id, transaction_region`);
    assert.deepEqual(got.map((g) => g.transaction_id), ["t1", "t2", "t3", "t4", "t4"]);
    assert.deepEqual(got.map((g) => g.transaction_region), ["Zürich", "東京", "emoji 🚀", 'a "quoted", region', "dup rows are not bad: staging deduplicates"]);
    assert.equal(got[2]!.status_length, HUGE.length, "a huge string is data, kept whole");
    const q = await quarantined(engine);
    assert.deepEqual(q.map((x) => x.line), badLines);
    TRANSACTIONS.bad.forEach((b, i) => {
      assert.equal(q[i]!.source, "transactions");
      assert.match(q[i]!.file, /transactions\.csv$/);
      assert.equal(q[i]!.field, b.field, `line ${badLines[i]}: ${JSON.stringify(q[i])}`);
      assert.match(q[i]!.reason, b.reason, `line ${badLines[i]}: ${q[i]!.reason}`);
      assert.ok(q[i]!.raw_row.includes(b.line[0] || "u5"), `raw row of line ${badLines[i]}: ${q[i]!.raw_row.slice(0, 300)}`);
    });
  });

  it("fails past vars.bad_row_max_share with a clear message, importing nothing but the quarantine", async () => {
    await fixtureTable(engine, "funnelcredit_sources", "crm_transactions", { transaction_id: "VARCHAR" }, [["previous"]]);
    const { file } = writeTransactions(dir);
    await assert.rejects(importCsvOrNdjson(engine.localLoading, "transactions", file, { badRows: "quarantine", badRowMaxShare: 0.05, quarantineSchema: META }), (e: Error) => {
      assert.ok(e instanceof BadRowShareError);
      assert.match(e.message, /7 of 12 transactions rows \(58\.3%\) failed validation, more than vars\.bad_row_max_share \(5\.0%\); nothing was imported/);
      assert.match(e.message, new RegExp(`bad rows are in ${META}\\.import_quarantine \\(e\\.g\\. .*transactions\\.csv:3 field "transaction_id": a value is required here\\)`));
      assert.match(e.message, /raise vars\.bad_row_max_share/);
      return true;
    });
    assert.deepEqual(await engine.queryNative(`SELECT transaction_id FROM funnelcredit_sources.crm_transactions`), [{ transaction_id: "previous" }]);
    assert.equal((await quarantined(engine)).length, 7);
  });

  it("still rejects at the first bad row in reject mode (the library default)", async () => {
    const { file } = writeTransactions(dir);
    // Rows that are not CSV are found while reading, before values are checked: line 12 comes first.
    await assert.rejects(importCsvOrNdjson(engine.localLoading, "transactions", file), (e: unknown) => e instanceof InputError && /transactions\.csv:12 field "transaction_region": expected 7 fields/.test((e as Error).message));
  });

  it("quarantines bad GA4 export lines (not JSON, missing ids, wrong types, timestamps in the future or far past) and keeps NULL records, unicode and duplicates", async () => {
    const ev = (o: Record<string, unknown>): string => JSON.stringify({ event_date: "20240102", event_timestamp: 1704189600000000, event_name: "page_view", user_pseudo_id: "p1", ...o });
    const lines = [
      ev({}),                                                                      // 1 good
      "{not json",                                                                 // 2 bad
      ev({ event_name: null }),                                                    // 3 bad: missing
      ev({ event_timestamp: "abc" }),                                              // 4 bad: type
      ev({ device: null, geo: null, event_params: null, user_pseudo_id: "ü🚀" }),  // 5 good: NULL records, unicode
      ev({ event_timestamp: (Date.now() + 30 * 86_400_000) * 1000 }),              // 6 bad: future
      ev({ event_timestamp: 1000 }),                                               // 7 bad: 1970
      ev({}),                                                                      // 8 good: a duplicate of 1 (staging deduplicates)
      ev({ event_params: [{ key: "k", value: { string_value: HUGE } }] }),         // 9 good: huge string
      "[1,2]",                                                                     // 10 bad: not an object
    ];
    const file = path.join(dir, "ga4.ndjson");
    writeFileSync(file, lines.join("\n") + "\n");
    const r = await importGa4(engine.localLoading, [file], { badRows: "quarantine", badRowMaxShare: 0.6, quarantineSchema: META });
    assert.equal(r.rows, 4);
    assert.equal(r.quarantined, 6);
    const q = await quarantined(engine);
    assert.deepEqual(q.map((x) => [x.line, x.field]), [[2, null], [3, "event_name"], [4, "event_timestamp"], [6, "event_timestamp"], [7, "event_timestamp"], [10, null]]);
    assert.ok(q.every((x) => x.source === "ga4"));
    const [big] = await engine.queryNative(`SELECT max(length(p.value.string_value)) AS n FROM (SELECT unnest(event_params) AS p FROM ga4_export.events_20240102)`);
    assert.equal(Number(big!.n), HUGE.length);
  });

  it("keeps the first of duplicate lead ids and quarantines the rest", async () => {
    const file = path.join(dir, "leads.csv");
    writeFileSync(file, "Prospect ID,Converted,Score\na,1,5\nb,0,3\na,0,7\nc,yes,1\n");
    const r = await importCsvOrNdjson(engine.localLoading, "leads", file, { idColumn: "Prospect ID", labelColumn: "Converted", badRows: "quarantine", badRowMaxShare: 0.5, quarantineSchema: META });
    assert.equal(r.rows, 3);
    assert.deepEqual(await engine.queryNative(`SELECT lead_id, score FROM funnelcredit_sources.leads ORDER BY lead_id`), [{ lead_id: "a", score: 5 }, { lead_id: "b", score: 3 }, { lead_id: "c", score: 1 }]);
    const q = await quarantined(engine);
    assert.deepEqual(q.map((x) => [x.line, x.field]), [[4, "Prospect ID"]]);
    assert.match(q[0]!.reason, /duplicate lead id "a"/);
  });

  it("clips raw rows of enormous bad lines", async () => {
    const file = path.join(dir, "costs.csv");
    writeFileSync(file, `date,source,medium,cost\n2024-01-01,g,cpc,1\n2024-01-01,g,cpc,${HUGE}\n` + "2024-01-02,g,cpc,2\n".repeat(30));
    const r = await importCsvOrNdjson(engine.localLoading, "costs", file, { badRows: "quarantine", quarantineSchema: META });
    assert.equal(r.rows, 31);
    const [q] = await quarantined(engine);
    assert.ok(q!.raw_row.length <= RAW_ROW_MAX_CHARS + 20, `raw_row is ${q!.raw_row.length} characters`);
  });

  it("counts quarantined rows for the run summary, and fails the run when staged custom events pass the threshold", async () => {
    const { file } = writeTransactions(dir);
    await importCsvOrNdjson(engine.localLoading, "transactions", file, { badRows: "quarantine", badRowMaxShare: 1, quarantineSchema: META });
    await fixtureTable(engine, settings.datasets.sources, "custom_events", { name: "VARCHAR" }, Array.from({ length: 20 }, () => ["e"]));
    await fixtureTable(engine, META, "custom_events_quarantine", { row_number: "BIGINT", reason: "VARCHAR" }, [[1, "missing time"]]);
    const ok = await inputQuality(engine, "p", settings, "run-1");
    assert.deepEqual(ok.warnings, [
      `7 input row(s) quarantined by imports since the previous run (transactions: 7); see ${META}.import_quarantine`,
      `1 of 20 custom events quarantined in staging; see ${META}.custom_events_quarantine`,
    ]);
    assert.equal(ok.failure, undefined, "1 of 20 is 5%, not more than the default 5%");
    await engine.runNative(`INSERT INTO ${META}.custom_events_quarantine VALUES (2, 'unparseable time')`);
    const bad = await inputQuality(engine, "p", settings, "run-1");
    assert.match(bad.failure!, /2 of 20 custom events \(10\.0%\) failed validation, more than vars\.bad_row_max_share \(5\.0%\); the reasons are in .*custom_events_quarantine/);
  });

  it("holds staged custom events of every source to the threshold against all their rows, and counts quarantined cost rows (regression: bad rows of configured sources were divided by the custom_events table's rows only)", async () => {
    // 20 rows in the custom_events table, 80 more from configured sources (all in stg_custom_events_checked); 3 bad: 3 %.
    await fixtureTable(engine, settings.datasets.sources, "custom_events", { name: "VARCHAR" }, Array.from({ length: 20 }, () => ["e"]));
    await fixtureTable(engine, settings.datasets.staging, "stg_custom_events_checked", { source: "VARCHAR" }, Array.from({ length: 100 }, (_, i) => [i < 20 ? "custom_events" : "call_centre"]));
    await fixtureTable(engine, META, "custom_events_quarantine", { row_number: "BIGINT", reason: "VARCHAR", source: "VARCHAR" },
      [[1, "call_centre: missing time", "call_centre"], [2, "call_centre: unparseable time", "call_centre"], [3, "missing name", "custom_events"]]);
    await fixtureTable(engine, META, "costs_quarantine", { cost_source: "VARCHAR", reason: "VARCHAR" }, [["google_ads", "google_ads: missing date"]]);
    const q = await inputQuality(engine, "p", settings, "run-1");
    assert.equal(q.failure, undefined, "3 of 100 is 3 %, within 5 %");
    assert.deepEqual(q.warnings, [
      `1 cost row(s) of the cost sources quarantined in staging; see ${META}.costs_quarantine`,
      `3 of 100 custom events quarantined in staging; see ${META}.custom_events_quarantine`,
    ]);
  });

  it("notes, without warning, staged custom events quarantined below vars.bad_row_warn_share", async () => {
    // 1 of 200 = 0.5 %, under the default 1 %: a note; 3 of 200 = 1.5 %: a warning.
    await fixtureTable(engine, settings.datasets.sources, "custom_events", { name: "VARCHAR" }, Array.from({ length: 200 }, () => ["e"]));
    await fixtureTable(engine, META, "custom_events_quarantine", { row_number: "BIGINT", reason: "VARCHAR" }, [[1, "missing time"]]);
    const few = await inputQuality(engine, "p", settings, "run-1");
    assert.deepEqual(few.warnings, []);
    assert.deepEqual(few.notes, [`1 of 200 custom events quarantined in staging; see ${META}.custom_events_quarantine (0.50%, not more than vars.bad_row_warn_share 1.0%)`]);
    await engine.runNative(`INSERT INTO ${META}.custom_events_quarantine VALUES (2, 'unparseable time'), (3, 'negative revenue')`);
    const more = await inputQuality(engine, "p", settings, "run-1");
    assert.deepEqual(more.warnings, [`3 of 200 custom events quarantined in staging; see ${META}.custom_events_quarantine`]);
    assert.equal(more.failure, undefined);
  });

  it("makes quarantine the CLI import's default, saying how many rows were set aside", async function () {
    this.timeout(60_000);
    const { file } = writeTransactions(dir);
    const w = path.join(dir, "w.duckdb");
    const r = runCli(["import", "transactions", file, "--warehouse", w, "--vars", "bad_row_max_share=0.6"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`imported 5 rows into funnelcredit_sources\\.crm_transactions; 7 bad row\\(s\\) set aside in ${META}\\.import_quarantine`));
    const strict = runCli(["import", "transactions", file, "--warehouse", w]);
    assert.equal(strict.code, 2);
    assert.match(strict.stderr, /error: .*transactions\.csv: 7 of 12 transactions rows .* more than vars\.bad_row_max_share \(5\.0%\)/);
  });
});
