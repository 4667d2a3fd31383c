/**
 * Feature encoding for the ML attribution model, from the `ml_journey_features` aggregate
 * (definitions/ml/ml_journey_features.sqlx). Pure functions, no I/O.
 *
 * A journey is described per distinct channel (touch count, order of first and last touch, day
 * buckets of the last and first touch) plus user properties. Its feature vector is:
 * - per channel c (sorted by name): `has:c` (0/1), `touches:c`, `recency:c` (bucket of the channel's
 *   last touch; missing when absent), `position:c` (order of the channel's last touch from the end among
 *   the journey's channels, 1 = last; missing when absent), `first:c`, `last:c` (one-hot first/last channel);
 * - `path_length` (touches), `distinct_channels`, `journey_age` (bucket of the first touch);
 * - one-hot `user_type=…`, `device=…`, `region=…` (the most frequent values; the rest encode as all 0).
 * Interactions are left to the trees.
 *
 * Removing channels (counterfactuals, coalitions) re-derives every dependent feature from the kept
 * channels (notes/xgboost-wasm.md §3: "edit derived features consistently"): positions are re-ranked,
 * first/last channel become the kept channels with the earliest first / latest last touch, path length,
 * distinct count and journey age are recomputed.
 */
import { ModelInputError, compareStrings } from "../models/numeric.ts";
import { PATH_SEPARATOR, decodePathChannel } from "../models/paths.ts";

/** One channel of a journey, as encoded in `channel_stats`. */
export interface ChannelStat {
  channel: string;
  touches: number;
  /** 1 = the channel whose first touch is the journey's first touch. */
  firstRank: number;
  /** 1 = the channel of the journey's last touch. */
  lastRank: number;
  /** Day bucket of the channel's last touch before the journey end (0 <1 d, 1 <3, 2 <7, 3 <14, 4 <30, 5 ≥30). */
  recencyBucket: number;
  /** Same buckets for the channel's first touch. */
  firstTouchBucket: number;
}

export interface JourneyFeatures {
  /** Distinct channels, sorted by name. */
  channels: ChannelStat[];
  userType: string;
  device: string;
  region: string;
  /** Pages the journey's first touch viewed before any checkout (ml_journey_features' bucket): observable intent. */
  engagement: string;
}

/** One row of `ml_journey_features`: journeys with one feature vector that ended on one day. */
export interface FeatureRow extends JourneyFeatures {
  /** journey_end_date, YYYY-MM-DD. */
  date: string;
  conversions: number;
  nonConversions: number;
  /** Conversion value of the converting journeys. */
  value: number;
  /** Identity of the feature vector (channel_stats + user properties), independent of the date. */
  key: string;
}

/** Separator of channel entries in `channel_stats` (the same as channel paths). */
const CHANNEL_STATS_SEPARATOR = PATH_SEPARATOR;

/**
 * Parse `channel_stats` ("Email=2,1,2,3,4 > Paid Search=1,2,1,0,0"). The numbers follow the last "=",
 * so a channel name may contain "="; names are escaped as in channel paths (`%` → `%25`, `>` → `%3E`,
 * undone here), so a name may contain " > " too.
 * @throws ModelInputError naming `where` for malformed text.
 */
export function parseChannelStats(text: string, where: string): ChannelStat[] {
  if (text.trim() === "") throw new ModelInputError(`${where}: channel_stats is empty; every journey has at least one touch`);
  const out = text.split(CHANNEL_STATS_SEPARATOR).map((entry) => {
    const eq = entry.lastIndexOf("=");
    const nums = eq > 0 ? entry.slice(eq + 1).split(",").map(Number) : [];
    if (nums.length !== 5 || nums.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new ModelInputError(`${where}: cannot read channel_stats entry ${JSON.stringify(entry)}; expected "channel=touch_count,first_rank,last_rank,recency_bucket,first_touch_bucket"`);
    }
    const [touches, firstRank, lastRank, recencyBucket, firstTouchBucket] = nums as [number, number, number, number, number];
    return { channel: decodePathChannel(entry.slice(0, eq)), touches, firstRank, lastRank, recencyBucket, firstTouchBucket };
  });
  out.sort((a, b) => compareStrings(a.channel, b.channel));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.channel === out[i - 1]!.channel) throw new ModelInputError(`${where}: channel ${JSON.stringify(out[i]!.channel)} appears twice in channel_stats`);
  }
  return out;
}

/** The channels' part of {@link featureKey} (JSON text). */
export function channelsKey(channels: readonly ChannelStat[]): string {
  return JSON.stringify(channels.map((c) => [c.channel, c.touches, c.firstRank, c.lastRank, c.recencyBucket, c.firstTouchBucket]));
}

/**
 * The feature vector's identity (used to de-duplicate rows across days): the JSON text of [channels, user type,
 * device, region, engagement]. `channels` may be given as channelsKey(j.channels), computed once for rows that share it.
 */
export function featureKey(j: JourneyFeatures, channels = channelsKey(j.channels), segment = segmentKey(j)): string {
  return `[${channels},${segment}]`;
}

/** featureKey's part after the channels: the JSON texts of user type, device, region and engagement. */
export function segmentKey(j: Omit<JourneyFeatures, "channels">): string {
  return `${JSON.stringify(j.userType)},${JSON.stringify(j.device)},${JSON.stringify(j.region)},${JSON.stringify(j.engagement)}`;
}

export interface FeatureEncoding {
  channels: string[];
  userTypes: string[];
  devices: string[];
  regions: string[];
  engagements: string[];
  featureNames: string[];
  /** Column of feature `has:<channels[k]>`; the channel's six columns follow in the order of CHANNEL_FEATURES. */
  channelOffset: number[];
  /** Column of path_length (distinct_channels and journey_age follow). */
  globalOffset: number;
  userTypeOffset: number;
  deviceOffset: number;
  regionOffset: number;
  engagementOffset: number;
}

/** Per-channel feature prefixes, in column order. */
const CHANNEL_FEATURES = ["has", "touches", "recency", "position", "first", "last"] as const;
const PER_CHANNEL = CHANNEL_FEATURES.length;

/**
 * The most frequent values of a user property (by journey weight, ties by name), at most `max`;
 * none when there is only one value (a constant column tells the trees nothing).
 */
function vocabulary(weights: Map<string, number>, max: number): string[] {
  if (weights.size < 2) return [];
  return [...weights.entries()]
    .sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))
    .slice(0, max)
    .map(([v]) => v)
    .sort(compareStrings);
}

/**
 * Build the encoding from the rows it will encode (channels: every channel seen; user properties:
 * up to `maxCategories` values each, default 20). Deterministic for the same rows in any order.
 */
export function buildEncoding(rows: readonly FeatureRow[], opts: { maxCategories?: number } = {}): FeatureEncoding {
  const max = opts.maxCategories ?? 20;
  const channelSet = new Set<string>();
  const ut = new Map<string, number>();
  const dev = new Map<string, number>();
  const reg = new Map<string, number>();
  const eng = new Map<string, number>();
  for (const r of rows) {
    for (const c of r.channels) channelSet.add(c.channel);
    const w = r.conversions + r.nonConversions;
    ut.set(r.userType, (ut.get(r.userType) ?? 0) + w);
    dev.set(r.device, (dev.get(r.device) ?? 0) + w);
    reg.set(r.region, (reg.get(r.region) ?? 0) + w);
    eng.set(r.engagement, (eng.get(r.engagement) ?? 0) + w);
  }
  const channels = [...channelSet].sort(compareStrings);
  const userTypes = vocabulary(ut, max);
  const devices = vocabulary(dev, max);
  const regions = vocabulary(reg, max);
  const engagements = vocabulary(eng, max);
  const featureNames: string[] = [];
  const channelOffset: number[] = [];
  for (const c of channels) {
    channelOffset.push(featureNames.length);
    for (const f of CHANNEL_FEATURES) featureNames.push(`${f}:${c}`);
  }
  const globalOffset = featureNames.length;
  featureNames.push("path_length", "distinct_channels", "journey_age");
  const userTypeOffset = featureNames.length;
  for (const v of userTypes) featureNames.push(`user_type=${v}`);
  const deviceOffset = featureNames.length;
  for (const v of devices) featureNames.push(`device=${v}`);
  const regionOffset = featureNames.length;
  for (const v of regions) featureNames.push(`region=${v}`);
  const engagementOffset = featureNames.length;
  for (const v of engagements) featureNames.push(`engagement=${v}`);
  return { channels, userTypes, devices, regions, engagements, featureNames, channelOffset, globalOffset, userTypeOffset, deviceOffset, regionOffset, engagementOffset };
}

/** Column indices of each channel's features (for summing TreeSHAP contributions per channel). */
export function channelColumns(enc: FeatureEncoding, channel: string): number[] {
  const k = enc.channels.indexOf(channel);
  if (k < 0) return [];
  return Array.from({ length: PER_CHANNEL }, (_, i) => enc.channelOffset[k]! + i);
}

/**
 * Write the feature vector of `j` restricted to the channels with `keep[i]` true (all when `keep` is
 * omitted) into `out` at `offset` (F = featureNames.length columns). Absent channels: has/touches/first/last
 * 0, recency/position missing (NaN). Channels unknown to the encoding are ignored (a vector from newer data).
 * Complexity: O(F + k log k) for k channels in the journey.
 */
export function encodeJourney(enc: FeatureEncoding, j: JourneyFeatures, out: Float32Array, offset: number, keep?: ArrayLike<boolean | number>): void {
  const F = enc.featureNames.length;
  for (let c = 0; c < enc.channels.length; c++) {
    const o = offset + enc.channelOffset[c]!;
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = NaN;
    out[o + 3] = NaN;
    out[o + 4] = 0;
    out[o + 5] = 0;
  }
  for (let i = enc.globalOffset; i < F; i++) out[offset + i] = 0;
  // Kept channels ordered by their last touch from the end (lastRank ascending) → position 1, 2, …: an insertion
  // sort (stable, as Array.sort) into one scratch array for every call; a new array and comparator per call were
  // most of the garbage of the coalition predictions (millions of calls at 10M events).
  const kept = KEPT;
  let n = 0;
  for (let i = 0; i < j.channels.length; i++) {
    if (keep !== undefined && !keep[i]) continue;
    const s = j.channels[i]!;
    let at = n++;
    while (at > 0 && kept[at - 1]!.lastRank > s.lastRank) {
      kept[at] = kept[at - 1]!;
      at--;
    }
    kept[at] = s;
  }
  let pathLength = 0;
  let age = -1;
  let first: ChannelStat | undefined;
  for (let p = 0; p < n; p++) {
    const s = kept[p]!;
    pathLength += s.touches;
    if (s.firstTouchBucket > age) age = s.firstTouchBucket;
    if (first === undefined || s.firstRank < first.firstRank) first = s;
    const k = channelIndex(enc, s.channel);
    if (k < 0) continue;
    const o = offset + enc.channelOffset[k]!;
    out[o] = 1;
    out[o + 1] = s.touches;
    out[o + 2] = s.recencyBucket;
    out[o + 3] = p + 1;
    if (p === 0) out[o + 5] = 1;
  }
  if (first !== undefined) {
    const k = channelIndex(enc, first.channel);
    if (k >= 0) out[offset + enc.channelOffset[k]! + 4] = 1;
  }
  out[offset + enc.globalOffset] = pathLength;
  out[offset + enc.globalOffset + 1] = n;
  out[offset + enc.globalOffset + 2] = age < 0 ? NaN : age;
  oneHot(out, offset + enc.userTypeOffset, enc.userTypes, j.userType);
  oneHot(out, offset + enc.deviceOffset, enc.devices, j.device);
  oneHot(out, offset + enc.regionOffset, enc.regions, j.region);
  oneHot(out, offset + enc.engagementOffset, enc.engagements, j.engagement);
}

/** encodeJourney's scratch list of kept channels (its first n entries are the call's; stale ones are never read). */
const KEPT: ChannelStat[] = [];

function oneHot(out: Float32Array, at: number, vocab: readonly string[], v: string): void {
  const i = binarySearch(vocab, v);
  if (i >= 0) out[at + i] = 1;
}

function binarySearch(sorted: readonly string[], v: string): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareStrings(sorted[mid]!, v);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function channelIndex(enc: FeatureEncoding, channel: string): number {
  return binarySearch(enc.channels, channel);
}

