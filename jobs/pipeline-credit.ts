/**
 * Pipeline credit: credit for deals that have not closed yet. Every open lead's calibrated probability
 * (lead_scores, from the model in use) × its expected deal value, shared over the sessions that
 * brought the lead (its user_id or client_id, before its creation, within lookback_days) by
 * vars.pipeline_attribution_model, per channel and campaign. Logic in src/models/pipeline-credit.ts.
 */
import type { JobDefinition } from "../src/jobs/job.ts";
import type { Row, Value } from "../src/engines/engine.ts";
import { tableSchema } from "../src/catalog/index.ts";
import { pipelineCredit, type OpenLead } from "../src/models/pipeline-credit.ts";
import { neumaierSum } from "../src/models/numeric.ts";
import { UserError } from "../src/util/errors.ts";

const PIPELINE_CREDIT_SCHEMA = tableSchema("pipeline_credit");

function ms(v: Value | undefined): number | null {
  if (v === null || v === undefined) return null;
  const t = v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isNaN(t) ? null : t;
}

export const pipelineCreditJob: JobDefinition = {
  name: "pipeline_credit",
  description: "open leads' expected deal value credited to the channels and campaigns that brought them",
  reads: ["lead_scores", "lead_features", "sessions"],
  writes: ["pipeline_credit"],
  tags: ["leads"],
  // Its one read (the lead-schema check above is metadata): the open leads' touches.
  planQueries: (ctx) => [leadTouchesSql({ leadScores: ctx.ref("lead_scores"), leadFeatures: ctx.ref("lead_features"), sessions: ctx.ref("sessions") }, ctx.settings.lookbackDays, ctx.settings.leadDealValueColumn)],
  async run(ctx) {
    const s = ctx.settings;
    const dealColumn = s.leadDealValueColumn;
    if (dealColumn) {
      const cols = (await ctx.engine.tableSchema(ctx.target("lead_features"))).map((c) => c.name);
      if (!cols.includes(dealColumn)) throw new UserError(`vars.lead_deal_value_column = "${dealColumn}" is not a column of the leads source (lead_features has ${cols.join(", ")})`);
    }
    const rows: Row[] = await ctx.query(pipelineCreditJob.planQueries!(ctx)[0]!);

    const leads: OpenLead[] = [];
    for (const r of rows) {
      const id = String(r.lead_id);
      let lead = leads[leads.length - 1];
      if (!lead || lead.leadId !== id) {
        const p = Number(r.probability);
        if (!(p >= 0 && p <= 1)) throw new UserError(`lead_scores: lead ${id} has probability ${String(r.probability)}; expected 0–1 (re-run lead_scoring)`);
        const v = r.deal_value === null || r.deal_value === undefined ? s.leadDefaultDealValue : Number(r.deal_value);
        if (!Number.isFinite(v) || v < 0) throw new UserError(`leads: lead ${id} has ${dealColumn} = ${String(r.deal_value)}; an expected deal value must be a number ≥ 0 (vars.lead_deal_value_column)`);
        lead = { leadId: id, probability: p, dealValue: v, createdAt: ms(r.created_at) ?? 0, touches: [] };
        leads.push(lead);
      }
      if (r.session_key !== null && r.session_key !== undefined) {
        lead.touches.push({ channel: String(r.channel ?? "(none)"), campaign: r.campaign === null || r.campaign === undefined ? null : String(r.campaign), at: ms(r.session_start_at) ?? 0 });
      }
    }
    const credit = pipelineCredit(leads, s.pipelineAttributionModel, {
      nonDirectExcludedChannels: s.nonDirectExcludedChannels, timeDecayMode: s.timeDecayMode,
      timeDecayHalfLifeDays: s.timeDecayHalfLifeDays, timeDecayStepDays: s.timeDecayStepDays, positionBasedWeights: s.positionBasedWeights,
    });
    // Credit columns are rounded to 1e-9 like the other credit tables (byte-identical re-runs).
    const r9 = (x: number): number => Math.round(x * 1e9) / 1e9;
    const out = credit.map((c) => ({
      channel: c.channel, campaign: c.campaign, model: s.pipelineAttributionModel,
      open_leads: r9(c.open_leads), expected_conversions: r9(c.expected_conversions), pipeline_value: r9(c.pipeline_value), currency: s.currency,
    }));
    const rowsWritten = await ctx.write("pipeline_credit", PIPELINE_CREDIT_SCHEMA, out, "replace");
    const total = neumaierSum(leads.map((l) => l.probability * l.dealValue));
    const touched = leads.filter((l) => l.touches.length).length;
    return { rows: rowsWritten, metrics: { open_leads: leads.length, leads_with_web_touch: touched, pipeline_value: Math.round(total * 100) / 100 } };
  },
};

/**
 * GoogleSQL: one row per open lead and session before its creation (sessions of its user_id or
 * client_id within `lookbackDays`), or one row with NULL session columns for a lead with none;
 * `dealColumn` ("" = none) is read as the lead's deal value.
 */
export function leadTouchesSql(ref: { leadScores: string; leadFeatures: string; sessions: string }, lookbackDays: number, dealColumn: string): string {
  const deal = dealColumn ? `CAST(f.\`${dealColumn}\` AS FLOAT64)` : "CAST(NULL AS FLOAT64)";
  return `
      WITH open_leads AS (
        SELECT sc.lead_id, sc.probability, f.created_at, f.user_id, f.client_id, ${deal} AS deal_value
        FROM ${ref.leadScores} AS sc
        JOIN ${ref.leadFeatures} AS f USING (lead_id)
      ),
      sessions_by_user AS (
        SELECT l.lead_id, se.session_key, se.session_start_at, se.channel, se.campaign
        FROM open_leads AS l
        JOIN ${ref.sessions} AS se ON se.user_id = l.user_id
        WHERE se.session_start_at < l.created_at AND se.session_start_at >= TIMESTAMP_SUB(l.created_at, INTERVAL ${lookbackDays} DAY)
      ),
      sessions_by_client AS (
        SELECT l.lead_id, se.session_key, se.session_start_at, se.channel, se.campaign
        FROM open_leads AS l
        JOIN ${ref.sessions} AS se ON se.client_id = l.client_id
        WHERE se.session_start_at < l.created_at AND se.session_start_at >= TIMESTAMP_SUB(l.created_at, INTERVAL ${lookbackDays} DAY)
      ),
      lead_sessions AS (
        SELECT DISTINCT * FROM (SELECT * FROM sessions_by_user UNION ALL SELECT * FROM sessions_by_client)
      )
      SELECT l.lead_id, l.probability, l.deal_value, l.created_at, t.session_key, t.session_start_at, t.channel, t.campaign
      FROM open_leads AS l
      LEFT JOIN lead_sessions AS t USING (lead_id)
      ORDER BY l.lead_id, t.session_start_at, t.session_key`;
}
