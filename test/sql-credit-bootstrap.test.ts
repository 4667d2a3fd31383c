/**
 * The Poisson bootstrap of identity chains behind the intervals of the credit models written in SQL over sessions
 * (excitation_linear, self_controlled): channel_share_replicates and its rows in channel_credit_intervals.
 *
 * Two converting chains (days after 2024-03-01 00:00; the data's span day 0 to day 10; 3-day windows → 0.3 of it;
 * no channel responsive: excitation_responsive_ratio and self_controlled_responsive_z 100):
 *   chain X: Display 0, Email 1 (buys, 100)     chain Y: Email 4 (buys, 50)     chain Z: Display 10 (span only)
 * Replicate b weighs X and Y by Poisson(1) draws wX, wY: u = (FARM_FINGERPRINT("<chain_key>#b") & (2^48 − 1)) / 2^48,
 * the smallest k with u < e^-1 Σ_{j ≤ k} 1/j!.
 *   excitation_linear: linear credit X Display ½, Email ½; Y Email 1 → Display ½wX / (wX + wY), Email (½wX + wY) / (wX + wY).
 *   self_controlled: X Display window 1 (the conversion a day later), expected 0.3; X Email 1 (its own), 0.3; Y Email 1,
 *   0.3 → Display W = wX, E = 0.3wX, linear ½wX; Email W = wX + wY, E = 0.3(wX + wY), linear ½wX + wY; then the
 *   model's shrinkage (selfControlledShares below, the formula of self_controlled_channel_credit). With every weight 1:
 *   excess 0.7, 1.4; prior 2.1 × ½ / 2 = 0.525, 1.575; τ² = max(0, mean(0.175² − 1, 0.175² − 2)) = 0 → the priors:
 *   Display 0.25, Email 0.75, as excitation_linear (the published shares).
 */
import assert from "node:assert/strict";
import { bigqueryFingerprint } from "farmhash-modern";
import { assertRunSucceeded, compiledProject, memoryEngine, runProject } from "./support/warehouse.ts";
import type { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { canonicalRows } from "./support/canonical.ts";
import { STRICT_PROJECT, runDemoSampleOnBothEngines } from "./support/both-engines.ts";
import { DISPLAY_SOURCE as DISPLAY, EMAIL_SOURCE as EMAIL, loadInputs, visitBuilder, type Ga4Event } from "./fixtures/warehouse/builders.ts";

const SQL_MODELS = ["excitation_linear", "self_controlled"];
const NONE_RESPONSIVE = { excitation_responsive_ratio: "100", self_controlled_responsive_z: "100", self_controlled_window_days: "3" };

/** Poisson(1) weight of a chain in replicate b ≥ 1, by hand: the hash uniform through the inverse CDF. */
function weightOf(chainKey: string, b: number): number {
  const u = Number(BigInt.asUintN(48, BigInt(bigqueryFingerprint(`${chainKey}#${b}`)))) / 2 ** 48;
  let cdf = 0;
  let term = Math.exp(-1);
  for (let k = 0; k < 14; k++) {
    cdf += term;
    if (u < cdf) return k;
    term /= k + 1;
  }
  return 14;
}

/** self_controlled's shares from the two channels' weighted counts (none responsive), as the model computes them. */
function selfControlledShares(ch: { window: number; expected: number; linear: number }[]): number[] | null {
  const excess = ch.map((c) => c.window - c.expected);
  const keptExcess = excess.reduce((s, e) => s + Math.max(e, 0), 0);
  const keptLinear = ch.reduce((s, c) => s + c.linear, 0);
  const prior = ch.map((c) => (keptLinear > 0 ? (keptExcess * c.linear) / keptLinear : NaN));
  const tau2 = Math.max(0, ch.reduce((s, c, i) => s + (excess[i]! - prior[i]!) ** 2 - c.window, 0) / ch.length);
  const est = ch.map((c, i) => Math.max(0, tau2 + c.window > 0 ? (tau2 * excess[i]! + c.window * prior[i]!) / (tau2 + c.window) : prior[i]!));
  const total = est.reduce((s, e) => s + e, 0);
  return total > 0 ? est.map((e) => e / total) : null;
}

const round12 = (x: number): number => Math.round(x * 1e12) / 1e12;

describe("Poisson bootstrap of identity chains for the SQL credit models (DuckDB)", function () {
  this.timeout(600_000);
  let engine: DuckDBEngine;
  beforeEach(async () => { engine = await memoryEngine(); });
  afterEach(async () => { await engine?.close(); });

  const visit = visitBuilder();
  const twoChains = (): Ga4Event[] => [
    ...visit("X", 0, DISPLAY), ...visit("X", 1, EMAIL, 100),
    ...visit("Y", 4, EMAIL, 50),
    ...visit("Z", 10, DISPLAY),
  ];

  async function run(events: Ga4Event[], vars: Record<string, string>) {
    await loadInputs(engine, { ga4: events });
    const project = await compiledProject({ ...NONE_RESPONSIVE, ...vars });
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["credit_intervals"], includeDependencies: true } }));
    const ds = project.settings.datasets;
    const read = async () => ({
      replicates: (await engine.queryNative(`SELECT model, replicate, channel, share FROM "${ds.intermediate}".channel_share_replicates ORDER BY model, replicate, channel`))
        .map((r) => ({ model: String(r.model), replicate: Number(r.replicate), channel: String(r.channel), share: Number(r.share) })),
      intervals: await engine.queryNative(`SELECT model, channel, share, bootstrap_low, bootstrap_high, replicates, method FROM "${ds.outputs}".channel_credit_intervals
        WHERE model IN ('excitation_linear', 'self_controlled') ORDER BY model, channel`),
    });
    return { project, ds, read };
  }

  it("reproduces every replicate's shares from the two chains' hash weights by hand, replicate 0 being the published share", async () => {
    const B = 30;
    const { ds, read } = await run(twoChains(), { credit_bootstrap_replicates: String(B) });
    const { replicates } = await read();
    const keys = await engine.queryNative(`SELECT chain_key, value FROM "${ds.intermediate}".transactions ORDER BY value DESC`);
    assert.deepEqual(keys.map((r) => Number(r.value)), [100, 50]);
    const [x, y] = keys.map((r) => String(r.chain_key)) as [string, string];

    const want: { model: string; replicate: number; channel: string; share: number }[] = [];
    let unequal = 0;
    for (let b = 0; b <= B; b++) {
      const [wx, wy] = b === 0 ? [1, 1] : [weightOf(x, b), weightOf(y, b)];
      if (wx !== wy) unequal++;
      if (wx + wy > 0) {
        want.push({ model: "excitation_linear", replicate: b, channel: "Display", share: round12((0.5 * wx) / (wx + wy)) });
        want.push({ model: "excitation_linear", replicate: b, channel: "Email", share: round12((0.5 * wx + wy) / (wx + wy)) });
      }
      const sc = selfControlledShares([
        { window: wx, expected: 0.3 * wx, linear: 0.5 * wx },
        { window: wx + wy, expected: 0.3 * (wx + wy), linear: 0.5 * wx + wy },
      ]);
      if (sc) {
        want.push({ model: "self_controlled", replicate: b, channel: "Display", share: round12(sc[0]!) });
        want.push({ model: "self_controlled", replicate: b, channel: "Email", share: round12(sc[1]!) });
      }
    }
    // The draws are not all alike: the replicates move the shares.
    assert.ok(unequal >= 10, `${unequal} replicates weigh X and Y differently`);
    const order = (a: (typeof want)[number], b: (typeof want)[number]) => a.model.localeCompare(b.model) || a.replicate - b.replicate || a.channel.localeCompare(b.channel);
    const close = (rows: typeof want) => [...rows].sort(order).map((r) => `${r.model}/${r.replicate}/${r.channel}/${r.share.toFixed(9)}`);
    assert.deepEqual(close(replicates), close(want));

    const published = await engine.queryNative(`SELECT model, channel, share FROM "${ds.outputs}".channel_credit_by_model
      WHERE model IN ('excitation_linear', 'self_controlled') ORDER BY model, channel`);
    assert.deepEqual(published.map((r) => [r.model, r.channel, Number(r.share)]),
      [["excitation_linear", "Display", 0.25], ["excitation_linear", "Email", 0.75], ["self_controlled", "Display", 0.25], ["self_controlled", "Email", 0.75]]);
    for (const p of published) {
      const point = replicates.find((r) => r.model === p.model && r.channel === p.channel && r.replicate === 0)!;
      assert.ok(Math.abs(point.share - Number(p.share)) < 1e-9, `${p.model}/${p.channel}: replicate 0 ${point.share}, published ${p.share}`);
    }
  });

  it("puts the replicates' 5th–95th percentile around the published share in channel_credit_intervals, the same on a re-run", async () => {
    // B = 30, as above and below: one var set, so the three tests share one Dataform compile.
    const { project, read } = await run(twoChains(), { credit_bootstrap_replicates: "30" });
    const first = await read();
    assert.deepEqual(first.intervals.map((r) => `${r.model}/${r.channel}`), SQL_MODELS.flatMap((m) => [`${m}/Display`, `${m}/Email`]));
    for (const r of first.intervals) {
      // The bootstrap interval (bootstrap_low/high); the published share_low/high widens it by the benchmark's margin.
      assert.equal(r.method, "conformal_bootstrap", JSON.stringify(r));
      const counted = new Set(first.replicates.filter((x) => x.model === r.model && x.replicate > 0).map((x) => x.replicate)).size;
      assert.equal(Number(r.replicates), counted);
      // A replicate drawing wX = wY = 0 (probability e^-2) has no conversion: skipped, as the path bootstrap skips one.
      assert.ok(counted >= 20 && counted < 30, `${counted} replicates`);
      // Display's share is ½wX / (wX + wY): it moves whenever X and Y are weighed differently.
      assert.ok(Number(r.bootstrap_low) < Number(r.share) && Number(r.share) < Number(r.bootstrap_high), JSON.stringify(r));
    }
    // A re-run on the same data draws the same weights: the same replicates and intervals, row for row.
    assertRunSucceeded(await runProject(project, engine, { selection: { actions: ["channel_share_replicates", "credit_intervals"] }, fullRefresh: true }));
    const again = await read();
    assert.deepEqual(again, first);
  });

  it("gives intervals of zero width when every chain is the same", async () => {
    // Six chains X_i: Display 0, Email 1 (buys): every replicate's counts are the same multiple of one chain's, and
    // both models' shares (½, ½: excess 0.7 each, its prior 0.7, τ² 0) do not move.
    const events: Ga4Event[] = [];
    for (let i = 0; i < 6; i++) events.push(...visit(`X${i}`, 0, DISPLAY), ...visit(`X${i}`, 1, EMAIL, 10));
    events.push(...visit("Z", 10, DISPLAY));
    const { read } = await run(events, { credit_bootstrap_replicates: "30" });
    const { intervals, replicates } = await read();
    assert.ok(new Set(replicates.map((r) => r.replicate)).size >= 20);
    assert.deepEqual(intervals.map((r) => [r.model, r.channel, Number(r.share), Number(r.bootstrap_low), Number(r.bootstrap_high), r.method]), SQL_MODELS.flatMap((m) => [
      [m, "Display", 0.5, 0.5, 0.5, "conformal_bootstrap"],
      [m, "Email", 0.5, 0.5, 0.5, "conformal_bootstrap"],
    ]));
  });

  it("computes replicate 0 only, and writes no interval saying why, when vars.credit_bootstrap_replicates is 0", async () => {
    const { read } = await run(twoChains(), { credit_bootstrap_replicates: "0" });
    const { replicates, intervals } = await read();
    assert.deepEqual([...new Set(replicates.map((r) => r.replicate))], [0]);
    assert.equal(intervals.length, 4);
    for (const r of intervals) {
      assert.deepEqual([r.bootstrap_low, r.bootstrap_high, Number(r.replicates)], [null, null, 0]);
      assert.match(String(r.method), /vars\.credit_bootstrap_replicates is 0/);
    }
  });

  it("has a model's replicates exactly when it publishes: none with every channel responsive to both, one model's with one", async () => {
    // Chains X_i: Display 0, Email ½, Display 1, Email 1½ (buys); Y_i the same with Email first; Z, Z2 the span. Each
    // channel's visits follow the other's within days: incoming ratio > 1 and z ≈ 2.07 for both (channel_excitation).
    // excitation_responsive_ratio 1 makes both responsive to excitation_linear, self_controlled_responsive_z 0 both
    // responsive to self_controlled (3: neither). A responsive channel gets nothing from either model, so with both
    // models' channels all responsive no replicate has a share (and no chain's weights are drawn).
    const events: Ga4Event[] = [];
    for (let i = 0; i < 4; i++) {
      events.push(...visit(`X${i}`, 0, DISPLAY), ...visit(`X${i}`, 0.5, EMAIL), ...visit(`X${i}`, 1, DISPLAY), ...visit(`X${i}`, 1.5, EMAIL, 10));
      events.push(...visit(`Y${i}`, 0, EMAIL), ...visit(`Y${i}`, 0.5, DISPLAY), ...visit(`Y${i}`, 1, EMAIL), ...visit(`Y${i}`, 1.5, DISPLAY, 10));
    }
    events.push(...visit("Z", 10, DISPLAY), ...visit("Z2", 10, EMAIL));
    const cases: { vars: Record<string, string>; publishing: string[] }[] = [
      { vars: { excitation_responsive_ratio: "1", self_controlled_responsive_z: "0" }, publishing: [] },
      { vars: { excitation_responsive_ratio: "1", self_controlled_responsive_z: "3" }, publishing: ["self_controlled"] },
      { vars: { excitation_responsive_ratio: "100", self_controlled_responsive_z: "0" }, publishing: ["excitation_linear"] },
    ];
    for (const c of cases) {
      const { ds, read } = await run(events, { credit_bootstrap_replicates: "30", ...c.vars });
      const responsive = await engine.queryNative(`SELECT channel, incoming_ratio > 1 AND incoming_z > 0 AS bunched FROM "${ds.intermediate}".channel_excitation ORDER BY channel`);
      assert.deepEqual(responsive.map((r) => [r.channel, r.bunched]), [["Display", true], ["Email", true]]);
      const { replicates } = await read();
      const label = JSON.stringify(c.vars);
      assert.deepEqual([...new Set(replicates.map((r) => r.model))], c.publishing, label);
      for (const m of SQL_MODELS) {
        const published = await engine.queryNative(`SELECT channel, share FROM "${ds.outputs}".${m}_channel_credit ORDER BY channel`);
        assert.equal(published.length > 0, c.publishing.includes(m), `${label}: ${m} publishes ${published.length} channels`);
        if (!published.length) continue;
        assert.ok(new Set(replicates.filter((r) => r.model === m).map((r) => r.replicate)).size >= 20, `${label}: ${m}`);
        const point = replicates.filter((r) => r.model === m && r.replicate === 0);
        assert.deepEqual(point.map((r) => [r.channel, r.share.toFixed(9)]), published.map((r) => [r.channel, Number(r.share).toFixed(9)]), `${label}: ${m}`);
      }
    }
  });

  it("draws the same replicates on the strict local BigQuery as on DuckDB (demo sample), replicate 0 being the published share", async () => {
    // No channel responsive (as test/self-controlled.test.ts): both models publish every channel.
    const project = await compiledProject({ excitation_responsive_ratio: "100", credit_bootstrap_replicates: "20" });
    const ds = project.settings.datasets;
    const bq = await runDemoSampleOnBothEngines(engine, project, ["channel_share_replicates", "excitation_linear_channel_credit", "self_controlled_channel_credit"]);
    try {
      const want = canonicalRows(await engine.queryNative(`SELECT * FROM "${ds.intermediate}".channel_share_replicates`));
      assert.ok(want.length >= 2 * 21 * 5, `${want.length} rows`);
      assert.deepEqual(canonicalRows(await bq.rows(`${STRICT_PROJECT}.${ds.intermediate}.channel_share_replicates`)), want);
      for (const m of SQL_MODELS) {
        const published = await engine.queryNative(`SELECT channel, share FROM "${ds.outputs}".${m}_channel_credit ORDER BY channel`);
        const point = await engine.queryNative(`SELECT channel, share FROM "${ds.intermediate}".channel_share_replicates WHERE model = '${m}' AND replicate = 0 ORDER BY channel`);
        assert.ok(published.length >= 5, `${m}: ${published.length} channels`);
        assert.deepEqual(point.map((r) => r.channel), published.map((r) => r.channel), m);
        point.forEach((r, i) => assert.ok(Math.abs(Number(r.share) - Number(published[i]!.share)) < 1e-9, `${m}/${r.channel}: ${r.share} vs ${published[i]!.share}`));
      }
    } finally {
      await bq.close();
    }
  });
});
