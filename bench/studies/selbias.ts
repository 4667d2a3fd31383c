/**
 * Selection-bias study (issues #16, #17): a self-controlled estimate of each channel's incremental conversions, the
 * rule behind the `self_controlled` model (definitions/attribution/self_controlled_channel_credit.sqlx).
 *
 * Self-controlled case series (Farrington 1995) on the pipeline's sessions: for a channel on its own schedule, the
 * chain's conversions in the risk window [session start, + h days] after each of the channel's sessions (its own
 * session's included) against what the chain's own conversions, spread evenly over the data's span, would put there.
 * Conditioning on the chain's own conversions cancels everything constant within the chain — propensity, and so who a
 * targeted channel is shown to — and since the channel's session times are its own schedule, the window's excess is
 * its effect. Responsive (pull) channels get none.
 *
 * Variants studied on the training seeds 1–3 (all printed): the window h; the responsive rule (excitation_linear's
 * ratio > 1.15, or --responsive z: the incoming excitation as a z-score (O − E) / √E > 3); exposure-before-conversion
 * (ebc: the channel's sessions in the h days before each conversion against uniform); a pre-exposure window (ab); the
 * lift part only (lift); blends with excitation_linear; and empirical-Bayes shrinkage (eb_*) of each kept channel's
 * excess toward its linear share of the kept excess, by its Poisson variance against the channels' spread.
 * Frozen after the seeds 1–3 study (before any fresh seed was read): `self_controlled` = eb_sccs_h14 with the z rule.
 *
 * Reads the dumps of bench/studies/calib-pipeline-dump.ts --cache /tmp/selbias-cache (which carry `conversions`):
 *   nice -n 10 npx tsx bench/studies/calib-pipeline-dump.ts --cache /tmp/selbias-cache --seeds 1,2,3 --users 3000 --truth-users 4000
 *   npx tsx bench/studies/selbias.ts [--seeds 1,2,3] [--families …] [--responsive z|ratio] [--detail] [--per-world --methods a,b]
 */
import fs from "node:fs";
import { FAMILIES, type Family } from "../../src/benchmark/worlds.ts";
import type { PipelineDump } from "./calib-pipeline-dump.ts";
import type { Journey } from "./calib-worlds.ts";
import { channelStats, ruleShares, type Shares } from "./calib-features.ts";
import { option as opt } from "../measure.ts";

const users = Number(opt("--users", "3000"));
const truthUsers = Number(opt("--truth-users", "4000"));
const seeds = opt("--seeds", "1,2,3").split(",").map(Number);
const families = opt("--families", FAMILIES.join(",")).split(",") as Family[];
const cache = opt("--cache", "/tmp/selbias-cache");
const EXC_CUT = 1.15;
const detail = process.argv.includes("--detail");

interface World {
  family: Family;
  seed: number;
  channels: string[];
  truth: Record<string, number>;
  rules: Record<string, Shares>;
  exc3: Record<string, number>;
  self3: Record<string, number>;
  /** Incoming excitation as channel_excitation computes it (data span): observed, expected, z = (O − E) / √E. */
  incZ: Record<string, number>;
  /** Sessions by chain, by time: [channel, t, converted here]. */
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
  const sessionView = new Map<string, Journey>();
  let start = Infinity;
  let end = -Infinity;
  d.sessions.forEach(([chain, channel, t, events], i) => {
    const l = byChain.get(chain) ?? [];
    l.push([channel, t, conv[i]!]);
    byChain.set(chain, l);
    const j = sessionView.get(chain) ?? { touches: [], converted: false };
    j.touches.push({ channel, t, pages: events, viewsProduct: false });
    sessionView.set(chain, j);
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
  const stats = channelStats([...sessionView.values()], d.channels, d.days);
  return {
    family, seed, channels: d.channels, truth: d.truth, rules: ruleShares(journeys, d.channels),
    exc3: Object.fromEntries(d.channels.map((c) => [c, stats[c]!.excitation3])),
    incZ: Object.fromEntries(d.channels.map((c) => [c, E[c]! > 0 ? (O[c]! - E[c]!) / Math.sqrt(E[c]!) : 0])),
    self3: Object.fromEntries(d.channels.map((c) => [c, stats[c]!.selfExcitation3])),
    chains: [...byChain.values()], start, end,
  };
}

function renorm(v: Record<string, number>): Record<string, number> {
  const s = Object.values(v).reduce((a, b) => a + Math.max(0, b), 0);
  return Object.fromEntries(Object.entries(v).map(([c, x]) => [c, s > 0 ? Math.max(0, x) / s : 1 / Object.keys(v).length]));
}

interface Sccs { before: Record<string, number>; expBefore: Record<string, number>; obs: Record<string, number>; exp: Record<string, number>; own: Record<string, number>; sessions: Record<string, number>; excessSessions: Record<string, number> }

/**
 * Per channel: conversions of the chain in [t, t + h] after each of its sessions (obs), the chain's conversions ×
 * window / span (exp), conversions in its own sessions (own), and the same for the chain's other sessions
 * (excessSessions = observed − expected other sessions in (t, t + h]).
 */
function sccs(w: World, h: number): Sccs {
  const z = (): Record<string, number> => Object.fromEntries(w.channels.map((c) => [c, 0]));
  const out: Sccs = { before: z(), expBefore: z(), obs: z(), exp: z(), own: z(), sessions: z(), excessSessions: z() };
  const span = w.end - w.start;
  for (const chain of w.chains) {
    const convs = chain.reduce((a, s) => a + s[2], 0);
    const n = chain.length;
    for (const [c, t, cv] of chain) {
      out.sessions[c]!++;
      out.own[c]! += cv;
      const win = Math.min(w.end, t + h) - t;
      out.exp[c]! += (convs * win) / span;
      let o = 0;
      let other = 0;
      const winB = t - Math.max(w.start, t - h);
      out.expBefore[c]! += (convs * winB) / span;
      for (const [, t2, cv2] of chain) {
        if (t2 >= t - h && t2 < t) out.before[c]! += cv2;
        if (t2 >= t && t2 <= t + h) o += cv2;
        if (t2 > t && t2 <= t + h) other++;
      }
      out.obs[c]! += o;
      out.excessSessions[c]! += other - ((n - 1) * win) / span;
    }
  }
  return out;
}

type Method = (w: World) => Record<string, number>;
const Z_CUT = Number(opt("--z-cut", "3"));
// --responsive ratio: excitation_linear's cut on the incoming ratio; z (default): incoming excitation significant, z > Z_CUT
const respRule = opt("--responsive", "z");
const nonResp = (w: World, c: string): boolean => (respRule === "ratio" ? w.exc3[c]! <= EXC_CUT : w.incZ[c]! <= Z_CUT);
const guard = (w: World, v: Record<string, number>): Record<string, number> => (Object.values(v).some((x) => x > 0) ? renorm(v) : w.rules.linear!);

const methods: Record<string, Method> = {
  first_touch: (w) => w.rules.first_touch!,
  last_touch: (w) => w.rules.last_touch!,
  linear: (w) => w.rules.linear!,
  position_based: (w) => w.rules.position_based!,
  time_decay: (w) => w.rules.time_decay!,
  excitation_linear: (w) => guard(w, Object.fromEntries(w.channels.map((c) => [c, w.exc3[c]! <= EXC_CUT ? w.rules.linear![c]! : 0]))),
  z_linear: (w) => guard(w, Object.fromEntries(w.channels.map((c) => [c, nonResp(w, c) ? w.rules.linear![c]! : 0]))),
};
for (const h of [1, 3, 7, 14]) {
  // excess conversions in the window (own session included)
  methods[`sccs_h${h}`] = (w) => {
    const s = sccs(w, h);
    return guard(w, Object.fromEntries(w.channels.map((c) => [c, nonResp(w, c) ? s.obs[c]! - s.exp[c]! : 0])));
  };
}
for (const h of [3, 7]) {
  // against the pre-exposure window: (after − expected) − (before − expected); a visit that comes when intent is
  // already high has conversions bunched before it too
  methods[`sccs_ab_h${h}`] = (w) => {
    const s = sccs(w, h);
    return guard(w, Object.fromEntries(w.channels.map((c) => [c, nonResp(w, c) ? s.obs[c]! - s.exp[c]! - (s.before[c]! - s.expBefore[c]!) : 0])));
  };
  methods[`sccs_ab_all_h${h}`] = (w) => {
    const s = sccs(w, h);
    return guard(w, Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]! - (s.before[c]! - s.expBefore[c]!)])));
  };
}
/**
 * Exposure before conversion (conditioning on the conversion time, the exposure being exogenous): per channel, its
 * sessions in [T − h, T] before each conversion T of the chain against the chain's count of them spread evenly over
 * the span × the window's length. Robust to when conversions happen (any time trend), since only the channel's
 * schedule is compared with uniform.
 */
function beforeConversion(w: World, h: number, observed?: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(w.channels.map((c) => [c, 0]));
  const span = w.end - w.start;
  for (const chain of w.chains) {
    const count: Record<string, number> = {};
    for (const [c] of chain) count[c] = (count[c] ?? 0) + 1;
    for (const [, T, cv] of chain) {
      if (!cv) continue;
      const win = T - Math.max(w.start, T - h);
      for (const c of Object.keys(count)) out[c]! -= (cv * count[c]! * win) / span;
      for (const [c, t] of chain) if (t >= T - h && t <= T) { out[c]! += cv; if (observed) observed[c] = (observed[c] ?? 0) + cv; }
    }
  }
  return out;
}
for (const h of [3, 7, 14, 30, 1000]) {
  methods[`ebc_h${h}`] = (w) => {
    const e = beforeConversion(w, h);
    return guard(w, Object.fromEntries(w.channels.map((c) => [c, nonResp(w, c) ? e[c]! : 0])));
  };
}
for (const h of [3, 7]) {
  // the lift part only: conversions in (t, t + h] after the session (its own conversion left out), every channel
  methods[`lift_all_h${h}`] = (w) => {
    const s = sccs(w, h);
    return guard(w, Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.own[c]! - s.exp[c]!])));
  };
  // lift for every channel, plus the own session's conversion for channels on their own schedule
  methods[`lift_own_h${h}`] = (w) => {
    const s = sccs(w, h);
    return guard(w, Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]! - (nonResp(w, c) ? 0 : s.own[c]!)])));
  };
}
for (const a of [0.5, 0.7]) {
  // blend with excitation_linear's shares (less noise where conversions are few)
  methods[`blend${a}_h3`] = (w) => {
    const x = methods.sccs_h3!(w);
    const e = methods.excitation_linear!(w);
    return Object.fromEntries(w.channels.map((c) => [c, a * x[c]! + (1 - a) * e[c]!]));
  };
}
/** Empirical Bayes shrinkage of kept channels' excess `e` (Poisson variance `v`) toward their linear share of the total. */
function shrink(w: World, e: Record<string, number>, v: Record<string, number>): Record<string, number> {
  const kept = w.channels.filter((c) => nonResp(w, c));
  const total = kept.reduce((a, c) => a + Math.max(0, e[c]!), 0);
  const linSum = kept.reduce((a, c) => a + w.rules.linear![c]!, 0);
  const prior = Object.fromEntries(kept.map((c) => [c, linSum > 0 ? (total * w.rules.linear![c]!) / linSum : 0]));
  const tau2 = Math.max(0, kept.reduce((a, c) => a + (e[c]! - prior[c]!) ** 2 - (v[c] ?? 0), 0) / Math.max(1, kept.length));
  return guard(w, Object.fromEntries(w.channels.map((c) => {
    if (!nonResp(w, c)) return [c, 0];
    const vc = v[c] ?? 0;
    return [c, tau2 + vc > 0 ? (tau2 * e[c]! + vc * prior[c]!) / (tau2 + vc) : prior[c]!];
  })));
}
for (const h of [7, 14, 30]) {
  methods[`eb_ebc_h${h}`] = (w) => {
    const v: Record<string, number> = {};
    const e = beforeConversion(w, h, v);
    return shrink(w, e, v);
  };
  methods[`eb_sccs_h${h}`] = (w) => {
    const s = sccs(w, h);
    return shrink(w, Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]!])), s.obs);
  };
}
// The frozen rule (see the file comment): the SQL model's figures come from this.
methods.self_controlled = (w) => {
  const s = sccs(w, 14);
  return shrink(w, Object.fromEntries(w.channels.map((c) => [c, s.obs[c]! - s.exp[c]!])), s.obs);
};
for (const h of [3, 7]) {
  // empirical Bayes: each kept channel's excess shrunk toward its linear share of the total kept excess, by its Poisson
  // variance (≈ its window conversions) against the spread between channels (method of moments)
  methods[`eb_h${h}`] = (w) => {
    const s = sccs(w, h);
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(kept.map((c) => [c, s.obs[c]! - s.exp[c]!]));
    const total = kept.reduce((a, c) => a + Math.max(0, e[c]!), 0);
    const linSum = kept.reduce((a, c) => a + w.rules.linear![c]!, 0);
    const prior = Object.fromEntries(kept.map((c) => [c, linSum > 0 ? (total * w.rules.linear![c]!) / linSum : 0]));
    const tau2 = Math.max(0, kept.reduce((a, c) => a + (e[c]! - prior[c]!) ** 2 - s.obs[c]!, 0) / Math.max(1, kept.length));
    return guard(w, Object.fromEntries(w.channels.map((c) => {
      if (!nonResp(w, c)) return [c, 0];
      const v = s.obs[c]!;
      return [c, tau2 + v > 0 ? (tau2 * e[c]! + v * prior[c]!) / (tau2 + v) : prior[c]!];
    })));
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
if (process.argv.includes("--z-tau")) {
  // Incoming z of the channels (kind read from the world's channel names, only to report the separation) and τ².
  const PULL = ["direct", "brand_search", "organic_search"];
  const zs = (pull: boolean) => worlds.flatMap((w) => w.channels.filter((c) => PULL.includes(c) === pull).map((c) => w.incZ[c]!));
  console.log(`incoming z: pull ${Math.min(...zs(true)).toFixed(2)}–${Math.max(...zs(true)).toFixed(2)}, push ${Math.min(...zs(false)).toFixed(2)}–${Math.max(...zs(false)).toFixed(2)}`);
  for (const w of worlds) {
    const s = sccs(w, 14);
    const kept = w.channels.filter((c) => nonResp(w, c));
    const e = Object.fromEntries(kept.map((c) => [c, s.obs[c]! - s.exp[c]!]));
    const total = kept.reduce((a, c) => a + Math.max(0, e[c]!), 0);
    const linSum = kept.reduce((a, c) => a + w.rules.linear![c]!, 0);
    const tau2 = Math.max(0, kept.reduce((a, c) => a + (e[c]! - (total * w.rules.linear![c]!) / linSum) ** 2 - s.obs[c]!, 0) / Math.max(1, kept.length));
    console.log(`${w.family}/s${w.seed}: τ² ${tau2.toFixed(1)}, responsive ${w.channels.filter((c) => !nonResp(w, c)).join(" ")}`);
  }
}
if (process.argv.includes("--per-world")) {
  for (const m of opt("--methods", "excitation_linear,z_linear,sccs_h3,eb_h3").split(",")) {
    console.log(`${m.padEnd(22)}${worlds.map((w) => `${w.family.slice(0, 5)}/${w.seed} ${l1(w, methods[m]!(w)).toFixed(3)}`).join("  ")}`);
  }
}
console.log("(* = meets ≤ 0.6 × last touch and ≤ 0.8 × the best heuristic)");
if (detail) {
  for (const w of worlds) {
    const s = sccs(w, 3);
    console.log(`\n${w.family}/s${w.seed}`);
    console.log("channel".padEnd(16) + ["true", "last", "lin", "exc3", "incZ", "sess", "own", "bef3", "expB3", "obs3", "exp3", "exS3", "excitL", "sccs3", "ab3"].map((x) => x.padStart(8)).join(""));
    const el = methods.excitation_linear!(w);
    const s3 = methods.sccs_h3!(w);
    const s7 = methods.sccs_ab_h3!(w);
    for (const c of w.channels) {
      console.log(c.padEnd(16) + [w.truth[c]!, w.rules.last_touch![c]!, w.rules.linear![c]!, w.exc3[c]!, w.incZ[c]!, s.sessions[c]!, s.own[c]!, s.before[c]!, s.expBefore[c]!, s.obs[c]!, s.exp[c]!, s.excessSessions[c]!, el[c]!, s3[c]!, s7[c]!]
        .map((x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2)).padStart(8)).join(""));
    }
  }
}
