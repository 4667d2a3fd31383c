/**
 * The demo's two analyst-owned event tables, in their own shapes (docs/custom-events.md maps them onto the
 * custom-events contract): a call centre's log (`call_centre_calls`: local wall-clock times as text in New York,
 * order values in cents, outcomes as codes) and a webinar platform's export (`webinar_attendances`: UTC timestamps,
 * an attendee reference, minutes watched). Derived from the simulated sessions of logged-in users, so calls and
 * webinars join their journeys; a few rows are intentionally bad (quarantined with their source's name).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { createRng } from "./prng.ts";
import { tableSchema } from "../catalog/index.ts";
import type { LocalLoading } from "../engines/engine.ts";
import type { SimSession } from "./sim-rows.ts";

const CALL_CENTRE_ZONE = "America/New_York";
const HOUR_MS = 3_600_000;

/** `YYYY-MM-DD HH:MM:SS` wall-clock time of an instant in a time zone (what a local call-centre system writes). */
function wallClock(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

const sql = (v: string | number | null): string => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v.replace(/'/g, "''")}'`);
const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/**
 * The rows of both tables, drawn session by session: `add` each simulated session in order (the sessions need
 * not be kept), then `write`. Same seed and sessions → the same rows as before the sessions streamed.
 */
export function customSourceRows(seed: number): { add(s: SimSession): void; write(local: LocalLoading, schema: string): Promise<string[]> } {
  const rng = createRng(seed ^ 0x5ca11);
  const calls: (string | number | null)[][] = [];
  const webinars: (string | number | null)[][] = [];
  const outcomes = ["sale", "no_sale", "callback"] as const;
  return {
    // Session starts are epoch micros.
    add(s: SimSession): void {
      if (!s.userId) return;
      // Some logged-in visits lead to a call a few hours later; some to a webinar the next day.
      if (rng.chance(0.12)) {
        const outcome = rng.pick(outcomes, (o) => (o === "callback" ? 2 : 4));
        const at = s.ts / 1000 + Math.round((1 + rng.next() * 5) * HOUR_MS);
        calls.push([`C${String(calls.length + 1).padStart(6, "0")}`, wallClock(at, CALL_CENTRE_ZONE), s.userId, outcome,
          outcome === "sale" ? rng.int(20, 400) * 100 + rng.int(0, 99) : null, rng.pick(["spring_promo", "inbound", "retention"])]);
      }
      if (rng.chance(0.08)) {
        const at = s.ts / 1000 + Math.round((20 + rng.next() * 8) * HOUR_MS);
        webinars.push([`W${String(webinars.length + 1).padStart(6, "0")}`, rng.pick(["Getting started", "Advanced tips", "Product launch"]),
          new Date(at).toISOString().replace("T", " ").slice(0, 19), s.userId, rng.int(5, 60)]);
      }
    },
    async write(local: LocalLoading, schema: string): Promise<string[]> {
      // Intentionally bad rows: a call whose time the agent did not record, a call without a customer, an anonymous attendee.
      calls.push(["C_BAD_TIME", "not recorded", calls[0]?.[2] ?? "u_demo", "no_sale", null, "inbound"]);
      calls.push(["C_BAD_CUSTOMER", wallClock(Date.UTC(2024, 0, 3, 15), CALL_CENTRE_ZONE), null, "no_sale", null, "inbound"]);
      webinars.push(["W_ANONYMOUS", "Product launch", "2024-01-04 17:00:00", null, 12]);
      await replaceTable(local, schema, "call_centre_calls", calls);
      await replaceTable(local, schema, "webinar_attendances", webinars);
      return [`${schema}.call_centre_calls`, `${schema}.webinar_attendances`];
    },
  };
}

/** Rows per INSERT: one statement of every row was a parse of tens of megabytes at 10M events. */
const INSERT_BATCH_ROWS = 5000;

/** Replace `<schema>.<table>` with `rows`, columns as the catalog declares them (includes/catalog.js). */
async function replaceTable(local: LocalLoading, schema: string, table: string, rows: (string | number | null)[][]): Promise<void> {
  const conn = local.connection;
  const ddl = tableSchema(table).map((c) => `${ident(c.name)} ${local.columnType(c)}`).join(", ");
  await conn.run(`CREATE OR REPLACE TABLE ${ident(schema)}.${table} (${ddl})`);
  for (let i = 0; i < rows.length; i += INSERT_BATCH_ROWS) {
    const batch = rows.slice(i, i + INSERT_BATCH_ROWS);
    await conn.run(`INSERT INTO ${ident(schema)}.${table} VALUES ${batch.map((r) => `(${r.map(sql).join(", ")})`).join(", ")}`);
  }
}
