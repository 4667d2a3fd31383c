/**
 * The model recommendation on fresh benchmark worlds from a reference run (issue #16's target on worlds not tuned on):
 * for each world of the fresh runs' `bench/accuracy.ts --json` output, the model recommendModels picks from the
 * reference run's worlds (as model_recommendation does with src/benchmark/reference.ts written from that run), its L1 to
 * the true incremental shares beside last touch's and the best heuristic's, per family.
 *   npx tsx bench/studies/recommend-fresh.ts REFERENCE.json FRESH.json [FRESH2.json …]
 */
import fs from "node:fs";
import { recommendModels, type DataShape } from "../../src/models/recommendation.ts";
import { referenceWorlds } from "../../src/benchmark/reference-source.ts";
import { HEURISTICS } from "../../src/benchmark/evaluation.ts";
import type { WorldResult } from "../../src/benchmark/run.ts";

const [refFile, ...freshFiles] = process.argv.slice(2);
const reference = referenceWorlds(JSON.parse(fs.readFileSync(refFile!, "utf8")) as WorldResult[]);
const fresh = freshFiles.flatMap((f) => JSON.parse(fs.readFileSync(f, "utf8")) as WorldResult[]);
const rows: Array<{ family: string; world: string; model: string; l1: number; lt: number; heur: number }> = [];
for (const r of fresh) {
  if (!r.shape) continue;
  const candidates = r.models.filter((m) => !m.model.startsWith("ml_")).map((m) => ({ model: m.model, bootstrapL1: r.bootstrapL1?.[m.model] ?? null }));
  const top = recommendModels(r.shape as DataShape, candidates, reference).find((x) => x.isRecommended);
  if (!top) continue;
  const l1 = (m: string): number => r.models.find((x) => x.model === m)?.l1Incremental ?? NaN;
  const heur = Math.min(...r.models.filter((m) => HEURISTICS.includes(m.model)).map((m) => m.l1Incremental));
  rows.push({ family: r.world.family, world: `${r.world.family}/s${r.world.seed}`, model: top.model, l1: l1(top.model), lt: l1("last_touch"), heur });
  console.log(`${rows.at(-1)!.world.padEnd(22)} ${top.model.padEnd(18)} ${l1(top.model).toFixed(3)}  (self_controlled ${l1("self_controlled").toFixed(3)}, excitation_linear ${l1("excitation_linear").toFixed(3)}, last touch ${l1("last_touch").toFixed(3)}, best heuristic ${heur.toFixed(3)}; recorded pick ${r.recommended})`);
}
for (const family of [...new Set(rows.map((x) => x.family))]) {
  const xs = rows.filter((x) => x.family === family);
  const m = (k: "l1" | "lt" | "heur"): number => xs.reduce((a, x) => a + x[k], 0) / xs.length;
  const ok = m("l1") <= 0.6 * m("lt") && m("l1") <= 0.8 * m("heur");
  console.log(`${family.padEnd(15)} ${xs.length} worlds: recommended ${m("l1").toFixed(3)} = ${(m("l1") / m("lt")).toFixed(2)} × last touch (${m("lt").toFixed(3)}), ${(m("l1") / m("heur")).toFixed(2)} × best heuristic per world (${m("heur").toFixed(3)}): ${ok ? "met" : "NOT met"}`);
}
