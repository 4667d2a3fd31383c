/**
 * Train / validation / test splits of labelled leads. Pure, deterministic.
 */
import { mulberry32, shuffleInPlace } from "../models/numeric.ts";
import { UserError } from "../util/errors.ts";

export interface SplitIndices {
  train: number[];
  validation: number[];
  test: number[];
}

function sizes(n: number, validationShare: number, testShare: number): [number, number] {
  const nTest = Math.max(1, Math.round(n * testShare));
  const nVal = Math.max(1, Math.round(n * validationShare));
  if (n - nTest - nVal < 1) throw new UserError(`only ${n} labelled leads: too few to split into train, validation and test`);
  return [nVal, nTest];
}

/**
 * Time-based split: rows ordered by creation time (ties by id); the oldest go to train, the next
 * `validationShare` to validation, the newest `testShare` to test. Never trains on the future of what
 * it is evaluated on.
 * @throws UserError when a row has no creation time (use the random split).
 */
export function timeSplit(createdAt: readonly (number | null)[], ids: readonly string[], validationShare: number, testShare: number): SplitIndices {
  const n = createdAt.length;
  const missing = createdAt.findIndex((t) => t === null);
  if (missing >= 0) {
    throw new UserError(`lead ${ids[missing]} has no created_at: the time-based split needs dates; import with --synthesise-created-at or set vars.lead_split=random`);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => createdAt[a]! - createdAt[b]! || (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
  const [nVal, nTest] = sizes(n, validationShare, testShare);
  const nTrain = n - nVal - nTest;
  return { train: order.slice(0, nTrain), validation: order.slice(nTrain, nTrain + nVal), test: order.slice(nTrain + nVal) };
}

/**
 * Random stratified split (for data without dates): within each class, rows are shuffled with a
 * seeded PRNG (mulberry32) and dealt by the shares, so every part keeps the base rate (± 1 row).
 */
export function stratifiedRandomSplit(labels: readonly number[], validationShare: number, testShare: number, seed: number): SplitIndices {
  sizes(labels.length, validationShare, testShare);
  const rand = mulberry32(seed);
  const out: SplitIndices = { train: [], validation: [], test: [] };
  for (const cls of [0, 1]) {
    const idx = labels.flatMap((y, i) => (y === cls ? [i] : []));
    shuffleInPlace(idx, rand);
    const nTest = Math.round(idx.length * testShare);
    const nVal = Math.round(idx.length * validationShare);
    out.test.push(...idx.slice(0, nTest));
    out.validation.push(...idx.slice(nTest, nTest + nVal));
    out.train.push(...idx.slice(nTest + nVal));
  }
  for (const k of ["train", "validation", "test"] as const) out[k].sort((a, b) => a - b);
  return out;
}
