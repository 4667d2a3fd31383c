/**
 * How much of a built warehouse's credit and identity depends on data older than a horizon (#14). A daily run that
 * reads only its window's days plus H days before them can be exact only if nothing older changes what it writes;
 * on a warehouse built by a full refresh this measures what a horizon of H days would move:
 *
 * 1. the OWOX funnel credit (funnel_event_credit) on events more than H days before their transaction;
 * 2. per model family, the session credit (session_credit) on sessions more than H days before the transaction;
 * 3. identity: sessions whose resolved user id would differ if a login re-keyed only a client's sessions at most
 *    H days before it (today a client's every session takes the user id of its last trusted login, however late);
 * 4. the chains with a session on the newest day: how far back their first session lies (what a run rebuilding
 *    the chains it touches would read, by partition).
 *
 * `npm run bench -- --cost-plan` prints these for its simulated property (bench/stage-cost-plan.ts); on any other
 * warehouse file (read-only, DuckDB; the datasets as workflow_settings.yaml names them):
 *
 *   npx tsx bench/horizons.ts --warehouse FILE [--horizons 7,30,90,180]
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "../src/engines/duckdb/node-api.ts";
import { duckIdent } from "../src/engines/duckdb/engine.ts";
import { loadProjectSettings, type Settings } from "../src/config/settings.ts";
import { option } from "./measure.ts";

type Query = (sql: string) => Promise<Record<string, unknown>[]>;

export interface HorizonFigures {
  horizons: number[];
  /** Share of credit value more than H days before its transaction (index as `horizons`), per credit. */
  credit: { credit: string; beyond: (number | null)[] }[];
  /** Sessions with a client id, and those whose user id a horizon of H days would change (index as `horizons`). */
  identity: { sessions: number; differing: number[] };
  /** Chains with a session on the newest day, of all chains, and how many days before it their first session lies. */
  touchedChains: { touched: number; chains: number; p50: number; p90: number; p99: number; max: number };
}

export async function horizonFigures(query: Query, datasets: Settings["datasets"], horizons: readonly number[]): Promise<HorizonFigures> {
  const t = (dataset: string, table: string): string => `${duckIdent(dataset)}.${duckIdent(table)}`;
  const transactions = t(datasets.intermediate, "transactions");
  const sessions = t(datasets.intermediate, "sessions");
  const identity = t(datasets.intermediate, "int_session_identity");
  const beyond = (age: string, value: string): string => horizons.map((h, i) => `COALESCE(SUM(${value}) FILTER (WHERE ${age} > ${h}), 0) / SUM(${value}) AS "h${i}"`).join(", ");
  const shares = (r: Record<string, unknown>): (number | null)[] => horizons.map((_, i) => (r[`h${i}`] === null ? null : Number(r[`h${i}`])));
  const [owox] = await query(`SELECT ${beyond("date_diff('second', c.event_at, x.transaction_at) / 86400", "c.value")}
    FROM ${t(datasets.outputs, "funnel_event_credit")} AS c JOIN ${transactions} AS x USING (transaction_id)`);
  const families = await query(`SELECT regexp_replace(c.model, '_.*', '') AS family, ${beyond("date_diff('second', s.session_start_at, x.transaction_at) / 86400", "c.value")}
    FROM ${t(datasets.outputs, "session_credit")} AS c JOIN ${transactions} AS x USING (transaction_id) JOIN ${sessions} AS s ON s.session_key = c.session_key
    GROUP BY family ORDER BY family`);
  const differing: number[] = [];
  let withClient = 0;
  for (const h of horizons) {
    const [r] = await query(`WITH logins AS (
        SELECT client_id, session_start_at AS login_at, session_user_id AS login_user FROM ${identity}
        WHERE client_id IS NOT NULL AND session_user_id IS NOT NULL AND NOT is_user_id_distrusted),
      s AS (SELECT client_id, user_id, session_start_at + INTERVAL ${h} DAY AS reach FROM ${identity} WHERE client_id IS NOT NULL)
      SELECT count(*) AS n, count(*) FILTER (WHERE s.user_id IS DISTINCT FROM l.login_user) AS differ
      FROM s ASOF LEFT JOIN logins AS l ON s.client_id = l.client_id AND s.reach >= l.login_at`);
    withClient = Number(r!.n);
    differing.push(Number(r!.differ));
  }
  const [c] = await query(`WITH newest AS (SELECT MAX(session_date) AS d FROM ${sessions} WHERE source_system = 'ga4'),
      touched AS (SELECT DISTINCT chain_key FROM ${sessions}, newest WHERE session_date = newest.d),
      depth AS (SELECT date_diff('day', MIN(s.session_date), ANY_VALUE(newest.d)) AS days FROM ${sessions} AS s JOIN touched USING (chain_key), newest GROUP BY chain_key)
    SELECT count(*) AS touched, (SELECT count(DISTINCT chain_key) FROM ${sessions}) AS chains,
      quantile_disc(days, 0.5) AS p50, quantile_disc(days, 0.9) AS p90, quantile_disc(days, 0.99) AS p99, max(days) AS max FROM depth`);
  return {
    horizons: [...horizons],
    credit: [{ credit: "owox_funnel (events)", beyond: shares(owox!) }, ...families.map((f) => ({ credit: `${String(f.family)}* (sessions)`, beyond: shares(f) }))],
    identity: { sessions: withClient, differing },
    touchedChains: { touched: Number(c!.touched), chains: Number(c!.chains), p50: Number(c!.p50), p90: Number(c!.p90), p99: Number(c!.p99), max: Number(c!.max) },
  };
}

export function horizonLines(f: HorizonFigures): string[] {
  const pct = (x: number | null): string => (x === null ? "—" : `${(100 * x).toFixed(2)} %`).padStart(8);
  const n = (x: number): string => x.toLocaleString("en-US");
  return [
    `share of credit value more than H days before its transaction, H = ${f.horizons.join(", ")} days:`,
    ...f.credit.map((c) => `  ${c.credit.padEnd(22)} ${c.beyond.map(pct).join(" ")}`),
    `sessions with a client id whose user id would differ if a login re-keyed only the sessions at most H days before it:`,
    `  ${f.horizons.map((h, i) => `H = ${h}: ${n(f.identity.differing[i]!)} (${pct(f.identity.differing[i]! / Math.max(1, f.identity.sessions)).trim()})`).join(", ")} of ${n(f.identity.sessions)}`,
    `chains with a session on the newest day: ${n(f.touchedChains.touched)} of ${n(f.touchedChains.chains)}; their first session that many days before it: ` +
      `median ${f.touchedChains.p50}, p90 ${f.touchedChains.p90}, p99 ${f.touchedChains.p99}, max ${f.touchedChains.max}`,
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const warehouse = option("--warehouse", "");
  if (!warehouse) throw new Error("--warehouse FILE: a DuckDB warehouse built by a full refresh");
  const { settings } = loadProjectSettings(path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."));
  const instance = await DuckDBInstance.create(warehouse, { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  try {
    const query: Query = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
    for (const line of horizonLines(await horizonFigures(query, settings.datasets, option("--horizons", "7,30,90,180").split(",").map(Number)))) console.log(line);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
