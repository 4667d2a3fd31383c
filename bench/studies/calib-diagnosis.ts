/**
 * Diagnosis for the credit-calibration study: per channel of a few worlds, the true incremental share, the
 * rule-based shares on the observed journeys, and the observable statistics (bench/studies/calib-features.ts), with
 * the channel's hidden kind (push / pull) printed only to read the table — never used by a method.
 *
 *   npx tsx bench/studies/calib-diagnosis.ts [--families harvesting,selection_bias] [--seeds 1] [--users 3000] [--truth-users 4000]
 */
import { drawWorld, type Family } from "../../src/benchmark/worlds.ts";
import { calibWorld } from "./calib-worlds.ts";
import { channelStats, ruleShares } from "./calib-features.ts";
import { option as opt } from "../measure.ts";

const families = opt("--families", "harvesting,selection_bias").split(",") as Family[];
const seeds = opt("--seeds", "1").split(",").map(Number);
const users = Number(opt("--users", "3000"));
const truthUsers = Number(opt("--truth-users", "4000"));

const f = (x: number, d = 2): string => x.toFixed(d).padStart(6);
for (const family of families) {
  for (const seed of seeds) {
    const w = calibWorld(family, seed, users, truthUsers);
    const kinds = Object.fromEntries(drawWorld(family, seed, users).channels.map((c) => [c.key, `${c.kind}${c.targeting > 0 ? "*" : ""}`]));
    const rules = ruleShares(w.journeys, w.channels);
    const st = channelStats(w.journeys, w.channels, w.days);
    const conv = w.journeys.filter((j) => j.converted).length;
    console.log(`\n${family}/s${seed}: ${w.channels.length} channels, ${w.days} days, ${w.journeys.length} journeys, ${conv} conversions`);
    console.log("channel          kind   | true  | last  first linear posb  tdec  | sess  first convR  w/wo   pos   exc1  exc3  self3 out3  outX  pages gap   opens");
    for (const c of w.channels) {
      const s = st[c]!;
      console.log(`${c.padEnd(16)} ${kinds[c]!.padEnd(6)} |${f(w.truth[c]!)} |${f(rules.last_touch![c]!)}${f(rules.first_touch![c]!)}${f(rules.linear![c]!)}${f(rules.position_based![c]!)}${f(rules.time_decay![c]!)} |${f(s.sessionShare)}${f(s.firstShare)}${f(s.sessionConvRate, 3)}${f(s.withWithout)}${f(s.meanPosition)}${f(s.excitation1)}${f(s.excitation3)}${f(s.selfExcitation3)}${f(s.outExcitation3)}${f(s.outExcessPerSession)}${f(s.pagesRatio)}${f(s.gapRatio)}${f(s.opensShare)}`);
    }
    const l1 = (m: Record<string, number>): number => w.channels.reduce((a, c) => a + Math.abs((m[c] ?? 0) - w.truth[c]!), 0);
    console.log(`L1 to truth: ${Object.entries(rules).map(([m, x]) => `${m} ${l1(x).toFixed(2)}`).join(", ")}`);
  }
}
