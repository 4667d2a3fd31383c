import { openDb } from "./support/duckdb.ts";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { importGa4 } from "../src/import/ga4.ts";
import { importCsvOrNdjson } from "../src/import/sources.ts";
import { importDp6Journeys } from "../src/import/dp6.ts";
import { GA4_EVENTS_SCHEMA } from "../src/import/ga4-schema.ts";
import { parseCsvRecord, readLineBatches, readLines, snakeCase } from "../src/import/read.ts";
import { gzipSync } from "node:zlib";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { InputError } from "../src/util/errors.ts";
import { SHARED_DATA } from "./support/warehouse.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const fx = (f: string): string => path.join(here, "fixtures", "import", f);
const shared = (f: string): string => path.join(SHARED_DATA, f);


async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

async function one(conn: DuckDBConnection, sql: string): Promise<unknown> {
  const r = (await conn.runAndReadAll(sql)).getRows()[0];
  return r?.[0];
}

/** Assert that `p` rejects with an InputError whose message matches file:line field "x". */
async function rejectsWith(p: Promise<unknown>, file: string, line: number, field: string | undefined, reason: RegExp): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.ok(e.file.endsWith(file), `file ${e.file} should end with ${file}`);
    assert.equal(e.line, line, e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, reason);
    assert.ok(e.message.includes(`${file}:${line}`), e.message);
    return e;
  }
  assert.fail("expected the import to fail");
}

describe("GA4 export import", () => {
  let db: Awaited<ReturnType<typeof openDb>>;
  beforeEach(async () => (db = await openDb()));
  afterEach(() => db.close());

  it("splits the 700-event shared sample into 92 days (a view each over one table) with the right row counts", async function () {
    const r = await importGa4(db.local, [shared("ga4-obfuscated-sample-ecommerce/ga4_events_sample.ndjson")]);
    assert.equal(r.tables.length, 92);
    assert.equal(r.rows, 700);
    assert.deepEqual(r.ignoredFields, []);
    assert.equal(r.tables[0], "ga4_export.events_20201101");
    assert.equal(r.tables[91], "ga4_export.events_20210131");
    // One table holds the export; each day is a view over it.
    const tables = await rows(db.conn, `SELECT table_name FROM duckdb_tables() WHERE schema_name = 'ga4_export'`);
    assert.deepEqual(tables.map((t) => t.table_name), ["ga4_events"]);
    const views = await rows(db.conn, `SELECT view_name FROM duckdb_views() WHERE schema_name = 'ga4_export' ORDER BY 1`);
    assert.deepEqual(views.map((v) => `ga4_export.${String(v.view_name)}`), r.tables);
    let total = 0;
    for (const t of r.tables) {
      const n = Number(await one(db.conn, `SELECT count(*) FROM ${t}`));
      assert.equal(n, r.rowsByTable[t.split(".")[1]!]);
      assert.ok(n >= 5 && n <= 10, `${t} has ${n} rows`);
      total += n;
    }
    assert.equal(total, 700);
  });

  it("keeps nested values readable with DuckDB SQL and matches the sample's content facts", async () => {
    await importGa4(db.local, [shared("ga4-obfuscated-sample-ecommerce/ga4_events_sample.ndjson")]);
    const tables = (await rows(db.conn, `SELECT table_name FROM duckdb_tables() WHERE schema_name = 'ga4_export'`)).map(
      (r) => `SELECT * FROM ga4_export."${String(r.table_name)}"`,
    );
    await db.conn.run(`CREATE TEMP VIEW all_events AS ${tables.join(" UNION ALL BY NAME ")}`);
    // SOURCE.md: 178 users, 206 sessions, devices desktop 424 / mobile 269 / tablet 7, 0 user_id.
    const facts = (
      await rows(
        db.conn,
        `SELECT count(DISTINCT user_pseudo_id) AS users,
                count(DISTINCT (user_pseudo_id, (SELECT p.value.int_value FROM unnest(event_params) AS t(p) WHERE p.key = 'ga_session_id'))) AS sessions,
                count(*) FILTER (WHERE device.category = 'desktop') AS desktop,
                count(*) FILTER (WHERE device.category = 'mobile') AS mobile,
                count(user_id) AS with_user_id,
                count(*) FILTER (WHERE traffic_source.source = 'google' AND traffic_source.medium = 'organic') AS google_organic,
                count(*) FILTER (WHERE geo.country = 'United States') AS us,
                count(*) FILTER (WHERE event_name = 'page_view') AS page_views,
                sum(len(items)) FILTER (WHERE len(items) > 0) > 0 AS has_items
         FROM all_events`,
      )
    )[0]!;
    assert.deepEqual(
      { ...facts },
      { users: 178n, sessions: 206n, desktop: 424n, mobile: 269n, with_user_id: 0n, google_organic: 238n, us: 334n, page_views: 229n, has_items: true },
    );
    const type = await one(db.conn, `SELECT typeof(event_timestamp) FROM ga4_export.events_20201101 LIMIT 1`);
    assert.equal(type, "BIGINT");
  });

  it("creates every column of the shared export schema, bookkeeping fields dropped", async () => {
    await importGa4(db.local, [fx("ga4_good.ndjson")]);
    const cols = (await rows(db.conn, `DESCRIBE ga4_export.events_20240301`)).map((r) => r.column_name);
    assert.deepEqual(cols, GA4_EVENTS_SCHEMA.map((c) => c.name));
    assert.ok(cols.includes("collected_traffic_source"));
    assert.ok(!cols.includes("_source_table"));
  });

  it("accepts INT64 as a JSON number or a string", async () => {
    const r = await importGa4(db.local, [fx("ga4_good.ndjson")], { schema: "ga" });
    assert.deepEqual(r.rowsByTable, { events_20240301: 2, events_20240302: 1 });
    const ts = await rows(db.conn, `SELECT event_timestamp, event_params[1].value.int_value AS sid, device.category AS cat FROM ga.events_20240301 ORDER BY 1`);
    assert.deepEqual(ts, [
      { event_timestamp: 1709251200000000n, sid: 17n, cat: null },
      { event_timestamp: 1709251205000000n, sid: 17n, cat: "mobile" },
    ]);
  });

  it("writes intraday tables when asked, and appends in append mode", async () => {
    await importGa4(db.local, [fx("ga4_good.ndjson")], { intraday: true });
    assert.equal(Number(await one(db.conn, `SELECT count(*) FROM ga4_export.events_intraday_20240301`)), 2);
    await importGa4(db.local, [fx("ga4_good.ndjson")], { intraday: true, mode: "append" });
    assert.equal(Number(await one(db.conn, `SELECT count(*) FROM ga4_export.events_intraday_20240301`)), 4);
    await importGa4(db.local, [fx("ga4_good.ndjson")], { intraday: true });
    assert.equal(Number(await one(db.conn, `SELECT count(*) FROM ga4_export.events_intraday_20240301`)), 2);
  });

  describe("rejects malformed files naming file, line and field, leaving the previous tables intact", () => {
    beforeEach(async () => {
      await importGa4(db.local, [fx("ga4_good.ndjson")]);
    });
    const intact = async (): Promise<void> => {
      assert.equal(Number(await one(db.conn, `SELECT count(*) FROM ga4_export.events_20240301`)), 2);
      assert.equal(Number(await one(db.conn, `SELECT count(*) FROM ga4_export.events_20240302`)), 1);
      assert.equal(Number(await one(db.conn, `SELECT count(*) FROM duckdb_tables() WHERE temporary`)), 0);
    };

    it("a line that is not JSON", async () => {
      await rejectsWith(importGa4(db.local, [fx("ga4_bad_json.ndjson")]), "ga4_bad_json.ndjson", 2, undefined, /not valid JSON/);
      await intact();
    });
    it("a wrong type", async () => {
      const e = await rejectsWith(importGa4(db.local, [fx("ga4_wrong_type.ndjson")]), "ga4_wrong_type.ndjson", 3, "event_timestamp", /expected an integer, got "abc"/);
      assert.match(e.message, /ga4_wrong_type\.ndjson:3 field "event_timestamp": expected an integer, got "abc"/);
      await intact();
    });
    it("a missing required field", async () => {
      await rejectsWith(importGa4(db.local, [fx("ga4_missing_field.ndjson")]), "ga4_missing_field.ndjson", 2, "event_name", /required/);
      await intact();
    });
    it("a wrong type deep inside event_params", async () => {
      await rejectsWith(
        importGa4(db.local, [fx("ga4_nested_wrong_type.ndjson")]),
        "ga4_nested_wrong_type.ndjson",
        1,
        "event_params[1].value.int_value",
        /expected an integer, got "12.5"/,
      );
      await intact();
    });
    it("a bad second file after a good first one", async () => {
      await rejectsWith(importGa4(db.local, [fx("ga4_good.ndjson"), fx("ga4_wrong_type.ndjson")], { mode: "append" }), "ga4_wrong_type.ndjson", 3, "event_timestamp", /integer/);
      await intact();
    });
    it("a missing file", async () => {
      await assert.rejects(importGa4(db.local, [fx("nope.ndjson")]), (e: unknown) => e instanceof InputError && /nope\.ndjson: cannot read/.test(e.message));
      await intact();
    });
  });
});

describe("source file import", () => {
  let db: Awaited<ReturnType<typeof openDb>>;
  beforeEach(async () => (db = await openDb()));
  afterEach(() => db.close());

  it("loads ChannelAttribution's PathData.csv with Σ total_conversions = 19,785", async () => {
    const r = await importCsvOrNdjson(db.local, "paths", shared("channelattribution-pathdata/PathData.csv"));
    assert.equal(r.table, "funnelcredit_sources.channel_paths_import");
    assert.equal(r.rows, 10000);
    const s = (await rows(db.conn, `SELECT sum(total_conversions) AS c, round(sum(total_conversion_value), 4) AS v, sum(total_null) AS n, count(DISTINCT path) AS paths FROM funnelcredit_sources.channel_paths_import`))[0]!;
    // SOURCE.md: Σ conversions 19,785; Σ value 74,802.9715872109; Σ null 68,602; 5,408 distinct paths.
    assert.deepEqual({ ...s }, { c: 19785, v: 74802.9716, n: 68602, paths: 5408n });
  });

  it("loads X Education's Leads.csv: 9,240 leads, 38.54 % converted, Select read as NULL, snake_case columns", async () => {
    const r = await importCsvOrNdjson(db.local, "leads", shared("x-education-leads/Leads.csv"), {
      idColumn: "Prospect ID",
      labelColumn: "Converted",
      exclude: ["Tags", "Lead Quality"],
    });
    assert.equal(r.rows, 9240);
    const s = (
      await rows(
        db.conn,
        `SELECT count(*) AS n, round(100 * avg(converted::INT), 2) AS pct, count(created_at) AS created,
                count(specialization) AS spec, count(*) FILTER (WHERE city = 'Select') AS selects, count(DISTINCT lead_id) AS ids
         FROM funnelcredit_sources.leads`,
      )
    )[0]!;
    // SOURCE.md: 3,561 / 9,240 = 38.54 %; Specialization 9,240 − 1,438 empty − 1,942 Select = 5,860.
    assert.deepEqual({ ...s }, { n: 9240n, pct: 38.54, created: 0n, spec: 5860n, selects: 0n, ids: 9240n });
    const types = Object.fromEntries(r.columns.map((c) => [c.name, c.type]));
    assert.equal(types.lead_number, "BIGINT");
    assert.equal(types.total_visits, "BIGINT");
    assert.equal(types.page_views_per_visit, "DOUBLE");
    assert.equal(types.do_not_email, "BOOLEAN");
    assert.equal(types.lead_origin, "VARCHAR");
    assert.equal(types.tags, undefined);
    assert.equal(types.prospect_id, undefined);
  });

  it("synthesises created_at from Lead Number order only when asked", async () => {
    await importCsvOrNdjson(db.local, "leads", shared("x-education-leads/Leads.csv"), {
      idColumn: "Prospect ID",
      labelColumn: "Converted",
      synthesiseCreatedAt: { orderColumn: "Lead Number", start: "2024-01-01", end: "2024-06-30" },
    });
    const s = (
      await rows(
        db.conn,
        `SELECT min(created_at)::VARCHAR AS lo, max(created_at)::VARCHAR AS hi,
                bool_and(prev IS NULL OR created_at > prev) AS ordered
         FROM (SELECT created_at, lag(created_at) OVER (ORDER BY lead_number) AS prev FROM funnelcredit_sources.leads)`,
      )
    )[0]!;
    assert.deepEqual({ ...s }, { lo: "2024-01-01 00:00:00", hi: "2024-06-30 00:00:00", ordered: true });
  });

  it("types a small leads file and rejects duplicate lead ids", async () => {
    await importCsvOrNdjson(db.local, "leads", fx("leads_small.csv"), { idColumn: "lead_id", labelColumn: "Converted", createdAtColumn: "Created At" });
    const r = await rows(db.conn, `SELECT lead_id, created_at::VARCHAR AS c, converted, user_id, company_size, industry, annual_revenue, newsletter FROM funnelcredit_sources.leads ORDER BY 1`);
    assert.deepEqual(r[1], { lead_id: "L2", c: "2024-03-02 10:00:00", converted: false, user_id: null, company_size: null, industry: "Finance", annual_revenue: 2, newsletter: false });
    await rejectsWith(
      importCsvOrNdjson(db.local, "leads", fx("leads_duplicate.csv"), { idColumn: "Lead ID", labelColumn: "Converted" }),
      "leads_duplicate.csv",
      4,
      "Lead ID",
      /duplicate lead id "L1"/,
    );
    assert.equal(Number(await one(db.conn, `SELECT count(*) FROM funnelcredit_sources.leads`)), 3);
  });

  it("loads the DP6 journeys as custom events: one 'session' per row plus one 'purchase' per conversion", async () => {
    const r = await importDp6Journeys(db.local, shared("dp6-mam-test-dataset/test_dataset_multiple_conversions.csv"));
    // 19 sessions; conversions A, C, D×2 = 1 each, E = n_purchases 2 → 6 purchases.
    assert.equal(r.rows, 25);
    const s = await rows(
      db.conn,
      `SELECT name, count(*) AS n, count(DISTINCT client_id) AS clients, count(user_id) AS with_user FROM funnelcredit_sources.custom_events GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(s, [
      { name: "purchase", n: 6n, clients: 4n, with_user: 6n },
      { name: "session", n: 19n, clients: 5n, with_user: 5n },
    ]);
    const e = await rows(db.conn, `SELECT transaction_id, time, utm_source, utm_content FROM funnelcredit_sources.custom_events WHERE client_id = 'E' AND name = 'purchase' ORDER BY 1`);
    assert.deepEqual(e, [
      { transaction_id: "dp6-19-1", time: "2022-03-21 23:00:00", utm_source: "direct", utm_content: "session_19" },
      { transaction_id: "dp6-19-2", time: "2022-03-21 23:00:00", utm_source: "direct", utm_content: "session_19" },
    ]);
  });

  it("loads CRM transactions with one row per product and converts offsets to UTC", async () => {
    const r = await importCsvOrNdjson(db.local, "transactions", fx("transactions_good.csv"));
    assert.equal(r.rows, 3);
    const t = await rows(db.conn, `SELECT transaction_id, transaction_created::VARCHAR AS at, transaction_revenue AS rev, transaction_region AS region FROM funnelcredit_sources.crm_transactions ORDER BY 1, 3`);
    assert.deepEqual(t, [
      { transaction_id: "T1", at: "2024-03-01 10:00:00", rev: 4.5, region: "Bavaria" },
      { transaction_id: "T1", at: "2024-03-01 10:00:00", rev: 10.5, region: "Bavaria" },
      { transaction_id: "T2", at: "2024-03-02 07:30:00", rev: 20, region: "Hesse, DE" },
    ]);
    await importCsvOrNdjson(db.local, "transactions", fx("transactions_good.csv"), { mode: "append" });
    assert.equal(Number(await one(db.conn, `SELECT count(*) FROM funnelcredit_sources.crm_transactions`)), 6);
  });

  it("keeps custom events raw, invalid times included (staging validates them)", async () => {
    const r = await importCsvOrNdjson(db.local, "custom_events", fx("custom_events.ndjson"));
    assert.equal(r.rows, 3);
    assert.ok(r.columns.every((c) => c.type === "VARCHAR"));
    const bad = await rows(db.conn, `SELECT time, revenue FROM funnelcredit_sources.custom_events WHERE user_id = 'u2'`);
    assert.deepEqual(bad, [{ time: "not a time", revenue: "3" }]);
    await rejectsWith(importCsvOrNdjson(db.local, "custom_events", fx("custom_events_nested.ndjson")), "custom_events_nested.ndjson", 2, "user_id", /expected a string, number or boolean/);
    assert.equal(Number(await one(db.conn, `SELECT count(*) FROM funnelcredit_sources.custom_events`)), 3);
  });

  it("loads semicolon-separated costs with typed columns", async () => {
    await importCsvOrNdjson(db.local, "costs", fx("costs.csv"));
    const c = await rows(db.conn, `SELECT date::VARCHAR AS d, source, campaign, cost, clicks, impressions FROM funnelcredit_sources.costs ORDER BY cost`);
    assert.deepEqual(c, [
      { d: "2024-03-01", source: "facebook", campaign: null, cost: 5, clicks: 10n, impressions: null },
      { d: "2024-03-01", source: "google", campaign: "brand", cost: 12.3, clicks: 40n, impressions: 1000n },
    ]);
    await rejectsWith(importCsvOrNdjson(db.local, "costs", fx("costs_negative.csv")), "costs_negative.csv", 3, "cost", /must not be negative/);
    assert.equal(Number(await one(db.conn, `SELECT count(*) FROM funnelcredit_sources.costs`)), 2);
  });

  describe("rejects malformed CSV naming file, line and field, leaving the previous table intact", () => {
    beforeEach(async () => {
      await importCsvOrNdjson(db.local, "transactions", fx("transactions_good.csv"));
    });
    const intact = async (): Promise<void> => {
      assert.equal(Number(await one(db.conn, `SELECT count(*) FROM funnelcredit_sources.crm_transactions`)), 3);
      assert.equal(Number(await one(db.conn, `SELECT count(*) FROM duckdb_tables() WHERE temporary`)), 0);
    };
    it("bad quoting", async () => {
      await rejectsWith(importCsvOrNdjson(db.local, "transactions", fx("transactions_bad_quote.csv")), "transactions_bad_quote.csv", 3, "transaction_status", /after a closing quote/);
      await intact();
    });
    it("a quote that is never closed", async () => {
      await rejectsWith(importCsvOrNdjson(db.local, "transactions", fx("transactions_unclosed_quote.csv"), { mode: "append" }), "transactions_unclosed_quote.csv", 3, undefined, /never closed/);
      await intact();
    });
    it("a missing required value", async () => {
      await rejectsWith(importCsvOrNdjson(db.local, "transactions", fx("transactions_missing_id.csv")), "transactions_missing_id.csv", 3, "transaction_id", /required/);
      await intact();
    });
    it("a wrong type", async () => {
      await rejectsWith(importCsvOrNdjson(db.local, "transactions", fx("transactions_bad_revenue.csv")), "transactions_bad_revenue.csv", 4, "transaction_revenue", /expected a number, got "ten"/);
      await intact();
    });
    it("a missing required column", async () => {
      await rejectsWith(importCsvOrNdjson(db.local, "transactions", fx("transactions_no_created_column.csv")), "transactions_no_created_column.csv", 1, "transaction_created", /no column/);
      await intact();
    });
  });
});

describe("import helpers", () => {
  it("normalises column names to snake_case", () => {
    assert.deepEqual(
      ["Prospect ID", "TotalVisits", "Total Time Spent on Website", "How did you hear about X Education", "A free copy of Mastering The Interview"].map(snakeCase),
      ["prospect_id", "total_visits", "total_time_spent_on_website", "how_did_you_hear_about_x_education", "a_free_copy_of_mastering_the_interview"],
    );
  });
  it("parses quoted CSV fields with doubled quotes, delimiters and a trailing empty field", () => {
    assert.deepEqual(parseCsvRecord(`a,"b ""x"", c",`, ","), { kind: "ok", fields: ["a", `b "x", c`, ""], quoted: [false, true, false] });
    assert.deepEqual(parseCsvRecord(`a,"b`, ","), { kind: "open" });
  });
});

describe("reading lines a chunk at a time (readLineBatches, the GA4 importer's reader)", () => {
  it("gives each line's text and own bytes, as readLines gives the text (CRLF, BOM, bad UTF-8, blank and unterminated lines, lines across 1 MiB chunks)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "fc-line-batches-"));
    try {
      // BOM + CRLF on line 1; é (2 bytes) and a 4-byte emoji; a lone 0xff; a blank line; a CR alone inside a line;
      // lines of 700 KB so that chunk boundaries fall inside lines; an unterminated last line.
      const lines: Buffer[] = [
        Buffer.from('{"a":"é"}\r'),
        Buffer.from('{"b":"😀"}'),
        Buffer.concat([Buffer.from('{"c":"'), Buffer.from([0xff]), Buffer.from('"}')]),
        Buffer.from(""),
        Buffer.from('{"d":"x\ry"}'),
        ...Array.from({ length: 5 }, (_, k) => Buffer.from(`{"e":"${String(k).repeat(700_000)}é"}`)),
        Buffer.from('{"last":1}'),
      ];
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ...lines.flatMap((b, k) => (k < lines.length - 1 ? [b, Buffer.from("\n")] : [b]))]);
      for (const [name, data] of [["l.ndjson", body], ["l.ndjson.gz", gzipSync(body)]] as const) {
        const f = path.join(dir, name);
        writeFileSync(f, data);
        // The bytes: the line's own (CR of a CRLF and the BOM left out), so that writing them on changes nothing.
        const own = lines.map((b) => (b.at(-1) === 0x0d ? b.subarray(0, -1) : b));
        // The text: those bytes decoded (U+FFFD for the lone 0xff, and that line marked), numbered from 1.
        const expected = own.map((b, k) => (k === 2 ? { line: k + 1, text: b.toString("utf8"), invalidUtf8: true } : { line: k + 1, text: b.toString("utf8") }));
        const one = [];
        for await (const l of readLines(f)) one.push(l);
        const got = [];
        for await (const batch of readLineBatches(f)) got.push(...batch);
        assert.ok(one.length === lines.length && got.length === lines.length, name);
        assert.deepEqual(one, expected, `${name}: readLines`);
        assert.deepEqual(got.map(({ bytes: _, ...l }) => l), expected, `${name}: readLineBatches`);
        assert.deepEqual(got.map((l) => l.bytes.toString("hex")), own.map((b) => b.toString("hex")), name);
        assert.equal(got.filter((l) => l.invalidUtf8).map((l) => l.line).join(), "3");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
