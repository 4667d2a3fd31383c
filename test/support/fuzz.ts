/**
 * Seeded generators of malformed input for the fuzz tests: files mixing good rows (which must all
 * arrive) with bad ones (which must all be quarantined): wrong types, missing ids, timestamps in the
 * future or far past, huge strings, unicode, duplicates, NULL nested records, broken CSV/JSON.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { createRng, type Rng } from "../../src/demo/prng.ts";
import { importCsvOrNdjson, importGa4 } from "../../src/import/index.ts";
import { ensureSourceTables } from "../../src/catalog/index.ts";
import type { DuckDBEngine } from "../../src/engines/duckdb/engine.ts";
import type { Project } from "../../src/compile/project.ts";
import { runProject } from "./warehouse.ts";

const UNICODE = ["Zürich", "東京", "🚀🔥", "Ελλάδα", "naïve café", "\u200b zero width", "emoji 👩‍👩‍👧", "Ünïcödé ẞ", "a\u0000b".replace("\u0000", ""), "x'; DROP TABLE t; --"];

function text(rng: Rng): string {
  if (rng.chance(0.02)) return "y".repeat(rng.int(10_000, 100_000));
  return rng.pick(UNICODE) + rng.int(0, 999);
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const BASE = Date.UTC(2024, 0, 1);
function goodTime(rng: Rng): number {
  return BASE + rng.int(0, 60 * 86_400) * 1000;
}

export interface FuzzFile {
  file: string;
  /** Ids of the good rows (with repeats for duplicate rows). */
  goodIds: string[];
  badLines: number[];
  lines: number;
}

/** A CRM transactions CSV. */
export function fuzzTransactions(file: string, seed: number, n: number): FuzzFile {
  const rng = createRng(seed);
  const out = ["transaction_id,user_id,client_id,transaction_created,transaction_status,transaction_revenue,transaction_region"];
  const goodIds: string[] = [];
  const badLines: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `t${seed}_${i}`;
    const time = new Date(goodTime(rng)).toISOString();
    const fields = [id, rng.chance(0.2) ? "" : `u${rng.int(1, 50)}`, `c${rng.int(1, 80)}`, rng.pick([time, time.replace("T", " ").replace("Z", ""), time.replace("Z", "+02:00")]),
      rng.pick(["completed", "refunded", ""]), rng.pick(["", "0", "12.5", "1e3", String(rng.int(1, 9999))]), text(rng)];
    if (rng.chance(0.7)) {
      out.push(fields.map(csvField).join(","));
      goodIds.push(id);
      if (rng.chance(0.05)) { out.push(fields.map(csvField).join(",")); goodIds.push(id); } // an exact duplicate is data
      continue;
    }
    switch (rng.int(0, 7)) {
      case 0: fields[0] = ""; break;                                                      // missing id
      case 1: fields[3] = rng.pick(["yesterday", "2024-13-45", "12/01/2024", "1704067200000000"]); break; // wrong type (epoch seconds and milliseconds are timestamps; microseconds are not)
      case 2: fields[3] = new Date(Date.now() + rng.int(5, 900) * 86_400_000).toISOString(); break; // future
      case 3: fields[3] = rng.pick(["1970-01-01 00:00:00", "0001-01-01", "1899-12-31 10:00:00"]); break; // far past
      case 4: fields[5] = rng.pick(["ten", "1,5", "NaN?", "$12"]); break;                 // revenue not a number
      case 5: fields.pop(); break;                                                         // a field short
      case 6: fields[4] = 'bro"ken'; break;                                                // stray quote
      default: fields.push("extra"); break;                                                // a field too many
    }
    out.push(fields.map((f) => (f === 'bro"ken' ? f : csvField(f))).join(","));
    badLines.push(out.length);
  }
  writeFileSync(file, out.join("\n") + "\n");
  return { file, goodIds, badLines, lines: out.length };
}

/** A GA4 export NDJSON file; good events have unique (user, session, timestamp, name) unless duplicated on purpose. */
export function fuzzGa4(file: string, seed: number, n: number): FuzzFile & { distinctGood: number } {
  const rng = createRng(seed);
  const out: string[] = [];
  const goodIds: string[] = [];
  const badLines: number[] = [];
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    const t = BASE + i * 1000;
    const date = new Date(t).toISOString().slice(0, 10).replace(/-/g, "");
    const user = `p${seed}_${rng.int(1, 40)}`;
    const ev: Record<string, unknown> = {
      event_date: date, event_timestamp: t * 1000, event_name: rng.pick(["page_view", "session_start", "view_item", "purchase"]), user_pseudo_id: user,
      event_params: rng.chance(0.1) ? null : [{ key: "ga_session_id", value: { int_value: Math.floor(t / 3_600_000) } }, { key: "page_title", value: { string_value: text(rng) } }],
      device: rng.chance(0.1) ? null : { category: rng.pick(["mobile", "desktop"]) },
      geo: rng.chance(0.1) ? null : { region: text(rng) },
      traffic_source: rng.chance(0.2) ? null : { source: rng.pick(["google", "(direct)", "ü"]), medium: rng.pick(["cpc", "organic", "(none)"]) },
    };
    if (rng.chance(0.75)) {
      out.push(JSON.stringify(ev));
      goodIds.push(`${i}`);
      distinct++;
      if (rng.chance(0.05)) { out.push(JSON.stringify(ev)); goodIds.push(`${i}`); } // re-delivered: staging keeps one
      continue;
    }
    let line: string;
    switch (rng.int(0, 7)) {
      case 0: line = JSON.stringify({ ...ev, event_name: null }); break;
      case 1: line = JSON.stringify({ ...ev, event_timestamp: "soon" }); break;
      case 2: line = JSON.stringify({ ...ev, event_timestamp: (Date.now() + rng.int(5, 900) * 86_400_000) * 1000 }); break;
      case 3: line = JSON.stringify({ ...ev, event_timestamp: rng.int(0, 1_000_000) }); break;
      case 4: line = JSON.stringify({ ...ev, device: "mobile" }); break;
      case 5: line = JSON.stringify(ev).slice(0, 40); break;
      case 6: line = JSON.stringify({ ...ev, event_date: "2024-01-01" }); break;
      default: line = JSON.stringify({ ...ev, event_params: [{ key: "x", value: { int_value: "1.5" } }] }); break;
    }
    out.push(line);
    badLines.push(out.length);
  }
  writeFileSync(file, out.join("\n") + "\n");
  return { file, goodIds, badLines, lines: out.length, distinctGood: distinct };
}

/** Import fuzzed CRM and GA4 files, run staging, and check nothing good was dropped.  */
export async function fuzzRound(project: Project, engine: DuckDBEngine, dir: string, seed: number, n: number): Promise<void> {
  const ds = project.settings.datasets;
  const opts = { badRows: "quarantine" as const, badRowMaxShare: 1, quarantineSchema: ds.meta, schema: ds.sources };
  const crm = fuzzTransactions(path.join(dir, `crm-${seed}.csv`), seed, n);
  const ga4 = fuzzGa4(path.join(dir, `ga4-${seed}.ndjson`), seed, n);
  const rc = await importCsvOrNdjson(engine.localLoading, "transactions", crm.file, opts);
  const rg = await importGa4(engine.localLoading, [ga4.file], { ...opts, schema: ds.ga4 });
  const where = `seed ${seed}`;
  assert.equal(rc.rows, crm.goodIds.length, `${where}: CRM good rows imported`);
  assert.equal(rc.quarantined, crm.badLines.length, `${where}: CRM bad rows quarantined`);
  assert.equal(rg.rows, ga4.goodIds.length, `${where}: GA4 good events imported`);
  assert.equal(rg.quarantined, ga4.badLines.length, `${where}: GA4 bad lines quarantined`);
  const q = await engine.queryNative(`SELECT source, list(line ORDER BY line) AS lines FROM ${ds.meta}.import_quarantine WHERE file LIKE '%-${seed}.%' GROUP BY source ORDER BY source`);
  assert.deepEqual(q.map((r) => [r.source, (r.lines as number[]).map(Number)]), [["ga4", ga4.badLines], ["transactions", crm.badLines]].filter(([, l]) => (l as number[]).length));

  await ensureSourceTables(engine, project.settings);
  const run = await runProject(project, engine, { fullRefresh: true, runId: `fuzz-${seed}`, selection: { actions: ["stg_crm_transactions", "stg_ga4_events"], includeDependencies: true } });
  assert.deepEqual(run.actions.filter((a) => a.status === "failed").map((a) => `${a.action}: ${a.error}`), [], where);
  const ids = await engine.queryNative(`SELECT transaction_id FROM ${ds.staging}.stg_crm_transactions ORDER BY 1`);
  assert.deepEqual(ids.map((r) => r.transaction_id), [...new Set(crm.goodIds)].sort(), `${where}: every good CRM transaction reaches staging once`);
  const [ev] = await engine.queryNative(`SELECT COUNT(*) AS n, COUNT(DISTINCT event_key) AS k FROM ${ds.staging}.stg_ga4_events`);
  assert.equal(Number(ev!.n), ga4.distinctGood, `${where}: every good GA4 event reaches staging once`);
  assert.equal(Number(ev!.k), ga4.distinctGood);
}

