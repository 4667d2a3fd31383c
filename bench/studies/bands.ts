/**
 * Study: candidate 90 % intervals per model × channel, from benchmark --json files. Chooses on the reference worlds
 * leave-one-world-out, then confirms on fresh worlds calibrated on all reference worlds.
 *
 *   npx tsx bench/studies/bands.ts --reference ref.json --fresh fresh.json[,fresh2.json]
 */
import fs from "node:fs";
import { shapeDistance, type DataShape } from "../../src/models/recommendation.ts";
import { option as opt } from "../measure.ts";

interface Iv { lo: number; hi: number }
interface W {
  world: { family: string; seed: number };
  shape: DataShape | null;
  truth: { channels: string[]; incremental: Record<string, number> };
  models: { model: string; shares: Record<string, number>; bootstrapIntervals?: Record<string, Iv> | null }[];
  recommended: string | null;
}
const read = (files: string): W[] => files.split(",").filter(Boolean).flatMap((f) => JSON.parse(fs.readFileSync(f, "utf8")) as W[]).filter((w) => w.shape && w.shape.journeys > 0);
const ref = read(opt("--reference", ""));
const fresh = read(opt("--fresh", ""));
const name = (w: W): string => `${w.world.family}/s${w.world.seed}`;

/** One model × channel of one world: share, bootstrap interval (or none), truth. */
interface Pt { share: number; lo: number; hi: number; boot: boolean; truth: number; K: number }
function points(w: W, model: string): Pt[] {
  const m = w.models.find((x) => x.model === model);
  if (!m) return [];
  return w.truth.channels.map((c) => {
    const share = m.shares[c] ?? 0;
    const iv = m.bootstrapIntervals?.[c];
    return { share, lo: iv ? iv.lo : share, hi: iv ? iv.hi : share, boot: !!iv, truth: w.truth.incremental[c] ?? 0, K: w.truth.channels.length };
  });
}

/** A candidate: a score of a calibration point, and the interval of a new point given the score quantile q. */
interface Candidate { name: string; k: number; level: number; score: (p: Pt) => number; interval: (p: Pt, q: number) => Iv; worldWeights?: boolean }

const conformalQ = (scores: number[], level: number): number => {
  const s = [...scores].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length, Math.ceil((s.length + 1) * level)) - 1]!;
};
/** Each world weighs the same (Dunn, Wasserman & Ramdas: pooled CDFs). */
const weightedQ = (groups: number[][], level: number): number => {
  const all = groups.flatMap((g) => g.map((s) => ({ s, w: 1 / g.length / (groups.length + 1) }))).sort((a, b) => a.s - b.s);
  let acc = 0;
  for (const x of all) { acc += x.w; if (acc >= level - 1e-12) return x.s; }
  return all[all.length - 1]!.s;
};

const clip = (iv: Iv): Iv => ({ lo: Math.max(0, iv.lo), hi: Math.min(1, iv.hi) });
const candidates: Candidate[] = [];
for (const k of (opt("--k", "3,5,7,10,14")).split(",").map(Number)) {
  for (const level of [0.9, 0.95]) {
    candidates.push({ name: `abs`, k, level, score: (p) => Math.abs(p.share - p.truth), interval: (p, q) => ({ lo: p.share - q, hi: p.share + q }) });
    candidates.push({ name: `cqr-boot`, k, level, score: (p) => Math.max(p.lo - p.truth, p.truth - p.hi), interval: (p, q) => ({ lo: p.lo - q, hi: p.hi + q }) });
    candidates.push({ name: `norm-boot(.01)`, k, level, score: (p) => Math.abs(p.share - p.truth) / ((p.hi - p.lo) / 2 + 0.01), interval: (p, q) => ({ lo: p.share - q * ((p.hi - p.lo) / 2 + 0.01), hi: p.share + q * ((p.hi - p.lo) / 2 + 0.01) }) });
    candidates.push({ name: `norm-K`, k, level, score: (p) => Math.abs(p.share - p.truth) * p.K, interval: (p, q) => ({ lo: p.share - q / p.K, hi: p.share + q / p.K }) });
    candidates.push({ name: `norm-share+1/K`, k, level, score: (p) => Math.abs(p.share - p.truth) / (p.share + 1 / p.K), interval: (p, q) => ({ lo: p.share - q * (p.share + 1 / p.K), hi: p.share + q * (p.share + 1 / p.K) }) });
    candidates.push({ name: `norm-sqrt`, k, level, score: (p) => Math.abs(p.share - p.truth) / (Math.sqrt(p.share * (1 - p.share)) + 0.05), interval: (p, q) => ({ lo: p.share - q * (Math.sqrt(p.share * (1 - p.share)) + 0.05), hi: p.share + q * (Math.sqrt(p.share * (1 - p.share)) + 0.05) }) });
    const sK = (p: Pt): number => p.share + 1 / p.K;
    const sS = (p: Pt): number => Math.sqrt(p.share * (1 - p.share)) + 0.05;
    candidates.push({ name: `cqr-norm-K`, k, level, score: (p) => Math.max(p.lo - p.truth, p.truth - p.hi) * p.K, interval: (p, q) => ({ lo: p.lo - q / p.K, hi: p.hi + q / p.K }) });
    candidates.push({ name: `cqr-norm-share+1/K`, k, level, score: (p) => Math.max(p.lo - p.truth, p.truth - p.hi) / sK(p), interval: (p, q) => ({ lo: p.lo - q * sK(p), hi: p.hi + q * sK(p) }) });
    candidates.push({ name: `cqr-norm-sqrt`, k, level, score: (p) => Math.max(p.lo - p.truth, p.truth - p.hi) / sS(p), interval: (p, q) => ({ lo: p.lo - q * sS(p), hi: p.hi + q * sS(p) }) });
    candidates.push({ name: `abs-worldw`, k, level, worldWeights: true, score: (p) => Math.abs(p.share - p.truth), interval: (p, q) => ({ lo: p.share - q, hi: p.share + q }) });
    candidates.push({ name: `cqr-boot-worldw`, k, level, worldWeights: true, score: (p) => Math.max(p.lo - p.truth, p.truth - p.hi), interval: (p, q) => ({ lo: p.lo - q, hi: p.hi + q }) });
  }
}

interface Cell { world: string; family: string; model: string; boot: boolean; inside: number; n: number; width: number }
function evaluate(c: Candidate, targets: W[], calib: (w: W) => W[], models: (w: W) => string[]): Cell[] {
  const out: Cell[] = [];
  for (const w of targets) {
    const near = calib(w).map((x) => ({ x, d: shapeDistance(w.shape!, x.shape!) })).sort((a, b) => a.d - b.d || (name(a.x) < name(b.x) ? -1 : 1));
    for (const model of models(w)) {
      const pts = points(w, model);
      // As the product: a model without a bootstrap on the target is calibrated on degenerate intervals [share, share].
      const bare = !pts.some((p) => p.boot);
      const cal = near.filter((x) => x.x.models.some((m) => m.model === model)).slice(0, c.k)
        .map((x) => points(x.x, model).map((p) => (bare ? { ...p, lo: p.share, hi: p.share, boot: false } : p)).map(c.score));
      if (!cal.length) continue;
      const q = c.worldWeights ? weightedQ(cal, c.level) : conformalQ(cal.flat(), c.level);
      let inside = 0;
      let width = 0;
      for (const p of pts) {
        const iv = clip(c.interval(p, q));
        if (p.truth >= iv.lo - 1e-12 && p.truth <= iv.hi + 1e-12) inside++;
        width += Math.max(0, iv.hi - iv.lo);
      }
      out.push({ world: name(w), family: w.world.family, model, boot: pts.some((p) => p.boot), inside, n: pts.length, width: width / pts.length });
    }
  }
  return out;
}

function summary(cells: Cell[]): string {
  const inside = cells.reduce((s, c) => s + c.inside, 0);
  const n = cells.reduce((s, c) => s + c.n, 0);
  const worlds = [...new Set(cells.map((c) => c.world))];
  const perWorld = worlds.map((w) => { const xs = cells.filter((c) => c.world === w); return xs.reduce((s, c) => s + c.inside, 0) / xs.reduce((s, c) => s + c.n, 0); });
  const fams = [...new Set(cells.map((c) => c.family))].map((f) => { const xs = cells.filter((c) => c.family === f); return `${f.slice(0, 4)} ${(100 * xs.reduce((s, c) => s + c.inside, 0) / xs.reduce((s, c) => s + c.n, 0)).toFixed(0)}`; });
  const width = cells.reduce((s, c) => s + c.width * c.n, 0) / n;
  return `cov ${(100 * inside / n).toFixed(1)} % (min world ${(100 * Math.min(...perWorld)).toFixed(0)}) width ${(100 * width).toFixed(1)} pts | ${fams.join(" ")}`;
}

const allModels = (w: W): string[] => w.models.map((m) => m.model).filter((m) => m !== "markov_heldout_order");
const bootModels = (w: W): string[] => w.models.filter((m) => m.bootstrapIntervals).map((m) => m.model);
const bareModels = (w: W): string[] => w.models.filter((m) => !m.bootstrapIntervals && m.model !== "markov_heldout_order").map((m) => m.model);
const recModel = (w: W): string[] => (w.recommended ? [w.recommended] : []);
for (const [label, targets, calib] of [
  ["reference LOO", ref, (w: W) => ref.filter((x) => name(x) !== name(w))],
  ["fresh (calibrated on the reference)", fresh, () => ref],
] as const) {
  if (!targets.length) continue;
  console.log(`\n== ${label}: ${targets.length} worlds`);
  for (const c of candidates) {
    const all = evaluate(c, targets, calib, allModels);
    const boot = evaluate(c, targets, calib, bootModels);
    const rec = evaluate(c, targets, calib, recModel);
    const bare = evaluate(c, targets, calib, bareModels);
    console.log(`${`${c.name} k${c.k} L${c.level}`.padEnd(26)} ALL ${summary(all)}\n${"".padEnd(26)} BOOT ${summary(boot)}\n${"".padEnd(26)} NOBOOT ${summary(bare)}\n${"".padEnd(26)} REC ${summary(rec)}`);
  }
}
