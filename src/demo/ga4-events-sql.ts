/**
 * GA4 event shaping: the SQL expanding one day of a session table (session-table.ts) into rows of a GA4
 * BigQuery export, one per event code (event-codes.ts), with per-event detail (timestamp jitter, pages, bundle
 * ids) from `hash(session_key, event_index, seed)`.
 */
import type { LocalLoading } from "../engines/engine.ts";
import { ga4Field } from "../import/ga4-schema.ts";
import { EVENT_CODES, EVENT_JITTER_SECONDS, EVENT_STEP_SECONDS } from "./event-codes.ts";

const HOST = "https://shop.example.com";
const STREAM_ID = 3456789012;

/** One event_params entry; `kind` chooses the value member. NULL values are filtered out afterwards. */
function param(lit: (value: string) => string, key: string, kind: "string" | "int" | "double", expr: string): string {
  const v = (k: string, t: string): string => (kind === k ? `CAST(${expr} AS ${t})` : `CAST(NULL AS ${t})`);
  return `{'key': ${lit(key)}, 'value': {'string_value': ${v("string", "VARCHAR")}, 'int_value': ${v("int", "BIGINT")}, 'float_value': CAST(NULL AS DOUBLE), 'double_value': ${v("double", "DOUBLE")}}}`;
}

/** An event's timestamp (epoch micros) from its session's columns `ts`, `session_key` and its index `i`. */
function eventTimestamp(seed: number): string {
  return `ts + i * ${EVENT_STEP_SECONDS * 1_000_000} + CAST(hash(session_key, i, ${seed}) % ${EVENT_JITTER_SECONDS * 1_000_000} AS BIGINT)`;
}

/** Events with `from` <= event_timestamp < `to` (epoch micros). */
export interface EventWindow {
  from: bigint;
  to: bigint;
}

/**
 * The bounds (one per row, ascending) of `windows` event-timestamp windows that split the events of the sessions
 * in `sessionsTable` into parts of about equal count: the first starts at the earliest event, the last ends after
 * the latest; window k is [bound k, bound k + 1).
 * Events of one timestamp fall in one window, so the windows' events, each sorted as eventsSql sorts them,
 * follow each other in the order of the whole sort. Empty when there are no events.
 */
export function eventWindowsSql(sessionsTable: string, seed: number, windows: number): string {
  const cuts = Array.from({ length: windows - 1 }, (_, k) => ((k + 1) / windows).toFixed(6));
  const bounds = `list_concat([min(ets)], ${cuts.length ? `quantile_disc(ets, [${cuts.join(", ")}])` : "[]::BIGINT[]"}, [max(ets) + 1])`;
  return `SELECT bound FROM (
  SELECT unnest(${bounds}) AS bound
  FROM (SELECT ${eventTimestamp(seed)} AS ets FROM (SELECT ts, session_key, unnest(range(length(codes))) AS i FROM ${sessionsTable}))
) WHERE bound IS NOT NULL ORDER BY bound`;
}

/**
 * The events of the sessions in `sessionsTable` (one day's), in (event_timestamp, session, event index)
 * order. The sort runs on the session's plain columns, before any list or struct is built; the rows keep its
 * order through the projections above it (with preserve_insertion_order off, an ORDER BY below projections
 * still fixes an INSERT's order; a join would not). Sorting the finished rows (nested lists and structs) cost
 * the generator several times the memory. `window`: only the events in it (eventWindowsSql).
 */
export function eventsSql(local: LocalLoading, sessionsTable: string, seed: number, window?: EventWindow): string {
  const lit = local.literal;
  const names = Object.entries(EVENT_CODES).map(([c, n]) => `WHEN ${lit(c)} THEN ${lit(n)}`).join(" ");
  const pages = `[${["/", "/collections/apparel", "/collections/drinkware", "/collections/bags", "/collections/office", "/collections/lifestyle", "/sale", "/new-arrivals", "/search", "/account"].map(lit).join(", ")}]`;
  const itemsType = local.columnType(ga4Field("items"));
  const landing = `(i <= landing_i)`;
  const utm = `concat_ws('&', CASE WHEN tagged THEN 'utm_source=' || source || '&utm_medium=' || medium || '&utm_campaign=' || campaign END, CASE WHEN gclid IS NOT NULL THEN 'gclid=' || gclid END)`;
  const params = [
    param(lit, "ga_session_id", "int", "ga_session_id"),
    param(lit, "ga_session_number", "int", "ga_session_number"),
    param(lit, "page_location", "string", "page_location"),
    param(lit, "page_title", "string", "page_title"),
    param(lit, "page_referrer", "string", `CASE WHEN ${landing} THEN referrer ELSE '${HOST}/' END`),
    param(lit, "source", "string", `CASE WHEN ${landing} AND send_params THEN source END`),
    param(lit, "medium", "string", `CASE WHEN ${landing} AND send_params THEN medium END`),
    param(lit, "campaign", "string", `CASE WHEN ${landing} AND send_params THEN campaign END`),
    param(lit, "gclid", "string", `CASE WHEN ${landing} THEN gclid END`),
    param(lit, "entrances", "int", `CASE WHEN i = landing_i THEN 1 END`),
    param(lit, "session_engaged", "string", `CASE WHEN i > landing_i THEN '1' END`),
    param(lit, "engaged_session_event", "int", `CASE WHEN i > landing_i THEN 1 END`),
    param(lit, "engagement_time_msec", "int", `CASE WHEN code IN ('p', 'e') AND i > landing_i THEN 1000 + h % 60000 END`),
    param(lit, "currency", "string", `CASE WHEN code IN ('v', 'a', 'b', '$') THEN 'USD' END`),
    param(lit, "value", "double", `CASE WHEN code = '$' THEN revenue WHEN code IN ('a', 'b') THEN list_sum(list_transform(item_list, x -> x.price * x.quantity)) END`),
    param(lit, "transaction_id", "string", `CASE WHEN code = '$' THEN transaction_id END`),
  ];
  return `
WITH indexed AS (
  SELECT * EXCLUDE (day), i, ${eventTimestamp(seed)} AS ets
  FROM (SELECT *, unnest(range(length(codes))) AS i FROM ${sessionsTable})
),
ordered AS (
  SELECT * FROM indexed ${window ? `WHERE ets >= ${window.from} AND ets < ${window.to} ` : ""}ORDER BY ets, session_key, i
),
events AS (
  SELECT *, CAST(json_transform(items_json, ${lit(JSON.stringify([{ item_id: "VARCHAR", item_name: "VARCHAR", item_brand: "VARCHAR", item_category: "VARCHAR", price: "DOUBLE", price_in_usd: "DOUBLE", quantity: "BIGINT", item_revenue: "DOUBLE", item_revenue_in_usd: "DOUBLE", affiliation: "VARCHAR", item_list_name: "VARCHAR", item_list_index: "VARCHAR" }]))}) AS ${itemsType}) AS item_list,
         strpos(codes, 'p') - 1 AS landing_i, substr(codes, i + 1, 1) AS code, hash(session_key, i, ${seed}) AS h
  FROM ordered
),
pages AS (
  SELECT *,
    CASE WHEN i <= landing_i THEN landing_path
         WHEN code IN ('v', 'a') THEN '/product/' || item_list[1].item_id
         WHEN code = 'b' THEN '/checkout'
         WHEN code = '$' THEN '/checkout/confirmation'
         WHEN code = 'l' THEN '/bulk-orders/thank-you'
         ELSE ${pages}[1 + CAST(h % 10 AS INTEGER)] END AS path
  FROM events
),
segmented AS (
  SELECT *, replace(split_part(path, '/', -1), '-', ' ') AS seg FROM pages
),
located AS (
  SELECT *,
    '${HOST}' || path || CASE WHEN i <= landing_i AND (tagged OR gclid IS NOT NULL) THEN '?' || ${utm} ELSE '' END AS page_location,
    CASE WHEN path = '/' THEN 'Demo Store' WHEN path LIKE '/product/%' THEN item_list[1].item_name || ' | Demo Store' ELSE upper(left(seg, 1)) || substr(seg, 2) || ' | Demo Store' END AS page_title
  FROM segmented
)
SELECT
  strftime(make_timestamp(ets), '%Y%m%d') AS event_date,
  ets AS event_timestamp,
  CASE code ${names} END AS event_name,
  list_filter([${params.join(",\n    ")}], p -> p.value.string_value IS NOT NULL OR p.value.int_value IS NOT NULL OR p.value.double_value IS NOT NULL) AS event_params,
  CASE WHEN i > 0 THEN ets - ${EVENT_STEP_SECONDS * 1_000_000} END AS event_previous_timestamp,
  CASE WHEN code = '$' THEN revenue END AS event_value_in_usd,
  CAST(h % 2147483647 AS BIGINT) AS event_bundle_sequence_id,
  CAST(h % 900000 AS BIGINT) AS event_server_timestamp_offset,
  user_id,
  user_pseudo_id,
  {'analytics_storage': 'Yes', 'ads_storage': 'Yes', 'uses_transient_token': 'No'} AS privacy_info,
  CASE WHEN user_id IS NOT NULL THEN [{'key': 'customer_tier', 'value': {'string_value': tier, 'int_value': CAST(NULL AS BIGINT), 'float_value': CAST(NULL AS DOUBLE), 'double_value': CAST(NULL AS DOUBLE), 'set_timestamp_micros': ts}}] ELSE [] END AS user_properties,
  first_touch_ts AS user_first_touch_timestamp,
  {'revenue': ltv + CASE WHEN code = '$' THEN revenue ELSE 0 END, 'currency': 'USD'} AS user_ltv,
  {'category': dev_category, 'mobile_brand_name': dev_brand, 'mobile_model_name': dev_model, 'operating_system': dev_os,
   'operating_system_version': dev_os_version, 'language': language, 'is_limited_ad_tracking': 'No',
   'web_info': {'browser': dev_browser, 'browser_version': dev_browser_version}} AS device,
  {'continent': geo_continent, 'sub_continent': geo_sub_continent, 'country': geo_country, 'region': geo_region, 'city': geo_city, 'metro': '(not set)'} AS geo,
  {'medium': ft_medium, 'name': ft_name, 'source': ft_source} AS traffic_source,
  ${STREAM_ID} AS stream_id,
  'WEB' AS platform,
  {'hostname': 'shop.example.com'} AS event_dimensions,
  CASE WHEN code = '$' THEN {'total_item_quantity': quantity, 'purchase_revenue_in_usd': revenue, 'purchase_revenue': revenue,
    'shipping_value_in_usd': shipping, 'shipping_value': shipping, 'tax_value_in_usd': tax, 'tax_value': tax,
    'unique_items': unique_items, 'transaction_id': transaction_id} END AS ecommerce,
  CASE WHEN code IN ('v', 'a', 'b', '$') THEN item_list ELSE [] END AS items,
  CASE WHEN i <= landing_i AND (tagged OR gclid IS NOT NULL) THEN
    {'manual_campaign_name': CASE WHEN tagged THEN campaign END, 'manual_source': CASE WHEN tagged THEN source END,
     'manual_medium': CASE WHEN tagged THEN medium END, 'gclid': gclid} END AS collected_traffic_source,
  (strpos(codes, 'e') > 0) AS is_active_user,
  i AS batch_event_index,
  CAST(ga_session_id AS BIGINT) * 100 + CAST(h % 100 AS BIGINT) AS batch_page_id,
  ga_session_id AS batch_ordering_id
FROM located`;
}

