/**
 * Is "≤ 0.6 × last touch's L1" reachable on a family? The heuristics computed on the mechanism's OWN journeys
 * (every session of every observed user up to its conversion: no GA4 export, no identity loss, no lookback cut),
 * against the true incremental shares, beside the truth's own sampling noise (the truth on half the population vs
 * on all of it) and an estimate's sampling noise at this many users (last touch on two disjoint samples, L1 / √2).
 * If last touch is already near the noise floor, 0.6 × its distance is below what any estimate
 * from this many users can reach.
 *
 *   npx tsx bench/studies/decay-ceiling.ts --families decay --seeds 1,2,3,101,102,103 --users 1500 --truth-users 10000
 */
import { l1Distance } from "../../src/benchmark/accuracy.ts";
import { drawUser, simulateUser, userSeed } from "../../src/benchmark/mechanism.ts";
import { trueShares } from "../../src/benchmark/truth.ts";
import { drawWorld, worldSeed, type Family } from "../../src/benchmark/worlds.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : def;
};
const families = opt("--families", "decay").split(",") as Family[];
const seeds = opt("--seeds", "1,2,3,101,102,103").split(",").map(Number);
const users = Number(opt("--users", "1500"));
const truthUsers = Number(opt("--truth-users", "10000"));

type Path = { channel: string; t: number }[];

/** Shares of a per-path credit rule over converting paths. */
function heuristic(paths: readonly Path[], rule: (p: Path) => number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of paths) rule(p).forEach((w, i) => (out[p[i]!.channel] = (out[p[i]!.channel] ?? 0) + w));
  const total = Object.values(out).reduce((a, b) => a + b, 0);
  for (const k of Object.keys(out)) out[k]! /= total;
  return out;
}

const RULES: Record<string, (p: Path) => number[]> = {
  last_touch: (p) => p.map((_, i) => (i === p.length - 1 ? 1 : 0)),
  first_touch: (p) => p.map((_, i) => (i === 0 ? 1 : 0)),
  linear: (p) => p.map(() => 1 / p.length),
  position_based: (p) => (p.length === 1 ? [1] : p.length === 2 ? [0.5, 0.5] : p.map((_, i) => (i === 0 || i === p.length - 1 ? 0.4 : 0.2 / (p.length - 2)))),
  time_decay_7d: (p) => {
    const end = p[p.length - 1]!.t;
    const w = p.map((s) => Math.pow(2, -(end - s.t) / 7));
    const sum = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / sum);
  },
};

console.log(`users ${users}, truth on ${truthUsers} (noise: truth on ${truthUsers / 2} vs ${truthUsers})`);
for (const family of families) {
  const rows: Record<string, number[]> = {};
  for (const seed of seeds) {
    const world = drawWorld(family, seed, users);
    const truth = trueShares(world, truthUsers);
    const half = trueShares(world, Math.floor(truthUsers / 2));
    const allOn = new Uint8Array(world.channels.length).fill(1);
    const pathsOf = (from: number): Path[] => {
      const out: Path[] = [];
      for (let u = from; u < from + users; u++) {
        const played = simulateUser(world, drawUser(world, userSeed(worldSeed(family, seed), 0, u), u), allOn);
        if (played.converted < 0) continue;
        out.push(played.sessions.slice(0, played.converted + 1).map((s) => ({ channel: world.channels[s.channel]!.key, t: s.t })));
      }
      return out;
    };
    const paths = pathsOf(0);
    // Sampling noise of an estimate from `users` users: last touch on two disjoint samples, L1 / √2.
    const other = pathsOf(users);
    const line: string[] = [];
    const add = (name: string, d: number) => {
      (rows[name] ??= []).push(d);
      line.push(`${name} ${d.toFixed(3)}`);
    };
    add("truth_noise", l1Distance(half.incremental, truth.incremental));
    add("sample_noise", l1Distance(heuristic(paths, RULES.last_touch!), heuristic(other, RULES.last_touch!)) / Math.SQRT2);
    for (const [name, rule] of Object.entries(RULES)) add(name, l1Distance(heuristic(paths, rule), truth.incremental));
    console.log(`${family}/s${seed} (${world.channels.length} ch, half-life ${world.halfLifeDays.toFixed(2)} d, ${paths.length} conversions): ${line.join(", ")}`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const lt = mean(rows.last_touch!);
  console.log(`${family} mean: ${Object.entries(rows).map(([k, v]) => `${k} ${mean(v).toFixed(3)}`).join(", ")}; target 0.6 × last touch = ${(0.6 * lt).toFixed(3)}`);
}
