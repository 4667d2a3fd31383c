/**
 * The contract between a simulated session and its GA4 events: the session's `codes` string holds one
 * character per event, in order, and the events SQL (ga4-events-sql.ts) spaces them EVENT_STEP_SECONDS apart.
 * The simulation uses the same spacing to time what follows an event (a CRM order, a lead).
 */

/** Event codes of a session, one character per event, in order. */
export const EVENT_CODES: Readonly<Record<string, string>> = {
  f: "first_visit",
  s: "session_start",
  p: "page_view",
  v: "view_item",
  a: "add_to_cart",
  b: "begin_checkout",
  $: "purchase",
  l: "generate_lead",
  e: "user_engagement",
};
/** Seconds between consecutive events of a session (plus up to EVENT_JITTER_SECONDS). */
export const EVENT_STEP_SECONDS = 20;
export const EVENT_JITTER_SECONDS = 15;
