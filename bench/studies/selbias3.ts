/**
 * Selection-bias study, part 2 (issue #16): why `self_controlled` missed selection_bias on fresh seeds 21–23, and the
 * variants tried. Reads the dumps of bench/studies/calib-pipeline-dump.ts --cache /tmp/selbias-cache (as
 * bench/studies/selbias.ts; 3,000 users per world, truth on 4,000).
 *
 * Diagnosis (--classes: the signed error per class of channel, from the world's hidden parameters, diagnosis only):
 * with 14 days on every span, the targeted push channels (shown mostly to high-propensity users, small lift, their own
 * sessions convert) are under-credited and the untargeted high-lift channels over-credited. The cause is the
 * baseline: it spreads each chain's conversion evenly over the data's span, but a high-propensity chain converts early
 * (its first conversion comes after few sessions), so a session of a channel such chains see lands after the
 * conversion more often than the even spread assumes, and its window holds fewer conversions than "expected" — the
 * excess goes negative and the shrinkage sets it to 0 (selection_bias s108: paid_social, true share 0.42, gets 0).
 * The error grows with the window's share of the span (0.5 for 14 days on 28-day data). Pull channels with lift (true
 * share up to 0.48) are the other loss: responsive ⇒ 0.
 *
 * Variants: sc_h<h> (self_controlled with an h-day window), sc_q<q> (the window q × the data's span: q 0.25 is the new
 * default, self_controlled_window_days auto), ccx_* (case-crossover baseline: the channel's sessions spread evenly over
 * the chain's span given each conversion time, the design's own null for a channel on its own schedule; it over-credits
 * the targeted channels instead, their own-session conversions being attributable but not all incremental), *_pull_*
 * (responsive channels credited by the difference of their visits' window conversions from the other responsive
 * channels': helps selection_bias, costs synergy), chainspan_* (each chain's own span as the baseline), sessprior
 * (shrinkage toward session shares).
 *   nice -n 10 npx tsx bench/studies/calib-pipeline-dump.ts --cache /tmp/selbias-cache --families selection_bias --seeds 101,…,112
 *   npx tsx bench/studies/selbias3.ts --seeds 101,102 --families selection_bias [--per-world] [--classes] [--detail] [--methods a,b]
 */
import fs from "node:fs";
import { drawWorld, FAMILIES, type Family } from "../../src/benchmark/worlds.ts";
import type { PipelineDump } from "./calib-pipeline-dump.ts";
import type { Journey } from "./calib-worlds.ts";
import { ruleShares, type Shares } from "./calib-features.ts";
import { option as opt } from "../measure.ts";

const users = Number(opt("--users", "3000"));
const truthUsers = Number(opt("--truth-users", "4000"));
const seeds = opt("--seeds", "1,2,3").split(",").map(Number);
const families = opt("--families", FAMILIES.join(",")).split(",") as Family[];
const cache = opt("--cache", "/tmp/selbias-cache");
const Z_CUT = 3;

interface World {
  family: Family;
  seed: number;
  channels: string[];
  truth: Record<string, number>;
  rules: Record<string, Shares>;
  incZ: Record<string, number>;
  chains: Array<Array<[string, number, number]>>;
  start: number;
  end: number;
}

function load(family: Family, seed: number): World | null {
  const file = `${cache}/pipeline-${family}-${seed}-${users}-${truthUsers}.json`;
  if (!fs.existsSync(file)) return null;
  const d = JSON.parse(fs.readFileSync(file, "utf8")) as PipelineDump;
  const conv = new Float64Array(d.sessions.length);
  for (const i of d.conversions ?? []) if (i >= 0) conv[i]!++;
  const byChain = new Map<string, Array<[string, number, number]>>();
  let start = Infinity;
  let end = -Infinity;
  d.sessions.forEach(([chain, channel, t], i) => {
    const l = byChain.get(chain) ?? [];
    l.push([channel, t, conv[i]!]);
    byChain.set(chain, l);
    start = Math.min(start, t);
    end = Math.max(end, t);
  });
  const journeys: Journey[] = d.journeys.map(([converted, touches]) => ({ converted, touches: touches.map(([channel, t]) => ({ channel, t, pages: 0, viewsProduct: false })) }));
  const H = 3;
  const O: Record<string, number> = Object.fromEntries(d.channels.map((c) => [c, 0]));
  const E: Record<string, number> = Object.fromEntries(d.channels.map((c) => [c, 0]));
  for (const l of byChain.values()) {
    const count: Record<string, number> = {};
    for (const [c] of l) count[c] = (count[c] ?? 0) + 1;
    for (const [k, tk] of l) {
      const win = Math.min(end, tk + H) - tk;
      for (const c of Object.keys(count)) if (c !== k) E[c]! += (count[c]! * win) / (end - start);
      for (const [x, tx] of l) if (x !== k && tx > tk && tx <= tk + H) O[x]!++;
    }
  }
  return {
    family, seed, channels: d.channels, truth: d.truth, rules: ruleShares(journeys, d.channels),
    incZ: Object.fromEntries(d.channels.map((c) => [c, E[c]! > 0 ? (O[c]! - E[c]!) / Math.sqrt(E[c]!) : 0])),
    chains: [...byChain.values()], start, end,
  };
}

const zero = (w: World): Record<string, number> => Object.fromEntries(w.channels.map((c) => [c, 0]));
const nonResp = (w: World, c: string): boolean => w.incZ[c]! <= Z_CUT;

/** Window counts: per channel, the chain's conversions in [t, t + h] after its sessions (obs), uniform expectation (exp), sessions (all chains). */
function windows(w: World, h: number) {
  const obs = zero(w), exp = zero(w), sess = zero(w), convSess = zero(w), own = zero(w);
  const span = w.end - w.start;
  for (const chain of w.chains) {
    const convs = chain.reduce((a, s) => a + s[2], 0);
    for (const [c, t, cv] of chain) {
      sess[c]!++;
      own[c]! += cv;
      if (!convs) continue;
      convSess[c]!++;
      exp[c]! += (convs * (Math.min(w.end, t + h) - t)) / span;
      for (const [, t2, cv2] of chain) if (t2 >= t && t2 <= t + h) obs[c]! += cv2;
    }
  }
  return { obs, exp, sess, convSess, own };
}

/** As `windows`, but each chain's conversions spread evenly over the chain's own span (first to last session) instead of the data's. */
function chainWindows(w: World, h: number) {
  const obs = zero(w), exp = zero(w);
  for (const chain of w.chains) {
    const convs = chain.reduce((a, s) => a + s[2], 0);
    if (!convs) continue;
    const a = Math.min(...chain.map((s) => s[1])), b = Math.max(...chain.map((s) => s[1]));
    for (const [c, t] of chain) {
      exp[c]! += b > a ? (convs * (Math.min(b, t + h) - t)) / (b - a) : convs;
      for (const [, t2, cv2] of chain) if (t2 >= t && t2 <= t + h) obs[c]! += cv2;
    }
  }
  return { obs, exp };
}

/** Case-crossover: per channel, its sessions in [T − h, T] before each conversion T against its count × window / span. */
function caseCrossover(w: World, h: number) {
  const obs = zero(w), exp = zero(w);
  const span = w.end - w.start;
  for (const chain of w.chains) {
    const count: Record<string, number> = {};
    for (const [c] of chain) count[c] = (count[c] ?? 0) + 1;
    for (const [, T, cv] of chain) {
      if (!cv) continue;
      const win = T - Math.max(w.start, T - h);
      for (const c of Object.keys(count)) exp[c]! += (cv * count[c]! * win) / span;
      for (const [c, t] of chain) if (t >= T - h && t <= T) obs[c]! += cv;
    }
  }
  return { obs, exp };
}

function renorm(w: World, v: Record<string, number>): Record<string, number> {
  const s = w.channels.reduce((a, c) => a + Math.max(0, v[c] ?? 0), 0);
  return s > 0 ? Object.fromEntries(w.channels.map((c) => [c, Math.max(0, v[c] ?? 0) / s])) : w.rules.linear!;
}

/** self_controlled's empirical-Bayes step over `kept`, toward `priorWeight` (a share per channel) of the kept positive excess. */
function shrink(w: World, kept: string[], e: Record<string, number>, v: Record<string, number>, priorWeight: Record<string, number>): Record<string, number> {
  const total = kept.reduce((a, c) => a + Math.max(0, e[c]!), 0);
  const wSum = kept.reduce((a, c) => a + priorWeight[c]!, 0);
  const prior = Object.fromEntries(kept.map((c) => [c, wSum > 0 ? (total * priorWeight[c]!) / wSum : 0]));
  const tau2 = Math.max(0, kept.reduce((a, c) => a + (e[c]! - prior[c]!) ** 2 - v[c]!, 0) / Math.max(1, kept.length));
  const out = zero(w);
  for (const c of kept) out[c] = Math.max(0, tau2 + v[c]! > 0 ? (tau2 * e[c]! + v[c]! * prior[c]!) / (tau2 + v[c]!) : prior[c]!);
  return out;
}

/**
 * Pull route contrast: a responsive channel's visits against the other responsive channels' visits. Which pull route a
 * visit takes does not depend on the user's intent (switch one off and the visit takes another), so the difference of
 * their window conversions per visit is the channel's effect against its substitute; × its visits in converting
 * chains = conversions lost when it is switched off. Shrunk toward 0 by its own noise (positive-part James–Stein).
 */
function pullContrast(w: World, s: ReturnType<typeof windows>, resp: string[]): { est: Record<string, number>; v: Record<string, number> } {
  const est = zero(w), v = zero(w);
  for (const c of resp) {
    const others = resp.filter((x) => x !== c);
    const n = s.convSess[c]!;
    const no = others.reduce((a, x) => a + s.convSess[x]!, 0);
    if (!n || !no) continue;
    const rate = s.obs[c]! / n;
    const rateO = others.reduce((a, x) => a + s.obs[x]!, 0) / no;
    est[c] = n * (rate - rateO);
    v[c] = s.obs[c]! + (n * n * others.reduce((a, x) => a + s.obs[x]!, 0)) / (no * no);
  }
  return { est, v };
}

type Method = (w: World) => Record<string, number>;
const methods: Record<string, Method> = {
  first_touch: (w) => w.rules.first_touch!,
  last_touch: (w) => w.rules.last_touch!,
  linear: (w) => w.rules.linear!,
  position_based: (w) => w.rules.position_based!,
  time_decay: (w) => w.rules.time_decay!,
};
for (const q of [0.2, 0.25, 0.33]) {
  // the window as a share of the data's span
  methods[`sc_q${q}`] = (w) => {
    const s = windows(w, q * (w.end - w.start));
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]!]));
    return renorm(w, shrink(w, kept, e, s.obs, w.rules.linear!));
  };
}
for (const q of [0.25]) {
  methods[`chainspan_q${q}`] = (w) => {
    const s = chainWindows(w, q * (w.end - w.start));
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]!]));
    return renorm(w, shrink(w, kept, e, s.obs, w.rules.linear!));
  };
}
for (const q of [0.25]) {
  methods[`ccx_q${q}`] = (w) => {
    const x = caseCrossover(w, q * (w.end - w.start));
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, x.obs[c]! - x.exp[c]!]));
    return renorm(w, shrink(w, kept, e, x.obs, w.rules.linear!));
  };
}
for (const h of [7, 14]) {
  methods[`ccx_pull_h${h}`] = (w) => {
    const x = caseCrossover(w, h);
    const s = windows(w, h);
    const kept = w.channels.filter((c) => nonResp(w, c));
    const resp = w.channels.filter((c) => !nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, x.obs[c]! - x.exp[c]!]));
    const out = shrink(w, kept, e, x.obs, w.rules.linear!);
    const p = pullContrast(w, s, resp);
    for (const c of resp) out[c] = p.est[c]! > 0 ? p.est[c]! * Math.max(0, 1 - p.v[c]! / p.est[c]! ** 2) : 0;
    return renorm(w, out);
  };
}
for (const h of [7, 14]) {
  methods[`chainspan_h${h}`] = (w) => {
    const s = chainWindows(w, h);
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]!]));
    return renorm(w, shrink(w, kept, e, s.obs, w.rules.linear!));
  };
}
for (const h of [3, 5, 7, 10, 14]) {
  methods[`sc_h${h}`] = (w) => {
    const s = windows(w, h);
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]!]));
    return renorm(w, shrink(w, kept, e, s.obs, w.rules.linear!));
  };
  methods[`sc_pull_h${h}`] = (w) => {
    const s = windows(w, h);
    const kept = w.channels.filter((c) => nonResp(w, c));
    const resp = w.channels.filter((c) => !nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]!]));
    const out = shrink(w, kept, e, s.obs, w.rules.linear!);
    const p = pullContrast(w, s, resp);
    for (const c of resp) out[c] = p.est[c]! > 0 ? p.est[c]! * Math.max(0, 1 - p.v[c]! / p.est[c]! ** 2) : 0;
    return renorm(w, out);
  };
  methods[`ccx_h${h}`] = (w) => {
    const x = caseCrossover(w, h);
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, x.obs[c]! - x.exp[c]!]));
    return renorm(w, shrink(w, kept, e, x.obs, w.rules.linear!));
  };
  methods[`sc_sessprior_h${h}`] = (w) => {
    const s = windows(w, h);
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]!]));
    return renorm(w, shrink(w, kept, e, s.obs, s.sess));
  };
}

const worlds = families.flatMap((f) => seeds.map((s) => load(f, s)).filter((x): x is World => x !== null));
console.log(`${worlds.length} worlds (seeds ${seeds.join(",")}), truth on ${truthUsers} users`);
const l1 = (w: World, s: Record<string, number>): number => w.channels.reduce((a, c) => a + Math.abs((s[c] ?? 0) - w.truth[c]!), 0);
const fams = families.filter((f) => worlds.some((w) => w.family === f));
const table: Record<string, Record<string, number>> = {};
console.log(`${"method".padEnd(22)}${fams.map((f) => f.padStart(15)).join("")}`);
for (const [m, fn] of Object.entries(methods)) {
  table[m] = {};
  for (const f of fams) {
    const xs = worlds.filter((w) => w.family === f);
    table[m]![f] = xs.reduce((a, w) => a + l1(w, fn(w)), 0) / xs.length;
  }
  const cells = fams.map((f) => {
    const lt = table.last_touch?.[f] ?? NaN;
    const best = Math.min(...["first_touch", "last_touch", "linear", "position_based", "time_decay"].map((h) => table[h]?.[f] ?? Infinity));
    const v = table[m]![f]!;
    return `${v.toFixed(3)}${v <= 0.6 * lt && v <= 0.8 * best ? "*" : " "}`.padStart(15);
  });
  console.log(`${m.padEnd(22)}${cells.join("")}`);
}
console.log("(* = meets ≤ 0.6 × last touch and ≤ 0.8 × the best heuristic)");
if (process.argv.includes("--per-world")) {
  for (const m of opt("--methods", "sc_h14,sc_pull_h14").split(",")) {
    console.log(`${m.padEnd(22)}${worlds.map((w) => `${w.family.slice(0, 5)}/${w.seed} ${l1(w, methods[m]!(w)).toFixed(3)}`).join("  ")}`);
  }
}
if (process.argv.includes("--classes")) {
  // Where the L1 goes: per channel class of the world's hidden parameters (diagnosis only), the mean over worlds of the
  // signed error (share − true) summed over the class's channels, and its part of the L1.
  const ms = opt("--methods", "sc_h14,sc_q0.25").split(",");
  const classOf = (world: ReturnType<typeof drawWorld>, c: string): string => {
    const wc = world.channels.find((x) => x.key === c)!;
    return wc.kind === "pull" ? "pull" : wc.targeting > 0 ? "targeted push" : "untargeted push";
  };
  for (const m of ms) {
    const acc: Record<string, { signed: number; abs: number }> = {};
    for (const w of worlds) {
      const world = drawWorld(w.family, w.seed, users);
      const sh = methods[m]!(w);
      for (const c of w.channels) {
        const k = classOf(world, c);
        acc[k] ??= { signed: 0, abs: 0 };
        acc[k]!.signed += ((sh[c] ?? 0) - w.truth[c]!) / worlds.length;
        acc[k]!.abs += Math.abs((sh[c] ?? 0) - w.truth[c]!) / worlds.length;
      }
    }
    console.log(`${m.padEnd(22)}${Object.entries(acc).map(([k, v]) => `${k}: signed ${v.signed >= 0 ? "+" : ""}${v.signed.toFixed(3)}, L1 ${v.abs.toFixed(3)}`).join("   ")}`);
  }
}
if (process.argv.includes("--detail")) {
  // Per channel, with the world's hidden parameters (diagnosis only: no method reads them).
  const ms = opt("--methods", "sc_h14,sc_pull_h14").split(",");
  for (const w of worlds) {
    const world = drawWorld(w.family, w.seed, users);
    const s = windows(w, 14);
    const shares = ms.map((m) => methods[m]!(w));
    console.log(`\n${w.family}/s${w.seed}  ${ms.map((m, i) => `${m} ${l1(w, shares[i]!).toFixed(3)}`).join("  ")}`);
    console.log(`${"channel".padEnd(16)}${["kind", "targ", "lift", "close", "true", "lin", "incZ", "sess", "cSess", "own", "obs14", "exp14", ...ms].map((x) => x.slice(0, 9).padStart(10)).join("")}`);
    for (const c of w.channels) {
      const wc = world.channels.find((x) => x.key === c)!;
      console.log(`${c.padEnd(16)}${[wc.kind, wc.targeting.toFixed(2), wc.lift.toFixed(3), wc.close.toFixed(2), w.truth[c]!.toFixed(3), w.rules.linear![c]!.toFixed(3), w.incZ[c]!.toFixed(1),
        String(s.sess[c]), String(s.convSess[c]), String(s.own[c]), String(s.obs[c]), s.exp[c]!.toFixed(1), ...shares.map((x) => x[c]!.toFixed(3))].map((x) => x.padStart(10)).join("")}`);
    }
  }
}
