/**
 * npm run bench -- --accuracy — the accuracy benchmark (src/benchmark/): every scenario family × seed
 * through the whole pipeline, each model's L1 distance to the true shares averaged over seeds, and the
 * issue's targets checked (best data-driven model ≤ 0.6 × last touch and ≤ 0.8 × the best heuristic).
 *
 *   npm run bench -- --accuracy                                   # 5 families × seeds 1–3, 5,000 users
 *   npm run bench -- --accuracy --users 20000 --seeds 1 --families harvesting
 *   npm run bench -- --accuracy --users 1500 --seeds 1,101 --intent-signal 0   # intent hidden (identifiability limit)
 *   npm run bench -- --accuracy --users 1500 --seeds 1,101 --vars '{"ml_families":"[\"logistic_regression\",\"lstm\"]"}'
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FAMILIES, type Family } from "../src/benchmark/worlds.ts";
import { ALL_JOBS } from "../jobs/index.ts";
import { runWorld, type WorldResult } from "../src/benchmark/run.ts";
import { referenceSource } from "../src/benchmark/reference-source.ts";
import { formatEvaluation } from "../src/benchmark/evaluation.ts";
import { formatCoverage, formatSummary, formatWorld, summarise } from "../src/benchmark/summary.ts";
import { option as opt } from "./measure.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const families = opt("--families", FAMILIES.join(",")).split(",") as Family[];
const seeds = opt("--seeds", "1,2,3").split(",").map(Number);
const users = Number(opt("--users", "5000"));
const truthUsers = Number(opt("--truth-users", "10000"));
// --vars JSON: settings for every world's pipeline (e.g. vars.ml_families), on top of the world's channel rules.
// --intent-signal X: how strongly intent shows in the export, for every world (0 = hidden: the identifiability limit); drawn per world by default.
const intentSignal = opt("--intent-signal", "") === "" ? undefined : Number(opt("--intent-signal", ""));
const vars = opt("--vars", "") ? (JSON.parse(opt("--vars", "")) as Record<string, string>) : undefined;
const HEURISTICS = ["first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based"];

const results: WorldResult[] = [];
const t0 = Date.now();
for (const family of families) {
  for (const seed of seeds) {
    const w0 = Date.now();
    // One retry: on a loaded machine Dataform's compile can time out (60 s); one lost world must not end the run.
    let r: WorldResult;
    try {
      r = await runWorld({ family, seed, users, truthUsers, projectDir: ROOT, jobs: ALL_JOBS, vars, intentSignal });
    } catch (e) {
      console.log(`${family}/s${seed}: ${(e as Error).message.slice(0, 200)} — retrying once`);
      try {
        r = await runWorld({ family, seed, users, truthUsers, projectDir: ROOT, jobs: ALL_JOBS, vars, intentSignal });
      } catch (e2) {
        console.log(`${family}/s${seed}: FAILED again, left out: ${(e2 as Error).message.slice(0, 200)}`);
        continue;
      }
    }
    results.push(r);
    // --json FILE: every world's results as they come (shape, truth, each model's shares and distances).
    if (opt("--json", "")) fs.writeFileSync(opt("--json", ""), JSON.stringify(results.map((x) => ({ ...x, world: { family: x.world.family, seed: x.world.seed, channels: x.world.channels.length, days: x.world.days, intentSignal: x.world.intentSignal } })), null, 1));
    console.log(`${formatWorld(r)}\n  whole world ${((Date.now() - w0) / 1000).toFixed(1)} s`);
  }
}
console.log(`\nL1 distance to the true shares, mean over seeds ${seeds.join(", ")} (${users.toLocaleString("en-US")} users, truth on ${truthUsers.toLocaleString("en-US")}); ${((Date.now() - t0) / 1000).toFixed(0)} s in all\n${formatSummary(results)}\n`);

console.log(formatCoverage(results) + "\n");

// Targets, per family, against both truths: the best data-driven model vs last touch and vs the best heuristic.
const s = summarise(results);
for (const truth of ["l1Shapley", "l1Incremental"] as const) {
  console.log(`targets against the true ${truth === "l1Shapley" ? "Shapley" : "incremental"} shares:`);
  for (const family of new Set(s.map((x) => x.family))) {
    const rows = s.filter((x) => x.family === family);
    const last = rows.find((x) => x.model === "last_touch")?.[truth] ?? NaN;
    const heur = rows.filter((x) => HEURISTICS.includes(x.model)).sort((a, b) => a[truth] - b[truth])[0]!;
    const dd = rows.filter((x) => !HEURISTICS.includes(x.model)).sort((a, b) => a[truth] - b[truth])[0]!;
    const ok = dd[truth] <= 0.6 * last && dd[truth] <= 0.8 * heur[truth];
    console.log(`  ${family.padEnd(15)} best data-driven ${dd.model} ${dd[truth].toFixed(3)} = ${(dd[truth] / last).toFixed(2)} × last touch, ${(dd[truth] / heur[truth]).toFixed(2)} × best heuristic (${heur.model} ${heur[truth].toFixed(3)}): ${ok ? "met" : "NOT met"}`);
  }
}

// Leave-one-world-out: the recommendation vs the targets, a benchmark-calibrated band, the AUC floor.
console.log("\n" + formatEvaluation(results));

// --write-reference: the measured worlds become the model recommendation's reference (src/benchmark/reference.ts).
if (args.includes("--write-reference")) {
  const file = path.join(ROOT, "src", "benchmark", "reference.ts");
  fs.writeFileSync(file, referenceSource(results, `${users} users, truth on ${truthUsers}, seeds ${seeds.join(", ")}`));
  console.log(`wrote ${path.relative(ROOT, file)} (${results.length} worlds)`);
}
