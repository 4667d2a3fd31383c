/**
 * Synthetic leads whose conversion rises with visits, web sessions and the "Referral" source (and falls
 * with do-not-email), six hours apart: the scoring server's tests and its load benchmark train on them.
 */
import type { Row } from "../../src/engines/engine.ts";

export function syntheticLeads(n = 600, seed = 3): Row[] {
  let x = seed >>> 0;
  const rnd = (): number => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, (_, i) => {
    const visits = Math.floor(rnd() * 10);
    const sessions = Math.floor(rnd() * 6);
    const source = ["Google", "Referral", "Direct", "Olark"][Math.floor(rnd() * 4)]!;
    const noEmail = rnd() < 0.2 ? "Yes" : "No";
    const z = -2 + 0.25 * visits + 0.4 * sessions + (source === "Referral" ? 1.2 : 0) - (noEmail === "Yes" ? 0.8 : 0);
    const converted = rnd() < 1 / (1 + Math.exp(-z));
    return {
      lead_id: `L${String(i).padStart(4, "0")}`, created_at: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000 * 6), converted,
      user_id: `u${i}`, total_visits: visits, lead_source: source, do_not_email: noEmail, web_session_count: sessions,
    };
  });
}
