/**
 * B2B leads of the demo shop: which sessions submit the bulk-order form, and each lead's firmographics and
 * outcome under a known (true) conversion model, so lead scoring has something real to find. Drawn from the
 * simulation's own "leads" stream.
 */
import { DEMO_COMPANY_SIZES, DEMO_INDUSTRIES, DEMO_SENIORITIES, type DemoChannel, type DemoPlace } from "./world.ts";
import type { Rng } from "./prng.ts";
import type { SimLead } from "./sim-rows.ts";
import { money } from "./format.ts";

/**
 * Chance that a session submits the bulk-order lead form, times 1 + (items viewed before) + (items viewed
 * now). About 4,000 leads at 20,000 users × 60 days: enough for a time split whose newest 15 % (the test
 * set) holds several hundred leads, so the lead-scoring figures on the demo mean something.
 */
export const LEAD_SESSION_RATE = 0.05;

export interface LeadContext {
  leadId: string;
  /** epoch micros */
  createdAt: number;
  userId: string | null;
  clientId: string;
  place: DemoPlace;
  channel: DemoChannel;
  priorSessions: number;
  viewedBefore: boolean;
  viewedNow: boolean;
  cartedEver: boolean;
}

/**
 * True lead-conversion model, in log-odds: behaviour before the lead (repeat visits, items viewed, a cart),
 * firmographics (size, industry, seniority), the channel that brought the lead and the newsletter opt-in.
 * Strong enough that a model can learn it from a few thousand leads (the true model's AUC ≈ 0.8), not so
 * strong that one column gives the label away (lead_leakage_max_auc).
 */
function leadLogit(c: LeadContext, size: (typeof DEMO_COMPANY_SIZES)[number], industry: (typeof DEMO_INDUSTRIES)[number], seniority: (typeof DEMO_SENIORITIES)[number], optIn: boolean): number {
  return -2.4 +
    0.3 * Math.min(c.priorSessions, 8) +
    (c.viewedBefore || c.viewedNow ? 0.6 : 0) +
    (c.cartedEver ? 0.9 : 0) +
    1.6 * size.effect +
    1.6 * industry.effect +
    1.6 * seniority.effect +
    (c.channel.key === "referral" || c.channel.key === "email" ? 0.6 : 0) +
    (optIn ? 0.4 : 0);
}

/** One B2B lead: firmographics, outcome (converted within weeks, or not) and what the CRM knows of its web visits. */
export function drawLead(rng: Rng, c: LeadContext): SimLead {
  const size = rng.pick(DEMO_COMPANY_SIZES, (x) => x.weight);
  const industry = rng.pick(DEMO_INDUSTRIES, (x) => x.weight);
  const seniority = rng.pick(DEMO_SENIORITIES, (x) => x.weight);
  const employees = rng.int(size.employees[0], size.employees[1]);
  const optIn = rng.chance(0.4);
  const converted = rng.chance(1 / (1 + Math.exp(-leadLogit(c, size, industry, seniority, optIn))));
  return {
    lead_id: c.leadId,
    created_at: c.createdAt,
    converted_at: converted ? c.createdAt + Math.floor(rng.exp(14 * 86400) + 3600) * 1_000_000 : null,
    converted,
    user_id: c.userId,
    client_id: c.clientId,
    company_size: size.label,
    employees,
    industry: industry.label,
    job_seniority: seniority.label,
    country: c.place.country,
    annual_revenue_musd: money(employees * 0.12 * Math.exp(0.5 * rng.normal())),
    newsletter_opt_in: optIn,
    lead_source: c.channel.key,
    sessions_before_lead: c.priorSessions,
    viewed_items_before_lead: c.viewedBefore,
  };
}
