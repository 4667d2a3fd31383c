/**
 * OWOX BI "ML funnel-based attribution": transition probabilities between funnel steps, estimated per
 * user segment with fallback to coarser segments, turned into event scores and a value split.
 *
 * OWOX's published description (OWOX BI help, "ML funnel-based attribution"): the probability of moving
 * from one funnel step to the next is computed for users with the same properties — user type
 * (new/returning), device category, region — and, when there is too little data for a reliable estimate,
 * for a wider group; an event's score is 1 − P(transition) (an unlikely step is worth more); a
 * transaction's value is split over the events of its chain in proportion to their scores. OWOX publishes
 * the fallback order and that a reliability threshold exists, not the test itself.
 *
 * Our assumptions (named so they can be changed):
 * - Levels, finest first: (user type, device, region) → (user type, device) → (device) → global.
 * - Reliability ({@link DEFAULT_RELIABILITY}): the Wald 95 % half-width of p = P(a→b) at a level,
 *   1.96·√(p(1−p)/n) with n = transitions out of a at that level, must be < 0.1, and n ≥ minTransitions
 *   (default 1). Known weakness: at p = 0 or 1 the Wald half-width is 0 whatever n, so a single
 *   observation is "reliable"; raise `minTransitions` or use the "min-transitions" rule if that matters.
 *   The global level is always used when reached (with p = 0, n = 0 if a has no data at all).
 * - Each (a, b) pair chooses its own level, so the chosen P(a→·) need not add up to 1 across b.
 * - Score of an event reaching step b: S = 1 − P(a → b | properties), a = the step of the latest earlier
 *   event of the chain with a different step ((start) for the first).
 */
import { ModelInputError, absorbRemainder, compareStrings, neumaierAccumulator, requireNonNegative } from "./numeric.ts";

/** Funnel transition counts, grain (from_step, to_step, user_type, device, region). */
export interface FunnelTransitionRow {
  fromStep: string;
  toStep: string;
  userType: string;
  device: string;
  region: string;
  n: number;
}

interface FunnelProperties {
  userType: string;
  device: string;
  region: string;
}

type FunnelLevel = "user_type_device_region" | "user_type_device" | "device" | "global";
const FUNNEL_LEVELS: readonly FunnelLevel[] = ["user_type_device_region", "user_type_device", "device", "global"];

export type ReliabilityRule =
  | { kind: "wald-half-width"; z: number; maxHalfWidth: number; minTransitions: number }
  | { kind: "min-transitions"; minTransitions: number };

/** Default: 1.96·√(p(1−p)/n) < 0.1 and n ≥ 1 (our assumption; OWOX publishes only the threshold idea). */
export const DEFAULT_RELIABILITY: ReliabilityRule = { kind: "wald-half-width", z: 1.96, maxHalfWidth: 0.1, minTransitions: 1 };

/**
 * Whether p = k/n estimated from n transitions out of a step is reliable under `rule`.
 * wald-half-width: n ≥ minTransitions and z·√(p(1−p)/n) < maxHalfWidth. min-transitions: n ≥ minTransitions.
 * n = 0 is never reliable. O(1).
 */
export function isReliable(rule: ReliabilityRule, p: number, n: number): boolean {
  if (!(n > 0) || n < rule.minTransitions) return false;
  if (rule.kind === "min-transitions") return true;
  return rule.z * Math.sqrt((p * (1 - p)) / n) < rule.maxHalfWidth;
}

interface FunnelMarkovOptions {
  /** Funnel steps in funnel order (vars.funnel_steps). */
  steps: readonly string[];
  reliability?: ReliabilityRule;
  /** from_step value meaning "entered the funnel" (default "(start)"). */
  startStep?: string;
  /** to_step value meaning "left without a further step" (default "(exit)"). */
  exitStep?: string;
}

interface FunnelProbabilityRow {
  fromStep: string;
  toStep: string;
  userType: string;
  device: string;
  region: string;
  p: number;
  level: FunnelLevel;
  /** Transitions out of fromStep at the level used. */
  n: number;
  /** Transitions fromStep → toStep at the level used. */
  count: number;
}

/** Count cell at one level; properties not part of the level are "". */
interface FunnelCountCell {
  level: FunnelLevel;
  userType: string;
  device: string;
  region: string;
  fromStep: string;
  toStep: string;
  count: number;
}

interface FunnelMarkovModel {
  kind: "funnel-markov";
  version: 1;
  steps: string[];
  startStep: string;
  exitStep: string;
  reliability: ReliabilityRule;
  /** Counts at every level: enough to look up any (from, to, properties), seen or not. */
  cells: FunnelCountCell[];
  /** The probability for every observed property combination × every observed (from, to) pair. */
  probabilities: FunnelProbabilityRow[];
}

/** A step name that is not in the configured funnel. */
export class UnknownFunnelStep extends ModelInputError {
  constructor(
    readonly step: string,
    known: readonly string[],
    where: string,
  ) {
    super(`UnknownFunnelStep: "${step}" (${where}) is not one of ${known.map((s) => `"${s}"`).join(", ")}; check vars.funnel_steps in workflow_settings.yaml`);
  }
}

const SEP = "\u0001";
function levelProps(level: FunnelLevel, p: FunnelProperties): [string, string, string] {
  switch (level) {
    case "user_type_device_region":
      return [p.userType, p.device, p.region];
    case "user_type_device":
      return [p.userType, p.device, ""];
    case "device":
      return ["", p.device, ""];
    case "global":
      return ["", "", ""];
  }
}
const propKey = (level: FunnelLevel, props: FunnelProperties): string => level + SEP + levelProps(level, props).join(SEP);

interface FunnelIndex {
  pair: Map<string, number>; // level|props|from|to → count
  out: Map<string, number>; // level|props|from → Σ count
}
const indexCache = new WeakMap<FunnelMarkovModel, FunnelIndex>();
function indexOf(model: FunnelMarkovModel): FunnelIndex {
  let idx = indexCache.get(model);
  if (!idx) {
    idx = { pair: new Map(), out: new Map() };
    for (const c of model.cells) {
      const pk = c.level + SEP + [c.userType, c.device, c.region].join(SEP) + SEP + c.fromStep;
      idx.pair.set(pk + SEP + c.toStep, (idx.pair.get(pk + SEP + c.toStep) ?? 0) + c.count);
      idx.out.set(pk, (idx.out.get(pk) ?? 0) + c.count);
    }
    indexCache.set(model, idx);
  }
  return idx;
}

/**
 * Fit the funnel model: aggregate the counts at the four levels and tabulate the chosen probability for
 * every observed property combination and (from, to) pair.
 * Complexity: O(rows + combos × pairs). Throws UnknownFunnelStep for a step outside `steps` (plus the
 * start/exit markers), ModelInputError for a negative or non-finite n.
 */
export function fitFunnelMarkov(rows: readonly FunnelTransitionRow[], options: FunnelMarkovOptions): FunnelMarkovModel {
  const steps = [...options.steps];
  if (steps.length === 0) throw new ModelInputError(`funnel Markov: no funnel steps given; set vars.funnel_steps in workflow_settings.yaml`);
  const startStep = options.startStep ?? "(start)";
  const exitStep = options.exitStep ?? "(exit)";
  const reliability = options.reliability ?? DEFAULT_RELIABILITY;
  const fromOk = new Set([startStep, ...steps]);
  const toOk = new Set([exitStep, ...steps]);

  const cellMap = new Map<string, FunnelCountCell>();
  const combos = new Map<string, FunnelProperties>();
  const pairs = new Map<string, [string, string]>();
  rows.forEach((r, i) => {
    if (!fromOk.has(r.fromStep)) throw new UnknownFunnelStep(r.fromStep, [startStep, ...steps], `row ${i} from_step`);
    if (!toOk.has(r.toStep)) throw new UnknownFunnelStep(r.toStep, [...steps, exitStep], `row ${i} to_step`);
    requireNonNegative(r.n, `funnel row ${i} n`);
    const props: FunnelProperties = { userType: r.userType, device: r.device, region: r.region };
    combos.set([r.userType, r.device, r.region].join(SEP), props);
    pairs.set(r.fromStep + SEP + r.toStep, [r.fromStep, r.toStep]);
    for (const level of FUNNEL_LEVELS) {
      const [u, d, g] = levelProps(level, props);
      const key = [level, u, d, g, r.fromStep, r.toStep].join(SEP);
      const cell = cellMap.get(key);
      if (cell) cell.count += r.n;
      else cellMap.set(key, { level, userType: u, device: d, region: g, fromStep: r.fromStep, toStep: r.toStep, count: r.n });
    }
  });
  const stepRank = new Map<string, number>([[startStep, -1], ...steps.map((s, i) => [s, i] as [string, number]), [exitStep, steps.length]]);
  const byStep = (a: string, b: string): number => stepRank.get(a)! - stepRank.get(b)!;
  const cells = [...cellMap.values()].sort(
    (x, y) =>
      FUNNEL_LEVELS.indexOf(x.level) - FUNNEL_LEVELS.indexOf(y.level) ||
      compareStrings(x.userType, y.userType) ||
      compareStrings(x.device, y.device) ||
      compareStrings(x.region, y.region) ||
      byStep(x.fromStep, y.fromStep) ||
      byStep(x.toStep, y.toStep),
  );
  const model: FunnelMarkovModel = { kind: "funnel-markov", version: 1, steps, startStep, exitStep, reliability, cells, probabilities: [] };
  const comboList = [...combos.values()].sort(
    (x, y) => compareStrings(x.userType, y.userType) || compareStrings(x.device, y.device) || compareStrings(x.region, y.region),
  );
  const pairList = [...pairs.values()].sort((x, y) => byStep(x[0], y[0]) || byStep(x[1], y[1]));
  for (const props of comboList) {
    for (const [from, to] of pairList) {
      const t = transitionProbability(model, from, to, props);
      model.probabilities.push({ fromStep: from, toStep: to, ...props, ...t });
    }
  }
  return model;
}

/**
 * P(from → to | properties) with level fallback: the finest level whose estimate passes the
 * reliability rule, else global. Works for property combinations never seen in training (they fall
 * through to the levels that have data). O(levels).
 */
export function transitionProbability(
  model: FunnelMarkovModel,
  fromStep: string,
  toStep: string,
  props: FunnelProperties,
): { p: number; level: FunnelLevel; n: number; count: number } {
  const idx = indexOf(model);
  for (const level of FUNNEL_LEVELS) {
    const pk = propKey(level, props) + SEP + fromStep;
    const n = idx.out.get(pk) ?? 0;
    const count = idx.pair.get(pk + SEP + toStep) ?? 0;
    const p = n > 0 ? count / n : 0;
    if (level === "global" || isReliable(model.reliability, p, n)) return { p, level, n, count };
  }
  /* c8 ignore next */
  throw new Error("unreachable: the global level always answers");
}

/** A funnel event of one transaction's chain. `ts` in any consistent unit (e.g. epoch ms). */
interface FunnelEvent {
  eventKey: string;
  step: string;
  sessionKey: string;
  ts: number;
}

/**
 * Score each event of a chain: S = 1 − P(a → step | props), a = step of the latest earlier event with a
 * different step ((start) for the first). Events are taken in (ts, input order) order; the output is in
 * input order. Throws UnknownFunnelStep for a step not in the model. O(events).
 */
export function scoreFunnelChain<E extends FunnelEvent>(model: FunnelMarkovModel, events: readonly E[], props: FunnelProperties): (E & { score: number; fromStep: string })[] {
  const known = new Set(model.steps);
  const order = events.map((_, i) => i).sort((a, b) => events[a]!.ts - events[b]!.ts || a - b);
  const out: (E & { score: number; fromStep: string })[] = new Array(events.length);
  const reached: string[] = [];
  for (const i of order) {
    const e = events[i]!;
    if (!known.has(e.step)) throw new UnknownFunnelStep(e.step, model.steps, `event ${e.eventKey}`);
    let a = model.startStep;
    for (let j = reached.length - 1; j >= 0; j--) {
      if (reached[j] !== e.step) {
        a = reached[j]!;
        break;
      }
    }
    const { p } = transitionProbability(model, a, e.step, props);
    out[i] = { ...e, score: 1 - p, fromStep: a };
    reached.push(e.step);
  }
  return out;
}

interface DistributeOptions {
  /** Time-decay half-life, in the unit of `ts` (> 0; Infinity = equal sharing). */
  halfLife: number;
  /** Transaction time (default: the latest event's ts). Events later than it count as at it. */
  transactionTs?: number;
  /** Conversions to distribute alongside value (default 1). */
  conversions?: number;
}

interface EventCredit {
  eventKey: string;
  step: string;
  sessionKey: string;
  ts: number;
  score: number;
  /** Share of the event group's credit from time decay (1 for a single event). */
  decayShare: number;
  value: number;
  conversions: number;
}

/**
 * Distribute a transaction's value (and its conversion) over the events of its chain.
 *
 * Events with the same `eventKey` are one event that happened several times ("identical events"):
 * the group's credit is value · S_g / Σ_h S_h, S_g = the score of the group's earliest occurrence, and
 * the group's members share it by time decay w_i = 2^(−(T − ts_i)/halfLife) normalised within the group
 * (closer to the transaction T gets more). If every score is 0, groups share equally.
 * Exactness: credits are computed in a canonical order (ts, sessionKey, eventKey, step), and the
 * rounding remainder value − Σ credits (Neumaier) is put on the largest credit (first in canonical order
 * on ties), so neumaierSum(credits) === value; same for conversions.
 * Complexity: O(k log k). Edge cases: no events → [] (the transaction stays unattributed; the caller
 * reports it); value 0 → all credits 0. Output is in input order.
 */
export function distributeTransaction(
  events: readonly { eventKey: string; step: string; sessionKey: string; ts: number; score: number }[],
  value: number,
  opts: DistributeOptions,
): EventCredit[] {
  if (!Number.isFinite(value)) throw new ModelInputError(`distributeTransaction: value must be finite (got ${value})`);
  if (!(opts.halfLife > 0)) throw new ModelInputError(`distributeTransaction: halfLife must be > 0 (got ${opts.halfLife}); set owox_decay_half_life_days`);
  const conversions = opts.conversions ?? 1;
  const k = events.length;
  if (k === 0) return [];
  events.forEach((e, i) => {
    requireNonNegative(e.score, `event ${i} (${e.eventKey}) score`);
    if (!Number.isFinite(e.ts)) throw new ModelInputError(`event ${i} (${e.eventKey}) ts must be a finite number`);
  });
  const canon = events
    .map((_, i) => i)
    .sort(
      (a, b) =>
        events[a]!.ts - events[b]!.ts ||
        compareStrings(events[a]!.sessionKey, events[b]!.sessionKey) ||
        compareStrings(events[a]!.eventKey, events[b]!.eventKey) ||
        compareStrings(events[a]!.step, events[b]!.step) ||
        a - b,
    );
  let T = opts.transactionTs ?? -Infinity;
  if (opts.transactionTs === undefined) for (const e of events) T = Math.max(T, e.ts);

  // Groups in canonical order of first occurrence.
  const groups = new Map<string, number[]>();
  for (const i of canon) {
    const g = groups.get(events[i]!.eventKey);
    if (g) g.push(i);
    else groups.set(events[i]!.eventKey, [i]);
  }
  const groupList = [...groups.values()];
  const gScore = groupList.map((g) => events[g[0]!]!.score);
  const sAcc = neumaierAccumulator();
  for (const s of gScore) sAcc.add(s);
  const sSum = sAcc.value();

  const decay = new Float64Array(k);
  const valuePart = new Float64Array(k); // in canonical positions
  const convPart = new Float64Array(k);
  const pos = new Int32Array(k);
  canon.forEach((i, p) => (pos[i] = p));
  groupList.forEach((g, gi) => {
    const share = sSum > 0 ? gScore[gi]! / sSum : 1 / groupList.length;
    const w = g.map((i) => (Number.isFinite(opts.halfLife) ? Math.pow(2, -Math.max(0, T - events[i]!.ts) / opts.halfLife) : 1));
    const wAcc = neumaierAccumulator();
    for (const x of w) wAcc.add(x);
    const wSum = wAcc.value();
    g.forEach((i, j) => {
      const d = wSum > 0 ? w[j]! / wSum : 1 / g.length;
      decay[i] = d;
      valuePart[pos[i]!] = value * share * d;
      convPart[pos[i]!] = conversions * share * d;
    });
  });
  absorbRemainder(valuePart, value);
  absorbRemainder(convPart, conversions);
  return events.map((e, i) => ({
    eventKey: e.eventKey,
    step: e.step,
    sessionKey: e.sessionKey,
    ts: e.ts,
    score: e.score,
    decayShare: decay[i]!,
    value: valuePart[pos[i]!]!,
    conversions: convPart[pos[i]!]!,
  }));
}

/** Serialise / load the funnel model as tagged JSON. */
export function funnelMarkovToJSON(model: FunnelMarkovModel): string {
  return JSON.stringify(model);
}
export function loadFunnelMarkov(json: string | unknown): FunnelMarkovModel {
  const obj: unknown = typeof json === "string" ? JSON.parse(json) : json;
  if (typeof obj !== "object" || obj === null || (obj as { kind?: unknown }).kind !== "funnel-markov" || (obj as { version?: unknown }).version !== 1) {
    throw new ModelInputError(`not a version-1 funnel-markov model (expected kind "funnel-markov"); refit with fitFunnelMarkov`);
  }
  return obj as FunnelMarkovModel;
}
