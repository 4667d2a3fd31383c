/**
 * Per-channel observable statistics and rule-based shares on stitched journeys (bench/studies/calib-worlds.ts), for
 * the credit-calibration study. Only what a pipeline observes: channel names are keys, never features.
 */
import type { Journey } from "./calib-worlds.ts";

export type Shares = Record<string, number>;

function normalise(x: Record<string, number>, channels: readonly string[]): Shares {
  const s = channels.reduce((a, c) => a + Math.max(0, x[c] ?? 0), 0);
  return Object.fromEntries(channels.map((c) => [c, s > 0 ? Math.max(0, x[c] ?? 0) / s : 1 / channels.length]));
}

/** first / last / linear / position-based (40/20/40) / time decay (7-day half-life) over converting journeys. */
export function ruleShares(journeys: readonly Journey[], channels: readonly string[]): Record<string, Shares> {
  const acc: Record<string, Record<string, number>> = { first_touch: {}, last_touch: {}, linear: {}, position_based: {}, time_decay: {} };
  const add = (m: string, c: string, w: number): void => { acc[m]![c] = (acc[m]![c] ?? 0) + w; };
  for (const j of journeys) {
    if (!j.converted || !j.touches.length) continue;
    const n = j.touches.length;
    add("first_touch", j.touches[0]!.channel, 1);
    add("last_touch", j.touches[n - 1]!.channel, 1);
    for (const t of j.touches) add("linear", t.channel, 1 / n);
    if (n === 1) add("position_based", j.touches[0]!.channel, 1);
    else if (n === 2) { add("position_based", j.touches[0]!.channel, 0.5); add("position_based", j.touches[1]!.channel, 0.5); }
    else {
      add("position_based", j.touches[0]!.channel, 0.4);
      add("position_based", j.touches[n - 1]!.channel, 0.4);
      for (let i = 1; i < n - 1; i++) add("position_based", j.touches[i]!.channel, 0.2 / (n - 2));
    }
    const end = j.touches[n - 1]!.t;
    const w = j.touches.map((t) => Math.pow(2, -(end - t.t) / 7));
    const ws = w.reduce((a, b) => a + b, 0);
    j.touches.forEach((t, i) => add("time_decay", t.channel, w[i]! / ws));
  }
  return Object.fromEntries(Object.entries(acc).map(([m, x]) => [m, normalise(x, channels)]));
}

export interface ChannelStats {
  sessionShare: number;
  /** Share of all journeys' first touches. */
  firstShare: number;
  /** Conversions at this channel's sessions / its sessions. */
  sessionConvRate: number;
  /** Conversion rate of journeys with the channel / of journeys without it. */
  withWithout: number;
  /** Mean relative position (0 first … 1 last) in journeys of ≥ 2 touches. */
  meanPosition: number;
  /**
   * Excitation within a user: sessions of this channel in the `h` days after another channel's session,
   * over what the user's own count of this channel's sessions spread evenly over the journey's span would give
   * (so a user's overall activity, e.g. propensity, cancels). ≈ 1 for a channel on its own schedule,
   * > 1 for one whose visits follow other touches.
   */
  excitation1: number;
  excitation3: number;
  /** Same, but the sessions after this channel's own previous session (self-excitation). */
  selfExcitation3: number;
  /**
   * Outgoing excitation within a user: the user's other sessions in the `h` = 3 days after this channel's
   * session, over what the user's count of other sessions spread evenly over the span would give. A session
   * that raises intent is followed by more visits (a Hawkes kernel); for a channel on its own schedule
   * (exogenous timing) the excess estimates its effect.
   */
  outExcitation3: number;
  /** Excess other sessions in the 3 days after this channel's sessions, per session of the channel (obs − expected) / sessions. */
  outExcessPerSession: number;
  /** Mean page views of its sessions / mean page views of all sessions. */
  pagesRatio: number;
  /** Mean days since the user's previous session (any channel) / the same over all sessions. */
  gapRatio: number;
  /** Share of its sessions that open a journey. */
  opensShare: number;
}

export function channelStats(journeys: readonly Journey[], channels: readonly string[], days: number): Record<string, ChannelStats> {
  const idx = new Map(channels.map((c, i) => [c, i]));
  const C = channels.length;
  const sess = new Float64Array(C);
  const first = new Float64Array(C);
  const convAt = new Float64Array(C);
  const jWith = new Float64Array(C);
  const jWithConv = new Float64Array(C);
  const posSum = new Float64Array(C);
  const posN = new Float64Array(C);
  const pages = new Float64Array(C);
  const gap = new Float64Array(C);
  const gapN = new Float64Array(C);
  const opens = new Float64Array(C);
  const exObs = [new Float64Array(C), new Float64Array(C), new Float64Array(C)];
  const exExp = [new Float64Array(C), new Float64Array(C), new Float64Array(C)];
  const outObs = new Float64Array(C);
  const outExp = new Float64Array(C);
  let allPages = 0;
  let allSess = 0;
  let allGap = 0;
  let allGapN = 0;
  let conv = 0;
  for (const j of journeys) {
    const n = j.touches.length;
    if (!n) continue;
    if (j.converted) conv++;
    first[idx.get(j.touches[0]!.channel)!]!++;
    const has = new Uint8Array(C);
    const count = new Float64Array(C);
    // The span the journey was observed: to its conversion, or to the end of the data.
    const end = j.converted ? j.touches[n - 1]!.t : days;
    j.touches.forEach((t, i) => {
      const c = idx.get(t.channel)!;
      sess[c]!++;
      count[c]!++;
      has[c] = 1;
      pages[c]! += t.pages;
      allPages += t.pages;
      allSess++;
      if (i === 0) opens[c]!++;
      if (i > 0) { gap[c]! += t.t - j.touches[i - 1]!.t; gapN[c]!++; allGap += t.t - j.touches[i - 1]!.t; allGapN++; }
      if (j.converted && i === n - 1) convAt[c]!++;
      if (n >= 2) { posSum[c]! += i / (n - 1); posN[c]!++; }
    });
    for (let c = 0; c < C; c++) if (has[c]) { jWith[c]!++; if (j.converted) jWithConv[c]!++; }
    if (end <= 0) continue;
    const hs = [1, 3, 3];
    for (const k of j.touches) {
      const ck = idx.get(k.channel)!;
      const w3 = Math.max(0, Math.min(end, k.t + 3) - k.t);
      outExp[ck]! += ((n - 1) * w3) / end;
      for (const x of j.touches) if (x !== k && x.t > k.t && x.t <= k.t + 3) outObs[ck]!++;
      for (let c = 0; c < C; c++) {
        if (!count[c]) continue;
        for (let e = 0; e < 3; e++) {
          const self = e === 2;
          if (self ? ck !== c : ck === c) continue;
          const h = hs[e]!;
          const w = Math.max(0, Math.min(end, k.t + h) - k.t);
          // Expected: this user's other sessions of c (excluding k itself when self) spread over [0, end].
          exExp[e]![c]! += ((count[c]! - (self ? 1 : 0)) * w) / end;
          for (const x of j.touches) if (idx.get(x.channel) === c && x.t > k.t && x.t <= k.t + h) exObs[e]![c]!++;
        }
      }
    }
  }
  const N = journeys.length;
  const meanPages = allPages / Math.max(1, allSess);
  const meanGap = allGap / Math.max(1, allGapN);
  const out: Record<string, ChannelStats> = {};
  channels.forEach((ch, c) => {
    const without = N - jWith[c]!;
    const rWith = jWith[c]! > 0 ? jWithConv[c]! / jWith[c]! : 0;
    const rWithout = without > 0 ? (conv - jWithConv[c]!) / without : 0;
    out[ch] = {
      sessionShare: sess[c]! / Math.max(1, allSess),
      firstShare: first[c]! / Math.max(1, N),
      sessionConvRate: sess[c]! > 0 ? convAt[c]! / sess[c]! : 0,
      withWithout: rWithout > 0 ? rWith / rWithout : 1,
      meanPosition: posN[c]! > 0 ? posSum[c]! / posN[c]! : 0.5,
      excitation1: exExp[0]![c]! > 0 ? exObs[0]![c]! / exExp[0]![c]! : 1,
      excitation3: exExp[1]![c]! > 0 ? exObs[1]![c]! / exExp[1]![c]! : 1,
      selfExcitation3: exExp[2]![c]! > 0 ? exObs[2]![c]! / exExp[2]![c]! : 1,
      outExcitation3: outExp[c]! > 0 ? outObs[c]! / outExp[c]! : 1,
      outExcessPerSession: sess[c]! > 0 ? (outObs[c]! - outExp[c]!) / sess[c]! : 0,
      pagesRatio: sess[c]! > 0 ? pages[c]! / sess[c]! / meanPages : 1,
      gapRatio: gapN[c]! > 0 && meanGap > 0 ? gap[c]! / gapN[c]! / meanGap : 1,
      opensShare: sess[c]! > 0 ? opens[c]! / sess[c]! : 0,
    };
  });
  return out;
}
