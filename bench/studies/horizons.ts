/**
 * Study (#14): how much of a built warehouse's credit and identity depends on data older than a horizon. A daily run
 * that reads only its window's days plus H days before them can be exact only if nothing older changes what it
 * writes; this measures, on a warehouse built by a full refresh, what a horizon of H days would move:
 *
 * 1. the OWOX funnel credit (funnel_event_credit) on events more than H days before their transaction;
 * 2. per model family, the session credit (session_credit) on sessions more than H days before the transaction;
 * 3. identity: sessions whose resolved user id would differ if a login re-keyed only a client's sessions at most
 *    H days before it (today a client's every session takes the user id of its last trusted login, however late);
 * 4. the chains with a session on the newest day: how far back their first session lies (what a run rebuilding
 *    the chains it touches would read, by partition).
 *
 * The cost plan's simulated property (10,000 users × 395 days) is the usual input:
 *
 *   npx tsx bench/stage-cost-plan.ts /tmp/cp.duckdb 10000 395   # builds it (≈ 2.5 min), then plans it
 *   npx tsx bench/studies/horizons.ts --warehouse /tmp/cp.duckdb [--horizons 7,30,90,180]
 *
 * Read-only; the warehouse's datasets as workflow_settings.yaml names them.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "../../src/engines/duckdb/node-api.ts";
import { duckIdent } from "../../src/engines/duckdb/engine.ts";
import { loadProjectSettings } from "../../src/config/settings.ts";
import { option } from "../measure.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const warehouse = option("--warehouse", "");
if (!warehouse) throw new Error("--warehouse FILE: a DuckDB warehouse built by a full refresh (see the comment above)");
const horizons = option("--horizons", "7,30,90,180").split(",").map(Number);
const { settings } = loadProjectSettings(ROOT);
const t = (dataset: string, table: string): string => `${duckIdent(dataset)}.${duckIdent(table)}`;
const credit = t(settings.datasets.outputs, "funnel_event_credit");
const sessionCredit = t(settings.datasets.outputs, "session_credit");
const transactions = t(settings.datasets.intermediate, "transactions");
const sessions = t(settings.datasets.intermediate, "sessions");
const identity = t(settings.datasets.intermediate, "int_session_identity");

const instance = await DuckDBInstance.create(warehouse, { access_mode: "READ_ONLY" });
const conn = await instance.connect();
const rows = async (sql: string): Promise<Record<string, unknown>[]> => (await conn.runAndReadAll(sql)).getRowObjectsJS();
const pct = (x: unknown): string => (x === null || x === undefined ? "—" : `${(100 * Number(x)).toFixed(2)} %`.padStart(8));

try {
  const ageBeyond = (age: string, value: string): string => horizons.map((h) => `SUM(${value}) FILTER (WHERE ${age} > ${h}) / SUM(${value}) AS "h${h}"`).join(", ");
  console.log(`share of credit value more than H days before its transaction (H = ${horizons.join(", ")})`);
  const [owox] = await rows(`SELECT ${ageBeyond("date_diff('second', c.event_at, x.transaction_at) / 86400", "c.value")}
    FROM ${credit} AS c JOIN ${transactions} AS x USING (transaction_id)`);
  console.log(`  ${"owox_funnel (events)".padEnd(22)} ${horizons.map((h) => pct(owox![`h${h}`])).join(" ")}`);
  const families = await rows(`SELECT regexp_replace(c.model, '_.*', '') AS family, ${ageBeyond("date_diff('second', s.session_start_at, x.transaction_at) / 86400", "c.value")}
    FROM ${sessionCredit} AS c JOIN ${transactions} AS x USING (transaction_id) JOIN ${sessions} AS s ON s.session_key = c.session_key
    GROUP BY family ORDER BY family`);
  for (const f of families) console.log(`  ${`${String(f.family)}* (sessions)`.padEnd(22)} ${horizons.map((h) => pct(f[`h${h}`])).join(" ")}`);

  console.log(`\nsessions with a client id whose resolved user id would differ if a login re-keyed only the sessions at most H days before it`);
  for (const h of horizons) {
    const [r] = await rows(`WITH logins AS (
        SELECT client_id, session_start_at AS login_at, session_user_id AS login_user FROM ${identity}
        WHERE client_id IS NOT NULL AND session_user_id IS NOT NULL AND NOT is_user_id_distrusted),
      s AS (SELECT client_id, user_id, session_start_at + INTERVAL ${h} DAY AS reach FROM ${identity} WHERE client_id IS NOT NULL)
      SELECT count(*) AS n, count(*) FILTER (WHERE s.user_id IS DISTINCT FROM l.login_user) AS differ
      FROM s ASOF LEFT JOIN logins AS l ON s.client_id = l.client_id AND s.reach >= l.login_at`);
    console.log(`  H = ${String(h).padStart(3)} days: ${Number(r!.differ).toLocaleString("en-US")} of ${Number(r!.n).toLocaleString("en-US")} (${pct(Number(r!.differ) / Number(r!.n)).trim()})`);
  }

  const [chains] = await rows(`WITH newest AS (SELECT MAX(session_date) AS d FROM ${sessions} WHERE source_system = 'ga4'),
      touched AS (SELECT DISTINCT chain_key FROM ${sessions}, newest WHERE session_date = newest.d),
      depth AS (SELECT date_diff('day', MIN(s.session_date), ANY_VALUE(newest.d)) AS days FROM ${sessions} AS s JOIN touched USING (chain_key), newest GROUP BY chain_key)
    SELECT count(*) AS touched, (SELECT count(DISTINCT chain_key) FROM ${sessions}) AS chains,
      quantile_cont(days, 0.5) AS p50, quantile_cont(days, 0.9) AS p90, quantile_cont(days, 0.99) AS p99, max(days) AS max FROM depth`);
  console.log(`\nchains with a session on the newest day: ${Number(chains!.touched).toLocaleString("en-US")} of ${Number(chains!.chains).toLocaleString("en-US")}; ` +
    `their first session that many days before it: median ${chains!.p50}, p90 ${chains!.p90}, p99 ${chains!.p99}, max ${chains!.max}`);
} finally {
  conn.closeSync();
  instance.closeSync();
}
