/**
 * The demo's ad-platform costs: the simulation tallies paid sessions per day and campaign as it draws them
 * (`tallyPaidSession`), and the daily cost rows are drawn from the tally afterwards, from the "costs" stream.
 */
import { DEMO_CHANNELS, type DemoChannel } from "./world.ts";
import type { Rng } from "./prng.ts";
import type { SimCostRow } from "./sim-rows.ts";
import { DAY_MS, money } from "./format.ts";

/** Paid sessions per `day|source|medium|campaign`. */
export type PaidSessionTally = Map<string, number>;

function tallyKey(day: number, ch: DemoChannel, campaign: string): string {
  return `${day}|${ch.source}|${ch.medium}|${campaign}`;
}

/** Count a session towards its day's clicks when its channel costs money (per click or per day). */
export function tallyPaidSession(tally: PaidSessionTally, day: number, ch: DemoChannel, campaign: string): void {
  if (ch.costPerClick > 0 || ch.dailyCost) {
    const k = tallyKey(day, ch, campaign);
    tally.set(k, (tally.get(k) ?? 0) + 1);
  }
}

/** Daily costs: paid clicks ≈ sessions × (1.08–1.23); cost = clicks × cpc × noise; e-mail has a fixed daily fee. */
export function costRows(rng: Rng, costSessions: ReadonlyMap<string, number>, c: { startMs: number; days: number }): SimCostRow[] {
  const costs: SimCostRow[] = [];
  const startDay = Math.floor(c.startMs / DAY_MS);
  for (let day = 0; day < c.days; day++) {
    for (const ch of DEMO_CHANNELS) {
      if (!(ch.costPerClick > 0 || ch.dailyCost)) continue;
      for (const campaign of ch.campaigns) {
        const n = costSessions.get(tallyKey(day, ch, campaign)) ?? 0;
        if (ch.dailyCost) {
          costs.push({ date: startDay + day, source: ch.source, medium: ch.medium, campaign, cost: ch.dailyCost / ch.campaigns.length, clicks: n, impressions: 0 });
          continue;
        }
        if (n === 0) continue;
        const clicks = Math.round(n * (1.08 + 0.15 * rng.next()));
        costs.push({
          date: startDay + day,
          source: ch.source,
          medium: ch.medium,
          campaign,
          cost: money(clicks * ch.costPerClick * (0.85 + 0.3 * rng.next())),
          clicks,
          impressions: Math.round(clicks * ch.impressionsPerClick * (0.7 + 0.6 * rng.next())),
        });
      }
    }
  }
  return costs;
}
