/**
 * Pipeline credit: each open lead's expected deal value (calibrated conversion probability × expected
 * deal value) shared over the sessions that brought it, by a rule-based attribution model, and summed
 * per channel and campaign. The rules are those of `heuristic_touch_credit` (definitions/attribution),
 * applied to the lead's touches before its creation instead of a transaction's. Pure.
 */
import { neumaierAccumulator, type NeumaierAccumulator } from "./numeric.ts";

const PIPELINE_MODELS = ["first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based"] as const;
type PipelineModel = (typeof PIPELINE_MODELS)[number];

export interface LeadTouch {
  channel: string;
  campaign: string | null;
  /** ms since epoch. */
  at: number;
}

export interface TouchRuleOptions {
  /** Channels last_non_direct skips (vars.non_direct_excluded_channels). */
  nonDirectExcludedChannels: readonly string[];
  timeDecayMode: "continuous" | "step";
  timeDecayHalfLifeDays: number;
  timeDecayStepDays: number;
  /** [first, middle, last] (vars.position_based_weights). */
  positionBasedWeights: readonly [number, number, number];
}

/**
 * Shares of one lead's touches (ordered oldest first) under `model`, summing to 1:
 * first/last touch 1 on that touch; last non-direct 1 on the last touch outside the excluded channels
 * (the last touch when all are excluded); linear 1/n; time decay 0.5^(Δt/half-life) or
 * 0.5^floor(Δt/step) with Δt = lead creation − touch, normalised; position based w_first, w_last and
 * w_middle/(n − 2) in between (n = 1: 1; n = 2: ½ each), normalised.
 * Complexity O(n). Empty touches → empty shares.
 */
export function touchShares(model: PipelineModel, touches: readonly LeadTouch[], createdAt: number, opts: TouchRuleOptions): Float64Array {
  const n = touches.length;
  const w = new Float64Array(n);
  if (n === 0) return w;
  switch (model) {
    case "first_touch": w[0] = 1; break;
    case "last_touch": w[n - 1] = 1; break;
    case "last_non_direct": {
      let k = n - 1;
      for (let i = n - 1; i >= 0; i--) if (!opts.nonDirectExcludedChannels.includes(touches[i]!.channel)) { k = i; break; }
      w[k] = 1;
      break;
    }
    case "linear": w.fill(1); break;
    case "time_decay":
      touches.forEach((t, i) => {
        const days = Math.max(0, createdAt - t.at) / 86_400_000;
        w[i] = opts.timeDecayMode === "step" ? 0.5 ** Math.floor(days / opts.timeDecayStepDays) : 0.5 ** (days / opts.timeDecayHalfLifeDays);
      });
      break;
    case "position_based": {
      const [first, middle, last] = opts.positionBasedWeights;
      if (n === 1) w[0] = 1;
      else if (n === 2) w.fill(0.5);
      else touches.forEach((_, i) => (w[i] = i === 0 ? first : i === n - 1 ? last : middle / (n - 2)));
      break;
    }
  }
  let sum = 0;
  for (const x of w) sum += x;
  // Every weight 0 (e.g. time decay underflow): shared equally rather than lost.
  if (!(sum > 0)) return new Float64Array(n).fill(1 / n);
  return w.map((x) => x / sum);
}

export interface OpenLead {
  leadId: string;
  probability: number;
  dealValue: number;
  createdAt: number;
  /** Oldest first. */
  touches: LeadTouch[];
}

interface PipelineCreditRow {
  channel: string;
  campaign: string;
  /** Σ touch shares: leads brought, fractionally. */
  open_leads: number;
  /** Σ share × probability: deals expected to close. */
  expected_conversions: number;
  /** Σ share × probability × deal value. */
  pipeline_value: number;
}

/** Channel of a lead with no session before its creation (CRM-only leads): its pipeline is kept, not dropped. */
export const NO_TOUCH_CHANNEL = "(no web touch)";
const NOT_SET = "(not set)";

/**
 * Pipeline credit per channel and campaign, sorted by channel then campaign. Conserves value: Σ
 * pipeline_value over the rows = Σ probability × deal value over the leads (Neumaier sums), and
 * Σ open_leads = the number of leads.
 */
export function pipelineCredit(leads: readonly OpenLead[], model: PipelineModel, opts: TouchRuleOptions): PipelineCreditRow[] {
  const acc = new Map<string, { channel: string; campaign: string; leads: NeumaierAccumulator; conv: NeumaierAccumulator; value: NeumaierAccumulator }>();
  const add = (channel: string, campaign: string, share: number, lead: OpenLead): void => {
    const key = JSON.stringify([channel, campaign]);
    let a = acc.get(key);
    if (!a) acc.set(key, (a = { channel, campaign, leads: neumaierAccumulator(), conv: neumaierAccumulator(), value: neumaierAccumulator() }));
    a.leads.add(share);
    a.conv.add(share * lead.probability);
    a.value.add(share * lead.probability * lead.dealValue);
  };
  for (const lead of leads) {
    if (!lead.touches.length) {
      add(NO_TOUCH_CHANNEL, NOT_SET, 1, lead);
      continue;
    }
    const shares = touchShares(model, lead.touches, lead.createdAt, opts);
    lead.touches.forEach((t, i) => { if (shares[i]! > 0) add(t.channel, t.campaign ?? NOT_SET, shares[i]!, lead); });
  }
  return [...acc.values()]
    .map((a) => ({ channel: a.channel, campaign: a.campaign, open_leads: a.leads.value(), expected_conversions: a.conv.value(), pipeline_value: a.value.value() }))
    .sort((x, y) => (x.channel < y.channel ? -1 : x.channel > y.channel ? 1 : x.campaign < y.campaign ? -1 : x.campaign > y.campaign ? 1 : 0));
}
