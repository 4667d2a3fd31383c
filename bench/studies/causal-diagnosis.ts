/**
 * Why an exposure-adjusted causal estimate cannot find the benchmark's true incremental shares from journeys:
 * double ML (the causal_dml family's estimator: partially linear model, 2-fold cross-fitting, L2 logistic
 * nuisance models) run at USER grain on the mechanism's own data (src/benchmark/mechanism.ts, no GA4 export,
 * no identity loss), with four adjustment sets — none; the other channels' exposure (what causal_dml uses);
 * the user's hidden propensity log z (the confounder that drives selection, pull visits and conversion, which
 * no observed column carries); both — and two exposure windows: up to the conversion (what a conversion
 * journey sees) and the whole window. Prints each estimate's L1 to the true incremental shares (truth.ts).
 *
 *   npx tsx bench/studies/causal-diagnosis.ts [--users 20000] [--seeds 1,101] [--families selection_bias,harvesting]
 */
import { drawWorld, FAMILIES, worldSeed, type Family } from "../../src/benchmark/worlds.ts";
import { drawUser, simulateUser, userSeed } from "../../src/benchmark/mechanism.ts";
import { trueShares } from "../../src/benchmark/truth.ts";
import { fitLogisticRegression, predictLogistic } from "../../src/models/logistic-regression.ts";
import { option as opt } from "../measure.ts";

const args = process.argv.slice(2);
const users = Number(opt("--users", "20000"));
const seeds = opt("--seeds", "1,101").split(",").map(Number);
const families = opt("--families", FAMILIES.join(",")).split(",") as Family[];

const l1 = (a: readonly number[], b: readonly number[]): number => a.reduce((s, x, i) => s + Math.abs(x - b[i]!), 0);
function shares(x: readonly number[]): number[] {
  const p = x.map((v) => Math.max(0, v));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => (s > 0 ? v / s : 1 / p.length));
}

/** Cross-fitted DML θ_c · treated users for each channel c, confounders from `wOf(user, c)`. */
function dmlIncrements(E: readonly Uint8Array[], Y: readonly number[], C: number, wOf: (i: number, c: number) => number[]): number[] {
  const n = Y.length;
  const out: number[] = [];
  for (let c = 0; c < C; c++) {
    const D = wOf(0, c).length;
    const W = new Float64Array(n * D);
    const T = new Float64Array(n);
    const y = Float64Array.from(Y);
    for (let i = 0; i < n; i++) {
      W.set(wOf(i, c), i * D);
      T[i] = E[i]![c]!;
    }
    const g = new Float64Array(n);
    const m = new Float64Array(n);
    for (let f = 0; f < 2; f++) {
      const tr: number[] = [];
      const pr: number[] = [];
      for (let i = 0; i < n; i++) (i % 2 === f ? pr : tr).push(i);
      if (D === 0) {
        const yb = tr.reduce((s, i) => s + y[i]!, 0) / tr.length;
        const tb = tr.reduce((s, i) => s + T[i]!, 0) / tr.length;
        for (const i of pr) [g[i], m[i]] = [yb, tb];
        continue;
      }
      const pick = (src: Float64Array, idx: number[], w: number): Float64Array => {
        const o = new Float64Array(idx.length * w);
        idx.forEach((i, r) => o.set(src.subarray(i * w, i * w + w), r * w));
        return o;
      };
      const outcome = fitLogisticRegression(pick(W, tr, D), pick(y, tr, 1), null, { columns: D, l2: 1 });
      const propensity = fitLogisticRegression(pick(W, tr, D), pick(T, tr, 1), null, { columns: D, l2: 1 });
      const gp = predictLogistic(outcome, pick(W, pr, D));
      const mp = predictLogistic(propensity, pick(W, pr, D));
      pr.forEach((i, r) => [g[i], m[i]] = [gp[r]!, mp[r]!]);
    }
    let num = 0;
    let den = 0;
    let treated = 0;
    for (let i = 0; i < n; i++) {
      const v = T[i]! - m[i]!;
      num += v * (y[i]! - g[i]!);
      den += v * v;
      treated += T[i]!;
    }
    out.push(den > 0 ? (num / den) * treated : 0);
  }
  return out;
}

for (const family of families) {
  for (const seed of seeds) {
    const world = drawWorld(family, seed, users);
    const truth = trueShares(world, 4000);
    const C = world.channels.length;
    const trueInc = world.channels.map((c) => truth.incremental[c.key]!);
    const ws = worldSeed(family, seed);
    const allOn = new Uint8Array(C).fill(1);
    const played = Array.from({ length: users }, (_, u) => {
      const d = drawUser(world, userSeed(ws, 0, u), u);
      return { d, p: simulateUser(world, d, allOn) };
    }).filter((x) => x.p.sessions.length > 0);
    const Y: number[] = played.map((x) => (x.p.converted >= 0 ? 1 : 0));
    const Z = played.map((x) => Math.log(x.d.propensity));
    console.log(`${family}/s${seed}: ${C} channels, ${played.length} users with sessions, ${Y.reduce((a, b) => a + b, 0)} conversions`);
    for (const window of ["to conversion", "whole window"] as const) {
      const E = played.map(({ p }) => {
        const end = window === "whole window" || p.converted < 0 ? p.sessions.length : p.converted + 1;
        const e = new Uint8Array(C);
        for (let i = 0; i < end; i++) e[p.sessions[i]!.channel] = 1;
        return e;
      });
      const others = (i: number, c: number): number[] => Array.from(E[i]!).filter((_, k) => k !== c);
      const sets: Array<[string, (i: number, c: number) => number[]]> = [
        ["none", () => []], ["other channels (causal_dml)", others], ["hidden log z", (i) => [Z[i]!]], ["log z + other channels", (i, c) => [Z[i]!, ...others(i, c)]],
      ];
      for (const [label, wOf] of sets) {
        const s = shares(dmlIncrements(E, Y, C, wOf));
        console.log(`  exposure ${window.padEnd(13)} adjusted for ${label.padEnd(27)} L1 ${l1(s, trueInc).toFixed(3)}   ` +
          world.channels.map((ch, i) => `${ch.key} ${(s[i]! * 100).toFixed(0)}/${(trueInc[i]! * 100).toFixed(0)}`).join(" "));
      }
    }
  }
}
