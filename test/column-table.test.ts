/**
 * A job's input read column-wise (src/jobs/column-table.ts, ctx.queryTable) gives every row the values
 * the row-object read (ctx.query) gave: across DuckDB's 2,048-row chunks, for each type a lead table
 * has (text with NULLs and blanks, BIGINT, HUGEINT, DOUBLE with NaN, BOOLEAN, TIMESTAMP, DATE, lists),
 * for an id column too distinct for a dictionary, and for a column named like the view's own fields.
 * Lead scoring's batched scoring gives each lead what scoring all leads at once gave.
 */
import assert from "node:assert/strict";
import { ColumnTable } from "../src/jobs/column-table.ts";
import { boundedJobTable, boundedJobQuery } from "../src/safety/bounds.ts";
import { trainLeadModel } from "../src/lead-scoring/train.ts";
import { scoreLeads, scoreLeadsOnAllCores } from "../src/lead-scoring/score.ts";
import type { LeadRecord } from "../src/lead-scoring/dataset.ts";
import type { BoostParams } from "../src/models/xgboost/index.ts";
import type { Row } from "../src/engines/engine.ts";
import { memoryEngine } from "./support/warehouse.ts";

const job = { name: "j", reads: ["t"] };

/** Each row's values by column name, as a plain object (a view's properties are on its prototype). */
const plain = (rows: readonly Row[], names: readonly string[]): Record<string, unknown>[] =>
  rows.map((r) => Object.fromEntries(names.map((n) => [n, r[n]])));

describe("column-wise job reads", function () {
  this.timeout(120_000);

  it("gives every row the values the row-object read gives, for each column type and across chunks", async () => {
    const engine = await memoryEngine();
    try {
      // 70,001 rows: 35 chunks, and `id` has more distinct values than a dictionary keeps.
      const sql = `
        SELECT CONCAT('L', CAST(x AS STRING)) AS id,
          CASE WHEN MOD(x, 7) = 0 THEN NULL WHEN MOD(x, 11) = 0 THEN '' ELSE ['a', 'b', 'c'][OFFSET(MOD(x, 3))] END AS city,
          IF(MOD(x, 5) = 0, NULL, x * 1000) AS n,
          CAST(x AS BIGNUMERIC) AS big,
          IF(MOD(x, 13) = 0, CAST('NaN' AS FLOAT64), IF(MOD(x, 4) = 0, NULL, x / 3)) AS d,
          IF(MOD(x, 6) = 0, NULL, MOD(x, 2) = 0) AS flag,
          IF(MOD(x, 9) = 0, NULL, TIMESTAMP_ADD(TIMESTAMP '2024-01-01 00:00:00', INTERVAL x SECOND)) AS at,
          DATE_ADD(DATE '2024-01-01', INTERVAL MOD(x, 400) DAY) AS day,
          IF(x > 69990, NULL, 'late nulls') AS tail,
          [x, x + 1] AS pair,
          x AS i
        FROM UNNEST(GENERATE_ARRAY(0, 70000)) AS x
        ORDER BY x`;
      const rows = await boundedJobQuery(engine, sql, {}, 1_000_000, job);
      const table = await boundedJobTable(engine, sql, {}, 1_000_000, job);
      assert.equal(table.length, 70_001);
      assert.deepEqual(table.names, Object.keys(rows[0]!));
      const names = table.names;
      assert.deepEqual(plain(table.rows(), names), plain(rows, names));
      assert.ok(rows.some((r) => Number.isNaN(r.d)) && rows.some((r) => r.d === null) && rows.some((r) => r.at instanceof Date));
    } finally {
      await engine.close();
    }
  });

  it("fails past vars.max_job_rows as the row read does", async () => {
    const engine = await memoryEngine();
    try {
      await assert.rejects(boundedJobTable(engine, "SELECT x FROM UNNEST(GENERATE_ARRAY(1, 5000)) AS x", {}, 4096, job), /more than 4,096 rows.*vars\.max_job_rows/);
      assert.equal((await boundedJobTable(engine, "SELECT x FROM UNNEST(GENERATE_ARRAY(1, 4096)) AS x", {}, 4096, job)).length, 4096);
    } finally {
      await engine.close();
    }
  });

  it("keeps a column whose values change type (rows from an engine without column reads)", () => {
    const rows: Row[] = [{ a: null, b: 1 }, { a: 2, b: "x" }, { a: "three", b: true }, { a: null, b: null }, { a: new Date(5), b: 2n ** 70n }];
    const table = ColumnTable.fromRows(rows);
    assert.deepEqual(plain(table.rows(), ["a", "b"]), plain(rows, ["a", "b"]));
  });

  it("scores leads in batches exactly as all at once", async () => {
    let x = 7;
    const rnd = (): number => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const records: LeadRecord[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 600; i++) {
      const visits = Math.floor(rnd() * 6);
      const y = rnd() < 1 / (1 + Math.exp(-(visits - 2.5))) ? 1 : 0;
      const t = Date.UTC(2024, 0, 1) + i * 3_600_000;
      records.push({ leadId: `L${i}`, createdAt: t, cutoffAt: t, convertedAt: null, converted: y === 1, row: { visits, city: ["A", "B", "C", null][i % 4]!, spend: rnd() * 100 } });
      labels.push(y);
    }
    const t = await trainLeadModel(records, labels, {
      featureColumns: ["city", "spend", "visits"], split: "time", validationShare: 0.2, testShare: 0.2, seed: 1,
      categorical: "one_hot", params: { max_depth: 3, eta: 0.3 } as BoostParams, maxRounds: 30, scoreCutoff: 50, runId: "r", now: new Date("2024-06-01T00:00:00Z"),
    });
    const model = { artifact: t.artifact, booster: t.booster };
    const at = new Date("2024-06-01T00:00:00Z");
    const whole = scoreLeads(model, records, at, 50, 5, records.length);
    const batched = scoreLeads(model, records, at, 50, 5, 7);
    assert.deepEqual(batched, whole);
    // The same scores and factors with each batch's TreeSHAP on a pool of threads (forced: the data are small).
    assert.deepEqual(await scoreLeadsOnAllCores(model, records, at, 50, 5, 7, { threads: 3, minWork: 0 }), whole);
    // A batch size that is not a positive integer is refused by both, with or without a pool (0 never advanced).
    assert.throws(() => scoreLeads(model, records, at, 50, 5, 0), /batchRows must be a positive integer, got 0/);
    await assert.rejects(scoreLeadsOnAllCores(model, records, at, 50, 5, 0, { threads: 2, minWork: 0 }), /batchRows must be a positive integer, got 0/);
    assert.ok(new Set(whole.map((s) => s.score)).size > 5 && whole.every((s) => s.key_factors.length > 0));
  });
});
