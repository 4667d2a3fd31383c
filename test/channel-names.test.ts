/**
 * Channel names holding the path separator (`Search > Paid`, GA4's `<Other>`, `a>b`), the escape character
 * (`%3E` written literally), quotes, `=` and unicode go through every path model intact: channel_paths,
 * path_features, the path heuristics, channel Markov, Shapley, ML attribution and session_credit, with
 * credit conserved (DuckDB, real compiled project).
 */
import assert from "node:assert/strict";
import { assertRunSucceeded, compiledProject, fixtureTable, memoryEngine, rowsOf, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import type { Row } from "../src/engines/engine.ts";
import { loadInputs, INTERMEDIATE, type Ga4Event } from "./fixtures/warehouse/builders.ts";
import { CONVERSION_JOURNEYS_COLUMNS, conversionJourneyRows, generateJourneys, journeyStartTables, lastTouchCredit } from "./fixtures/ml/journeys.ts";
import { formatChannelPath, splitChannelPath } from "../src/models/paths.ts";
import { compareStrings } from "../src/models/numeric.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { funnelMarkovJob } from "../jobs/funnel-markov.ts";
import { channelMarkovJob } from "../jobs/channel-markov.ts";
import { shapleyJob } from "../jobs/shapley.ts";
import { mlAttributionJob } from "../jobs/ml-attribution.ts";

const sorted = (xs: Iterable<string>): string[] => [...xs].sort(compareStrings);
const sumBy = (rows: Row[], key: string, col: string): Map<string, number> => {
  const out = new Map<string, number>();
  for (const r of rows) out.set(r[key] as string, (out.get(r[key] as string) ?? 0) + (r[col] as number));
  return out;
};
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} ≠ ${b}`);

describe("channel names that hold the path separator, quotes or unicode", function () {
  this.timeout(300_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  it("keeps GA4 channels intact from sessions through channel_paths, Markov, Shapley, heuristics and session_credit", async () => {
    const SEARCH = "Search > Paid";                 // a channel rule's name
    const OTHER = "<Other> / <Other>";             // GA4's own placeholder source/medium
    const AB = "a>b / x";
    const QUOTED = `it's "q" / 100%3E`;            // quotes, and the escape sequence written literally
    const UNICODE = "Поиск / 検索 🔍";
    const src = (source: string, medium: string): Partial<Ga4Event> => ({ collected: { source, medium } });
    const ev = (day: string, name: string, client: string, session: number, more: Partial<Ga4Event>): Ga4Event => ({ day, time: "10:00:00", name, client, session, ...more });
    const ga4: Ga4Event[] = [
      ev("20240301", "page_view", "A", 1, src("<Other>", "<Other>")),
      ev("20240302", "page_view", "A", 2, { page: "https://shop.example.com/?gclid=g1" }),
      ev("20240303", "purchase", "A", 3, { ...src("a>b", "x"), transactionId: "T1", revenue: 100 }),
      ev("20240301", "page_view", "B", 4, src(`it's "q"`, "100%3E")),
      ev("20240302", "purchase", "B", 5, { ...src("Поиск", "検索 🔍"), transactionId: "T2", revenue: 40 }),
      ev("20240301", "page_view", "C", 6, { page: "https://shop.example.com/?gclid=g2" }),
      ev("20240302", "page_view", "C", 7, src("<Other>", "<Other>")),
      ev("20240301", "purchase", "D", 8, { ...src("a>b", "x"), transactionId: "T3", revenue: 60 }),
      ev("20240301", "page_view", "E", 9, src("Поиск", "検索 🔍")),
    ];
    await loadInputs(engine, { ga4 });
    const project = await compiledProject({ channel_rules: JSON.stringify([{ channel: SEARCH, medium: "^cpc$" }]) }, [funnelMarkovJob, channelMarkovJob, shapleyJob, mlAttributionJob]);
    const run = await runProject(project, engine, {
      selection: { actions: ["session_credit", "path_heuristic_credit", "heuristic_channel_credit", "path_features"], includeDependencies: true },
    });
    assertRunSucceeded(run);
    // session_credit's post-operations check that every model's credit adds up to the transactions'.
    assert.equal(run.actions.find((a) => a.action.endsWith(".session_credit"))?.status, "succeeded");

    const sessions = await rowsOf(engine, INTERMEDIATE, "sessions", "session_key");
    assert.deepEqual(Object.fromEntries(sessions.map((s) => [s.session_key, s.channel])), {
      "ga4:A:1": OTHER, "ga4:A:2": SEARCH, "ga4:A:3": AB, "ga4:B:4": QUOTED, "ga4:B:5": UNICODE,
      "ga4:C:6": SEARCH, "ga4:C:7": OTHER, "ga4:D:8": AB, "ga4:E:9": UNICODE,
    });
    const all = sorted([SEARCH, OTHER, AB, QUOTED, UNICODE]);

    // channel_paths: one row per path, each path's channels read back exactly.
    const paths = await rowsOf(engine, INTERMEDIATE, "channel_paths", "path");
    const readBack = paths.map((p) => [splitChannelPath(p.path as string), p.total_conversions, p.total_conversion_value, p.total_null]);
    assert.deepEqual(sorted(readBack.map((r) => JSON.stringify(r))), sorted([
      [[OTHER, SEARCH, AB], 1, 100, 0], [[QUOTED, UNICODE], 1, 40, 0], [[AB], 1, 60, 0], [[SEARCH, OTHER], 0, 0, 1], [[UNICODE], 0, 0, 1],
    ].map((r) => JSON.stringify(r))));
    const features = await rowsOf(engine, INTERMEDIATE, "path_features", "path");
    for (const f of features) assert.deepEqual([splitChannelPath(f.path as string)[0], splitChannelPath(f.path as string).at(-1)], [f.first_channel, f.last_channel]);

    // Channel Markov and Shapley: exactly the five channels, all conversions given out.
    for (const table of ["markov_removal_effects", "shapley_channel_credit"]) {
      const rows = await engine.queryNative(`SELECT channel, conversions, value FROM funnelcredit_models.${table}`);
      assert.deepEqual(sorted(rows.map((r) => r.channel as string)), all, table);
      close(rows.reduce((s, r) => s + (r.conversions as number), 0), 3, `${table} conversions`);
      close(rows.reduce((s, r) => s + (r.value as number), 0), 200, `${table} value`);
    }

    // Path heuristics (split in SQL): first and last touch by hand.
    const ph = await engine.queryNative(`SELECT model, channel, conversions FROM funnelcredit.path_heuristic_credit WHERE conversions > 0`);
    const of = (m: string): Record<string, number> => Object.fromEntries(ph.filter((r) => r.model === m).map((r) => [r.channel, r.conversions]));
    assert.deepEqual(of("first_touch"), { [OTHER]: 1, [QUOTED]: 1, [AB]: 1 });
    assert.deepEqual(of("last_touch"), { [AB]: 2, [UNICODE]: 1 });
    close(Object.values(of("linear")).reduce((a, b) => a + b, 0), 3, "linear conversions");
    const hc = await engine.queryNative(`SELECT DISTINCT channel FROM funnelcredit.heuristic_channel_credit`);
    for (const r of hc) assert.ok(all.includes(r.channel as string), `heuristic_channel_credit channel ${JSON.stringify(r.channel)}`);

    // session_credit: every model (heuristics, markov_order_1, shapley, owox_funnel) gives out 3 conversions and 200.
    const sc = await engine.queryNative(`SELECT model, channel, conversions, value FROM funnelcredit.session_credit`);
    const models = sorted(new Set(sc.map((r) => r.model as string)));
    assert.ok(models.includes("markov_order_1") && models.includes("shapley") && models.includes("owox_funnel"), models.join(", "));
    for (const [model, conversions] of sumBy(sc, "model", "conversions")) close(conversions, 3, `${model} conversions`);
    for (const [model, value] of sumBy(sc, "model", "value")) close(value, 200, `${model} value`);
    for (const r of sc) assert.ok(all.includes(r.channel as string), `session_credit channel ${JSON.stringify(r.channel)}`);
    // Markov gives every channel on a converting path some of it: no channel was split into pieces that got 0.
    const markov = sumBy(sc.filter((r) => r.model === "markov_order_1"), "channel", "value");
    for (const c of [SEARCH, OTHER, AB, QUOTED, UNICODE]) assert.ok((markov.get(c) ?? 0) > 0, `markov_order_1 credits ${c}: ${JSON.stringify([...markov])}`);
  });

  it("keeps hostile names intact through ChannelAttribution-format paths, Markov, Shapley and ML attribution on 6,000 journeys", async () => {
    const hostile = {
      causal: { "Search > Paid": 1.8, "<Other> / <Other>": 1.4, [`it's "q" = 100%3E`]: 1.0 },
      harvesting: ["a>b", "Поиск 検索 🔍"],
      neutral: [" > "],
    };
    const names = sorted([...Object.keys(hostile.causal), ...hostile.harvesting, ...hostile.neutral]);
    const journeys = generateJourneys({ journeys: 6_000, days: 28, ...hostile });
    const project = await compiledProject({}, ALL_JOBS);
    const target = (name: string) => project.graph.actions.find((a) => a.kind !== "job" && a.target.name === name)!.target;
    const cj = target("conversion_journeys");
    await fixtureTable(engine, cj.schema, cj.name, CONVERSION_JOURNEYS_COLUMNS, conversionJourneyRows(journeys));
    for (const t of journeyStartTables(journeys)) { const tg = target(t.name); await fixtureTable(engine, tg.schema, tg.name, t.columns, t.rows); }
    const exp = target("incrementality_experiments");
    await fixtureTable(engine, exp.schema, exp.name, { channel: "VARCHAR", period_start: "DATE", period_end: "DATE", incremental_conversions: "DOUBLE" }, []);
    const mmm = target("mmm_channel_shares");
    await fixtureTable(engine, mmm.schema, mmm.name, { channel: "VARCHAR", share: "DOUBLE" }, []);
    const run = await runProject(project, engine, {
      selection: { actions: ["ml_journeys", "ml_journey_features", "channel_paths", "path_heuristic_credit", "channel_markov", "shapley", "markov_removal_effects", "shapley_channel_credit", "ml_attribution"] },
      now: () => new Date("2024-05-01T00:00:00Z"),
    });
    assertRunSucceeded(run);
    const conversions = journeys.filter((j) => j.converted).length;
    const value = journeys.reduce((s, j) => s + (j.converted ? j.value : 0), 0);

    // channel_paths equals the exposure paths computed here, written in the escaped format.
    const expected = new Map<string, [number, number, number]>();
    for (const j of journeys) {
      // The exposure transform (the default): consecutive repeats of a channel collapse.
      const key = formatChannelPath(j.touches.map((t) => t.channel).filter((c, i, all) => i === 0 || all[i - 1] !== c));
      const e = expected.get(key) ?? [0, 0, 0];
      if (j.converted) { e[0]++; e[1] += j.value; } else e[2]++;
      expected.set(key, e);
    }
    const paths = await rowsOf(engine, target("channel_paths").schema, "channel_paths", "path");
    assert.equal(paths.length, expected.size);
    for (const p of paths) assert.deepEqual([p.total_conversions, p.total_conversion_value, p.total_null], expected.get(p.path as string), `path ${JSON.stringify(p.path)}`);

    const rowsIn = (table: string) => rowsOf(engine, target(table).schema, table, "ALL");
    const lastTouch = Object.fromEntries(lastTouchCredit(journeys));
    const ph = (await rowsIn("path_heuristic_credit")).filter((r) => r.model === "last_touch" && (r.conversions as number) > 0);
    assert.deepEqual(Object.fromEntries(ph.map((r) => [r.channel, r.conversions])), lastTouch);
    for (const table of ["markov_removal_effects", "shapley_channel_credit"]) {
      const rows = await rowsIn(table);
      assert.deepEqual(sorted(rows.map((r) => r.channel as string)), names, table);
      close(rows.reduce((s, r) => s + (r.conversions as number), 0), conversions, `${table} conversions`);
      close(rows.reduce((s, r) => s + (r.value as number), 0), value, `${table} value`);
    }
    const ml = await rowsIn("ml_channel_credit");
    for (const method of ["removal_effect", "shapley", "treeshap"]) {
      const rows = ml.filter((r) => r.method === method);
      assert.deepEqual(sorted(rows.map((r) => r.channel as string)), names, `ml_channel_credit ${method}`);
      close(rows.reduce((s, r) => s + (r.share as number), 0), 1, `ml_channel_credit ${method} shares`);
    }
  });
});
