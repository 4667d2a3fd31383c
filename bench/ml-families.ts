/**
 * The ML attribution job's model families on the ML fixture's journeys (test/fixtures/ml/journeys.ts, 28 days):
 * fit and credit time of each family, in the job's order and with the project's default settings, and peak RSS.
 * Figures, not assertions. Two configurations:
 * - default: XGBoost + the default vars.ml_families (logistic_regression);
 * - with sequences (--sequences): also stacked_ensemble, lstm, attention and the ensemble over all of them
 *   (stacked_ensemble_sequences).
 *
 *   npx tsx bench/ml-families.ts [--journeys 100000] [--sequences]
 *   npm run bench -- --ml-families [--journeys 100000] [--sequences]     # the same, through the bench script
 *
 * Prints a table and one BENCH: JSON line. The aggregates are built by their TypeScript mirrors (the SQL is
 * not timed here: bench/pipeline.ts times the warehouse stages).
 */
import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { loadProjectSettings } from "../src/config/settings.ts";
import { attributeCredit, fitXgboostOn, prepareData } from "../src/ml-attribution/pipeline.ts";
import { counterfactualCredit, fitLogisticFamily, fitStackedEnsemble, predictiveCredit, type PredictiveFamilyFit } from "../src/ml-attribution/families.ts";
import { fitSequenceFamily, sequenceFamilyCredit, type SequenceFamilyFit } from "../src/ml-attribution/sequences.ts";
import { featureBase, fitSequenceStack, sequenceBase, sequenceStackCredit, trainConversionRate } from "../src/ml-attribution/ensemble.ts";
import { generateJourneys, sequenceRowsOf, toFeatureRows } from "../test/fixtures/ml/journeys.ts";
import { option as opt } from "./measure.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const JOURNEYS = Number(opt("--journeys", "100000"));
const SEQUENCES = args.includes("--sequences");

const s = loadProjectSettings(ROOT).settings;
const creditOpts = { shapleyMaxExactChannels: s.mlShapleyMaxExactChannels, shapleyPermutations: s.mlShapleyPermutations, seed: s.mlSeed };

interface Stage { stage: string; seconds: number; cpuSeconds: number; note: string }
const stages: Stage[] = [];
let peakMb = 0;
async function timed<T>(stage: string, f: () => T | Promise<T>, note: (r: T) => string = () => ""): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await f();
  const c = process.cpuUsage(c0);
  stages.push({ stage, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, note: note(r) });
  peakMb = Math.max(peakMb, process.memoryUsage().rss / 2 ** 20);
  return r;
}

const journeys = generateJourneys({ journeys: JOURNEYS, days: 28 });
const rows = toFeatureRows(journeys);
const sequenceRows = SEQUENCES ? sequenceRowsOf(journeys, s.mlSequenceMaxTouches) : [];
const total0 = performance.now();
const cpu0 = process.cpuUsage();
const data = await timed("prepare (split, encode)", () => prepareData(rows, s.mlSplit, s.mlCensorDays),
  (d) => `${rows.length} feature rows, ${d.train.uniqueVectors} unique train vectors, ${d.encoding.featureNames.length} features`);
const xgb = await timed("xgboost fit", () => fitXgboostOn(data, {
  split: s.mlSplit, censorDays: s.mlCensorDays, maxRounds: s.mlMaxRounds, maxDepth: s.mlMaxDepth, learningRate: s.mlLearningRate,
  earlyStoppingRounds: s.mlEarlyStoppingRounds, seed: s.mlSeed, backend: s.xgboostBackend,
}), (f) => `${f.model.numTrees} trees, test AUC ${f.test.auc.toFixed(4)}`);
const lr = await timed("logistic_regression fit", () => fitLogisticFamily(data), (f) => `λ ${f.details.l2}, test AUC ${f.test.auc.toFixed(4)}`);
const predictive: PredictiveFamilyFit[] = [lr];
const sequenceFits: SequenceFamilyFit[] = [];
if (SEQUENCES) {
  predictive.push(await timed("stacked_ensemble fit", () => fitStackedEnsemble(data, [{ name: "xgboost", predict: (X) => xgb.model.predict(X) }, { name: "logistic_regression", predict: lr.predict }]),
    (f) => `test AUC ${f.test.auc.toFixed(4)}, log loss ${f.test.logLoss.toFixed(4)}`));
  for (const kind of ["lstm", "attention"] as const) {
    sequenceFits.push(await timed(`${kind} fit`, () => fitSequenceFamily(sequenceRows, data, kind, { hidden: s.mlSequenceHiddenUnits, maxEpochs: s.mlSequenceMaxEpochs, seed: s.mlSeed }),
      (f) => `${sequenceRows.length} sequence rows, ${f.details.train_sequences} unique train sequences, ${f.details.epochs} epochs, test AUC ${f.test.auc.toFixed(4)}`));
  }
}
const stack = SEQUENCES
  ? await timed("stacked_ensemble_sequences fit", () => fitSequenceStack(sequenceRows, data, [
    featureBase("xgboost", data.encoding, (X) => xgb.model.predict(X)), featureBase("logistic_regression", data.encoding, lr.predict),
    ...sequenceFits.map((f) => sequenceBase(f, trainConversionRate(sequenceRows, data))),
  ]), (f) => `test AUC ${f.test.auc.toFixed(4)}, log loss ${f.test.logLoss.toFixed(4)}`)
  : null;
const fitSeconds = (performance.now() - total0) / 1000;
await timed("xgboost credit", () => {
  attributeCredit(rows, xgb, creditOpts);
  counterfactualCredit(rows, data.encoding, "xgboost", (X) => xgb.model.predict(X));
});
for (const f of predictive) await timed(`${f.family} credit`, () => predictiveCredit(rows, data.encoding, f.family, f.predict, creditOpts));
for (const f of sequenceFits) await timed(`${f.family} credit`, () => sequenceFamilyCredit(sequenceRows, f, creditOpts));
if (stack) await timed("stacked_ensemble_sequences credit", () => sequenceStackCredit(sequenceRows, stack, creditOpts));
const totalSeconds = (performance.now() - total0) / 1000;
const c = process.cpuUsage(cpu0);
const families = ["xgboost", ...predictive.map((f) => f.family), ...sequenceFits.map((f) => f.family), ...(stack ? [stack.family] : [])];

const w = Math.max(...stages.map((r) => r.stage.length));
console.log(`ML families on ${JOURNEYS.toLocaleString("en-US")} fixture journeys (${families.join(", ")}); load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
console.log(`${"stage".padEnd(w)}  seconds  CPU s  note`);
for (const r of stages) console.log(`${r.stage.padEnd(w)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.cpuSeconds.toFixed(1).padStart(5)}  ${r.note}`);
console.log(`${"all fits".padEnd(w)}  ${fitSeconds.toFixed(1).padStart(7)}`);
console.log(`${"fits + credit".padEnd(w)}  ${totalSeconds.toFixed(1).padStart(7)}  ${((c.user + c.system) / 1e6).toFixed(1).padStart(5)}  peak RSS ${Math.round(peakMb)} MB (target: all default families < 5 min)`);
console.log("BENCH:" + JSON.stringify({ journeys: JOURNEYS, families, fitSeconds, totalSeconds, cpuSeconds: (c.user + c.system) / 1e6, peakMb, stages }));
