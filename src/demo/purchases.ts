/**
 * A web purchase of the demo shop: the order's amounts, whether GA4 saw it, and the CRM's rows for it (one per
 * product line, as CRMs export them). Drawn from the web stream, in the session that checks out.
 */
import type { Rng } from "./prng.ts";
import type { SimItem, SimTransactionRow } from "./sim-rows.ts";
import { EVENT_STEP_SECONDS } from "./event-codes.ts";
import { money } from "./format.ts";

export interface Purchase {
  transactionId: string;
  revenue: number;
  tax: number;
  shipping: number;
  /** GA4 recorded the purchase event; ~5 % never reach GA4 (ad blockers, closed tabs) and are CRM-only. */
  tracked: boolean;
  /** The buyer's CRM id after checkout (an account may be created there). */
  userId: string | null;
  crmRows: SimTransactionRow[];
}

export interface PurchaseContext {
  transactionId: string;
  items: readonly SimItem[];
  userId: string | null;
  /** The id the buyer gets when an account is created at checkout. */
  newUserId: string;
  clientId: string;
  /** Session start, epoch micros. */
  sessionTs: number;
  pageViews: number;
  region: string;
}

/** Amounts: subtotal of the items, 8 % tax, 5.99 shipping under 50; the CRM's order time follows the checkout. */
export function drawPurchase(rng: Rng, c: PurchaseContext): Purchase {
  const subtotal = money(c.items.reduce((a, it) => a + it.product.price * it.quantity, 0));
  const tax = money(subtotal * 0.08);
  const shipping = subtotal >= 50 ? 0 : 5.99;
  const revenue = money(subtotal + tax + shipping);
  const tracked = rng.chance(0.95);
  let userId = c.userId;
  if (userId === null && rng.chance(0.55)) userId = c.newUserId; // account created at checkout
  const status = rng.pick(["completed", "refunded", "cancelled"], (x) => (x === "completed" ? 90 : 5));
  const created = c.sessionTs + (EVENT_STEP_SECONDS * (c.pageViews + 6) + rng.int(5, 300)) * 1_000_000;
  // One CRM row per product line (and one for shipping + tax), as CRMs export them.
  const crmLine = (revenue: number): SimTransactionRow => ({
    transaction_id: c.transactionId,
    user_id: userId,
    client_id: c.clientId,
    transaction_created: created,
    transaction_status: status,
    transaction_revenue: revenue,
    transaction_region: c.region,
  });
  const crmRows = c.items.map((it) => crmLine(money(it.product.price * it.quantity)));
  if (shipping > 0) {
    crmRows.push(crmLine(money(shipping + tax)));
  } else {
    crmRows[crmRows.length - 1]!.transaction_revenue = money(crmRows[crmRows.length - 1]!.transaction_revenue + tax);
  }
  return { transactionId: c.transactionId, revenue, tax, shipping, tracked, userId, crmRows };
}
