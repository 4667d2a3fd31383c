/**
 * The sequence families of the ML attribution job (vars.ml_families lstm, attention): conversion models over a
 * journey's ordered touches (channel, time gap) from the `ml_journey_sequences` aggregate
 * (definitions/ml/ml_journey_sequences.sqlx), on XGBoost's time split (same days per window, same censoring),
 * trained on unique weighted sequences with early stopping on the validation window (src/models/sequence-models.ts).
 * Credit: removal effect and Shapley with the model as value function (credit.ts; a coalition keeps the touches of
 * its channels, in order, with their gaps), and for the attention model its attention weights — a view of where the
 * model looks, reported beside the causal-style methods, not as one of them. Pure functions, no I/O.
 */
import {
  attentionWeights, fitSequenceModel, predictSequences, sequenceData, sequenceModelToJSON,
  type SequenceData, type SequenceModel, type SequenceModelKind,
} from "../models/sequence-models.ts";
import { ModelInputError, compareStrings } from "../models/numeric.ts";
import { decodePathChannel, PATH_SEPARATOR } from "../models/paths.ts";
import { normaliseCredit, removalEffectSharesBy, rollUpCredit, shapleySharesBy, type CoalitionValues } from "./credit.ts";
import { counterfactualRemoval, creditByIncrement, type FamilyCredit, type FamilyFitReport } from "./families.ts";
import { heldOutMetrics, type PreparedData } from "./pipeline.ts";
import type { FeatureEncoding, JourneyFeatures } from "./features.ts";
import { mergeByVector, type WeightedSet } from "./split.ts";

/** Gap buckets of ml_journey_sequences: days from the touch to the journey's end, 0 <1, 1 <3, 2 <7, 3 <14, 4 <30, 5 ≥30. */
const GAP_BUCKETS = 6;

interface Touch {
  channel: string;
  gap: number;
}

/** One row of `ml_journey_sequences`: journeys with one touch sequence that ended on one day. */
export interface SequenceRow {
  date: string;
  /** The sequence's identity across days: touch_sequence and the user covariates ({@link sequenceKey}). */
  key: string;
  /**
   * The journeys' feature vector (channel_stats, the key to their ml_journey_features row): all their touches,
   * also those older than the sequence keeps. The stacked ensemble feeds it to the feature families.
   */
  features: JourneyFeatures;
  /** User covariates of the journeys (at the first touch, before the conversion, as in ml_journey_features). */
  userType: string;
  device: string;
  region: string;
  engagement: string;
  touches: Touch[];
  /** Distinct channels of the touches, sorted: credit shares are per entry. */
  channels: Array<{ channel: string }>;
  conversions: number;
  nonConversions: number;
  value: number;
}

/**
 * Parse `touch_sequence` ("0:Email > 2:Paid Search", oldest first): each touch is a gap bucket digit, ":" and the
 * escaped channel name (as in channel paths, so a name may contain ":" or " > ").
 * @throws ModelInputError naming `where` for malformed text.
 */
export function parseTouchSequence(text: string, where: string): Touch[] {
  if (text.trim() === "") throw new ModelInputError(`${where}: touch_sequence is empty; every journey has at least one touch`);
  return text.split(PATH_SEPARATOR).map((entry) => {
    const m = /^(\d+):(.+)$/s.exec(entry);
    const gap = m ? Number(m[1]) : NaN;
    if (!m || !(gap < GAP_BUCKETS)) throw new ModelInputError(`${where}: cannot read touch ${JSON.stringify(entry)} of touch_sequence; expected "gap_bucket:channel" with a gap bucket from 0 to ${GAP_BUCKETS - 1}`);
    return { channel: decodePathChannel(m[2]!), gap };
  });
}

/** The identity of a sequence row across days: its touch_sequence and channel_stats texts and user covariates. */
export function sequenceKey(touchSequence: string, channelStats: string, userType: string, device: string, region: string, engagement: string): string {
  return JSON.stringify([touchSequence, channelStats, userType, device, region, engagement]);
}

/** A row from its parsed touches (channels derived). */
export function sequenceRow(r: Omit<SequenceRow, "channels">): SequenceRow {
  const channels = [...new Set(r.touches.map((t) => t.channel))].sort(compareStrings).map((channel) => ({ channel }));
  return { ...r, channels };
}

/** Rows with the same sequence merged (days summed), in key order. */
export function mergeBySequence(rows: readonly SequenceRow[]): Array<{ row: SequenceRow; conv: number; non: number }> {
  const merged = mergeByVector(rows);
  return [...merged.keys()].sort(compareStrings).map((k) => merged.get(k)!);
}

/**
 * One-hot covariate columns of the sequence families: the XGBoost encoding's user type, device, region and
 * engagement vocabularies (its most frequent values), in that order; a value outside them has no column (as there).
 */
export interface CovariateIndex {
  columns: number;
  of(row: Pick<SequenceRow, "userType" | "device" | "region" | "engagement">): number[];
}

export function covariateIndex(enc: Pick<FeatureEncoding, "userTypes" | "devices" | "regions" | "engagements">): CovariateIndex {
  const vocabs = [enc.userTypes, enc.devices, enc.regions, enc.engagements];
  const maps = vocabs.map((v) => new Map(v.map((x, i) => [x, i])));
  const offsets = vocabs.map((_, k) => vocabs.slice(0, k).reduce((a, v) => a + v.length, 0));
  return {
    columns: vocabs.reduce((a, v) => a + v.length, 0),
    of: (r) => [r.userType, r.device, r.region, r.engagement].map((v, k) => {
      const i = maps[k]!.get(v);
      return i === undefined ? -1 : offsets[k]! + i;
    }),
  };
}

function toData(units: ReadonlyArray<{ row: SequenceRow; conv: number; non: number }>, index: ReadonlyMap<string, number>, cov: CovariateIndex): SequenceData {
  return sequenceData(units.map((u) => ({
    touches: u.row.touches.map((t) => [index.get(t.channel) ?? -1, t.gap] as const),
    positives: u.conv, negatives: u.non, covariates: cov.of(u.row),
  })));
}

/** Two weighted rows per sequence (converting, not) for the shared metrics (heldOutMetrics reads y, weights, rows). */
function metricSet(d: SequenceData): { set: WeightedSet; expand: (p: Float64Array) => Float64Array } {
  const y = new Float32Array(2 * d.count);
  const weights = new Float32Array(2 * d.count);
  for (let i = 0; i < d.count; i++) {
    y[2 * i] = 1;
    weights[2 * i] = d.positives[i]!;
    weights[2 * i + 1] = d.negatives[i]!;
  }
  const expand = (p: Float64Array): Float64Array => {
    const out = new Float64Array(2 * p.length);
    for (let i = 0; i < p.length; i++) out[2 * i] = out[2 * i + 1] = p[i]!;
    return out;
  };
  return { set: { X: new Float32Array(0), y, weights, rows: 2 * d.count, uniqueVectors: d.count }, expand };
}

interface SequenceFamilyOptions {
  hidden: number;
  maxEpochs: number;
  seed: number;
  /** Epochs without a lower validation log loss before stopping; default 3. */
  patience?: number;
  learningRate?: number;
  batchSize?: number;
}

export interface SequenceFamilyFit extends FamilyFitReport {
  family: SequenceModelKind;
  model: SequenceModel;
  /** The model's covariate columns (user type, device, region of the XGBoost encoding). */
  covariates: CovariateIndex;
  /** Channel vocabulary (every row's channels, censored days too: they are credited with this model). */
  channels: string[];
}

/**
 * Fit an lstm or attention model on the rows of `data`'s train window (the same calendar days and censoring
 * cutoff as XGBoost's), early-stopped on its validation window, measured on its test window with the same
 * metrics as every family.
 */
export function fitSequenceFamily(rows: readonly SequenceRow[], data: PreparedData, kind: SequenceModelKind, opts: SequenceFamilyOptions): SequenceFamilyFit {
  const t0 = performance.now();
  const channels = [...new Set(rows.flatMap((r) => r.channels.map((c) => c.channel)))].sort(compareStrings);
  const index = new Map(channels.map((c, i) => [c, i]));
  const parts = { train: [] as SequenceRow[], validation: [] as SequenceRow[], test: [] as SequenceRow[] };
  for (const r of rows) {
    if (data.lastFitDay === "" || r.date > data.lastFitDay || r.conversions + r.nonConversions <= 0) continue;
    parts[data.split.partOf(r.date)].push(r);
  }
  const cov = covariateIndex(data.encoding);
  const train = toData(mergeBySequence(parts.train), index, cov);
  const validation = toData(mergeBySequence(parts.validation), index, cov);
  const test = toData(mergeBySequence(parts.test), index, cov);
  const fit = fitSequenceModel(train, validation, {
    kind, hidden: opts.hidden, learningRate: opts.learningRate ?? 0.01, batchSize: opts.batchSize ?? 128,
    maxEpochs: opts.maxEpochs, patience: opts.patience ?? 3, seed: opts.seed, channels: Math.max(1, channels.length), gapBuckets: GAP_BUCKETS,
    covariates: cov.columns,
  });
  const testSet = metricSet(test);
  const validationSet = metricSet(validation);
  const measured = heldOutMetrics(testSet.expand(predictSequences(fit.model, test)), testSet.set, validationSet.expand(predictSequences(fit.model, validation)), validationSet.set);
  return {
    family: kind, model: fit.model, channels, covariates: cov, ...measured, fitSeconds: (performance.now() - t0) / 1000,
    details: {
      hidden_units: opts.hidden, epochs: fit.epochs, best_epoch: fit.bestEpoch, validation_log_loss: fit.validationLoss[fit.bestEpoch - 1] ?? NaN,
      train_sequences: train.count, parameters: fit.model.params.length, max_touches: fit.model.maxLength,
    },
    json: { ...sequenceModelToJSON(fit.model), channels, covariates: { userTypes: data.encoding.userTypes, devices: data.encoding.devices, regions: data.encoding.regions, engagements: data.encoding.engagements } },
  };
}

/**
 * Credit every converting journey (all days) with a sequence family: removal effect and Shapley over each unique
 * converting sequence's channels, v(S) = P(conversion | the sequence with only S's touches, order and gaps kept),
 * v(∅) = 0 (as for the feature families); for the attention model also the attention view: a channel's share of a
 * journey = the sum of its touches' attention weights. Shares computed once per unique sequence, rolled up by day.
 */
export function sequenceFamilyCredit(rows: readonly SequenceRow[], fit: SequenceFamilyFit,
  opts: { shapleyMaxExactChannels: number; shapleyPermutations: number; seed: number }): FamilyCredit[] {
  const index = new Map(fit.channels.map((c, i) => [c, i]));
  const converting = mergeBySequence(rows.filter((r) => r.conversions > 0)).map((u) => u.row);
  const sizes = converting.map((r) => r.channels.length);
  // A coalition keeps its channels' touches (order and gaps) and the user's covariates as they were.
  const coalition = (r: SequenceRow, mask: Uint8Array): { touches: Array<readonly [number, number]>; covariates: number[] } => {
    const keep = new Set(r.channels.filter((_, k) => mask[k]).map((c) => c.channel));
    return { touches: r.touches.filter((t) => keep.has(t.channel)).map((t) => [index.get(t.channel) ?? -1, t.gap] as const), covariates: fit.covariates.of(r) };
  };
  const values: CoalitionValues = (batch) => sequencePredictions(fit.model, batch.map(({ index: i, mask }) => coalition(converting[i]!, mask)));
  const removal = removalEffectSharesBy(sizes, values);
  const shapley = shapleySharesBy(sizes, values, { maxExactChannels: opts.shapleyMaxExactChannels, permutations: opts.shapleyPermutations, seed: opts.seed });
  const methods: Array<["removal_effect" | "shapley" | "attention", Float64Array[]]> = [["removal_effect", removal], ["shapley", shapley.shares]];
  if (fit.model.kind === "attention") {
    const data = toData(converting.map((row) => ({ row, conv: 1, non: 0 })), index, fit.covariates);
    methods.push(["attention", converting.map((r, i) => {
      const alpha = attentionWeights(fit.model, data, i);
      // The model reads the last maxLength touches; α_t belongs to touch (length − T + t).
      const offset = r.touches.length - alpha.length;
      const raw = r.channels.map(({ channel }) => {
        let a = 0;
        for (let t = 0; t < alpha.length; t++) if (r.touches[offset + t]!.channel === channel) a += alpha[t]!;
        return a;
      });
      return normaliseCredit(raw);
    })]);
  }
  const credit: FamilyCredit[] = methods.map(([method, shares]) => ({
    family: fit.family, method, ...rollUpCredit(rows, new Map(converting.map((r, i) => [r.key, shares[i]!]))),
  }));
  // Counterfactual removal over every sequence, converting or not (families.ts counterfactualRemoval).
  const all = mergeBySequence(rows).filter((u) => u.conv + u.non > 0);
  const allValues: CoalitionValues = (batch) => sequencePredictions(fit.model, batch.map(({ index: i, mask }) => coalition(all[i]!.row, mask)));
  const increments = counterfactualRemoval(all.map((u) => ({ channels: u.row.channels, journeys: u.conv + u.non })), allValues);
  credit.push(creditByIncrement(fit.family, "counterfactual_removal", increments, rows));
  return credit;
}

export function sequencePredictions(m: SequenceModel, seqs: ReadonlyArray<{ touches: ReadonlyArray<readonly [number, number]>; covariates: readonly number[] }>): Float64Array {
  return predictSequences(m, sequenceData(seqs.map((x) => ({ ...x, positives: 0, negatives: 0 }))));
}
