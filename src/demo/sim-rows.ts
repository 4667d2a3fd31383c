/**
 * What the demo simulation hands out: sessions (expanded into GA4 events by ga4-export.ts) and the rows of the
 * other sources (CRM transactions, custom events, costs, leads), in the shapes the table writers take.
 * The accuracy benchmark builds the same shapes from its own worlds, so both share one writer.
 */
import type { DemoChannel, DemoDevice, DemoPlace, DemoProduct } from "./world.ts";

export interface SimItem {
  product: DemoProduct;
  quantity: number;
}

export interface SimSession {
  key: number;
  day: number;
  /** Start, epoch micros. */
  ts: number;
  pseudoId: string;
  userId: string | null;
  gaSessionId: number;
  gaSessionNumber: number;
  /** One character per event, in order (event-codes.ts). */
  codes: string;
  channel: DemoChannel;
  campaign: string;
  gclid: string | null;
  /** source/medium/campaign event params present (GA4 sometimes loses them). */
  sendSourceParams: boolean;
  landingPath: string;
  firstTouch: DemoChannel;
  firstTouchCampaign: string;
  firstTouchTs: number;
  device: DemoDevice;
  place: DemoPlace;
  language: string;
  items: SimItem[];
  transactionId: string | null;
  revenue: number | null;
  tax: number | null;
  shipping: number | null;
  /** User lifetime revenue before this session. */
  ltv: number;
  tier: string | null;
}

export interface SimTransactionRow {
  transaction_id: string;
  user_id: string | null;
  client_id: string | null;
  /** epoch micros */
  transaction_created: number;
  transaction_status: string;
  transaction_revenue: number;
  transaction_region: string;
}

/** Custom events keep raw strings, like a file would have them. */
export interface SimCustomEvent {
  name: string;
  category: string | null;
  time: string | null;
  user_id: string | null;
  client_id: string | null;
  transaction_id: string | null;
  revenue: string | null;
  cost: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  geo_region: string | null;
}

export interface SimCostRow {
  /** Days since 1970-01-01. */
  date: number;
  source: string;
  medium: string;
  campaign: string;
  cost: number;
  clicks: number;
  impressions: number;
}

export interface SimLead {
  lead_id: string;
  created_at: number;
  converted_at: number | null;
  converted: boolean;
  user_id: string | null;
  client_id: string;
  company_size: string;
  employees: number;
  industry: string;
  job_seniority: string;
  country: string;
  annual_revenue_musd: number;
  newsletter_opt_in: boolean;
  lead_source: string;
  sessions_before_lead: number;
  viewed_items_before_lead: boolean;
}
