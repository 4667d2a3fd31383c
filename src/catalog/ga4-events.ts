/**
 * The GA4 BigQuery export schema (`events_YYYYMMDD`, `events_intraday_YYYYMMDD`), derived by code from
 * `ga4-events-schema.json` (the DDL of `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20210109`,
 * copied from shared/data/ga4-obfuscated-sample-ecommerce/events_schema.json) so that imports, demo data and
 * the empty tables every engine creates are identical.
 *
 * Two kinds of correction are applied to that DDL, both following Google's published export schema
 * (https://support.google.com/analytics/answer/7029846):
 * - fields the obfuscated sample typed INTEGER only because Google nulled them out are given their real
 *   type (`user_properties.key` is a STRING, device ids are STRINGs, consent flags are "Yes"/"No" STRINGs);
 * - fields added to the export after 2021 that funnelcredit reads are appended at the end
 *   (`collected_traffic_source` (2023), `is_active_user`, `batch_*` (2024)).
 */
import { columnTypeOf } from "../googlesql/types.ts";
import type { ColumnSchema, ColumnType } from "../engines/engine.ts";
import rawSchema from "./ga4-events-schema.json" with { type: "json" };

interface BigQueryField {
  name: string;
  type: string;
  mode?: string;
  fields?: BigQueryField[];
}


function fromBigQuery(f: BigQueryField): ColumnSchema {
  const type = columnTypeOf(f.type);
  if (!type) throw new Error(`ga4-events-schema.json: unknown type ${f.type} of ${f.name}`);
  const c: ColumnSchema = { name: f.name, type };
  if (f.mode === "REPEATED" || f.mode === "REQUIRED") c.mode = f.mode;
  if (f.fields) c.fields = f.fields.map(fromBigQuery);
  return c;
}

/** Type corrections (dotted path → real GA4 export type); see the file comment. */
const TYPE_FIXES: Record<string, ColumnType> = {
  "privacy_info.analytics_storage": "STRING",
  "privacy_info.ads_storage": "STRING",
  "user_properties.key": "STRING",
  "user_properties.value.string_value": "STRING",
  "user_properties.value.float_value": "FLOAT64",
  "user_properties.value.double_value": "FLOAT64",
  "device.mobile_os_hardware_model": "STRING",
  "device.vendor_id": "STRING",
  "device.advertising_id": "STRING",
};

const s = (name: string): ColumnSchema => ({ name, type: "STRING" });

/** Export fields newer than the 2020–2021 sample, appended in this order. */
const ADDED_FIELDS: ColumnSchema[] = [
  {
    name: "collected_traffic_source",
    type: "RECORD",
    fields: [
      s("manual_campaign_id"),
      s("manual_campaign_name"),
      s("manual_source"),
      s("manual_medium"),
      s("manual_term"),
      s("manual_content"),
      s("manual_source_platform"),
      s("manual_creative_format"),
      s("manual_marketing_tactic"),
      s("gclid"),
      s("dclid"),
      s("srsltid"),
    ],
  },
  { name: "is_active_user", type: "BOOL" },
  { name: "batch_event_index", type: "INT64" },
  { name: "batch_page_id", type: "INT64" },
  { name: "batch_ordering_id", type: "INT64" },
];

function applyFixes(cols: ColumnSchema[], prefix: string): ColumnSchema[] {
  return cols.map((c) => {
    const p = prefix + c.name;
    const fix = TYPE_FIXES[p];
    const out: ColumnSchema = { ...c, ...(fix ? { type: fix } : {}) };
    if (c.fields) out.fields = applyFixes(c.fields, p + ".");
    return out;
  });
}

/** The columns of every `events_*` table, in order (GoogleSQL types). */
export const GA4_EVENTS_SCHEMA: readonly ColumnSchema[] = Object.freeze([
  ...applyFixes((rawSchema as BigQueryField[]).map(fromBigQuery), ""),
  ...ADDED_FIELDS,
]);

/** The sub-schema at a dotted path (`"items"`, `"event_params.value"`). */
export function ga4Field(path: string): ColumnSchema {
  let cols: readonly ColumnSchema[] = GA4_EVENTS_SCHEMA;
  let found: ColumnSchema | undefined;
  for (const part of path.split(".")) {
    found = cols.find((x) => x.name === part);
    if (!found) throw new Error(`not a GA4 export field: ${path}`);
    cols = found.fields ?? [];
  }
  return found!;
}
