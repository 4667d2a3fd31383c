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

/** Rows per INSERT: one statement of every row was a parse of tens of megabytes at 10M events. */
const INSERT_BATCH_ROWS = 5000;

/** Both tables, written as their rows are drawn. */
export interface CustomSourceTables {
  /** Draw the rows of one simulated session (every session, in order); they are buffered. */
  add(s: SimSession): void;
  /** Rows buffered and not yet written. */
  readonly buffered: number;
  /** Write the buffered rows. */
  flush(): Promise<void>;
  /** Add the intentionally bad rows, write the rest; the tables written, `schema.table`. */
  finish(): Promise<string[]>;
}

/**
 * Replace both tables in `schema` and return their writer: `add` each simulated session in order (the
 * sessions need not be kept), `flush` now and then, `finish` at the end. Same seed and sessions → the same
 * rows in the same order.
 */
export async function openCustomSourceTables(local: LocalLoading, schema: string, seed: number): Promise<CustomSourceTables> {
  const rng = createRng(seed ^ 0x5ca11);
  let calls: (string | number | null)[][] = [];
  let webinars: (string | number | null)[][] = [];
  let callCount = 0;
  let webinarCount = 0;
  let firstCaller: string | null = null;
  const outcomes = ["sale", "no_sale", "callback"] as const;
  await createTable(local, schema, "call_centre_calls");
  await createTable(local, schema, "webinar_attendances");
  const flush = async (): Promise<void> => {
    await insertRows(local.connection, schema, "call_centre_calls", calls);
    await insertRows(local.connection, schema, "webinar_attendances", webinars);
    calls = [];
    webinars = [];
  };
  return {
    // Session starts are epoch micros.
    add(s: SimSession): void {
      if (!s.userId) return;
      // Some logged-in visits lead to a call a few hours later; some to a webinar the next day.
      if (rng.chance(0.12)) {
        const outcome = rng.pick(outcomes, (o) => (o === "callback" ? 2 : 4));
        const at = s.ts / 1000 + Math.round((1 + rng.next() * 5) * HOUR_MS);
        firstCaller ??= s.userId;
        calls.push([`C${String(++callCount).padStart(6, "0")}`, wallClock(at, CALL_CENTRE_ZONE), s.userId, outcome,
          outcome === "sale" ? rng.int(20, 400) * 100 + rng.int(0, 99) : null, rng.pick(["spring_promo", "inbound", "retention"])]);
      }
      if (rng.chance(0.08)) {
        const at = s.ts / 1000 + Math.round((20 + rng.next() * 8) * HOUR_MS);
        webinars.push([`W${String(++webinarCount).padStart(6, "0")}`, rng.pick(["Getting started", "Advanced tips", "Product launch"]),
          new Date(at).toISOString().replace("T", " ").slice(0, 19), s.userId, rng.int(5, 60)]);
      }
    },
    get buffered(): number {
      return calls.length + webinars.length;
    },
    flush,
    async finish(): Promise<string[]> {
      // Intentionally bad rows: a call whose time the agent did not record, a call without a customer, an anonymous attendee.
      calls.push(["C_BAD_TIME", "not recorded", firstCaller ?? "u_demo", "no_sale", null, "inbound"]);
      calls.push(["C_BAD_CUSTOMER", wallClock(Date.UTC(2024, 0, 3, 15), CALL_CENTRE_ZONE), null, "no_sale", null, "inbound"]);
      webinars.push(["W_ANONYMOUS", "Product launch", "2024-01-04 17:00:00", null, 12]);
      await flush();
      return [`${schema}.call_centre_calls`, `${schema}.webinar_attendances`];
    },
  };
}

/** Replace `<schema>.<table>` with an empty table, columns as the catalog declares them (includes/catalog.js). */
async function createTable(local: LocalLoading, schema: string, table: string): Promise<void> {
  const ddl = tableSchema(table).map((c) => `${ident(c.name)} ${local.columnType(c)}`).join(", ");
  await local.connection.run(`CREATE OR REPLACE TABLE ${ident(schema)}.${table} (${ddl})`);
}

async function insertRows(conn: DuckDBConnection, schema: string, table: string, rows: (string | number | null)[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH_ROWS) {
    const batch = rows.slice(i, i + INSERT_BATCH_ROWS);
    await conn.run(`INSERT INTO ${ident(schema)}.${table} VALUES ${batch.map((r) => `(${r.map(sql).join(", ")})`).join(", ")}`);
  }
}
