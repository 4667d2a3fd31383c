/**
 * Whether a generated sample holds enough labelled leads for the lead-scoring model: a small demo (300 users × 14
 * days: 48 leads) does not, and `lead_scoring` would end the demo FAILED. Counted as the job counts them
 * (labelOf on each lead of the leads source, its cut-off created_at + lead_cutoff_hours as lead_features sets it).
 */
import type { LocalLoading } from "../engines/engine.ts";
import type { Settings } from "../config/settings.ts";
import { heldBack, labelOf, tooFewLabels } from "../lead-scoring/dataset.ts";

/** Why the sample's leads are too few for lead scoring at `now`; undefined when they are enough. */
export async function sampleLeadShortfall(local: LocalLoading, sourcesSchema: string, settings: Settings, now: Date): Promise<string | undefined> {
  const { connection, ident: q } = local;
  const rows = (await connection.runAndReadAll(
    `SELECT epoch_ms(created_at), epoch_ms(converted_at), converted FROM ${q(sourcesSchema)}.${q("leads")} WHERE lead_id IS NOT NULL`,
  )).getRows();
  const ms = (v: unknown): number | null => (v === null ? null : Number(v));
  const leads = rows.map(([created, convertedAt, converted]) => {
    const createdAt = ms(created);
    return { leadId: "", row: {}, createdAt, convertedAt: ms(convertedAt), converted: converted as boolean | null, cutoffAt: createdAt === null ? null : createdAt + settings.leadCutoffHours * 3_600_000 };
  });
  const labels = leads.flatMap((l) => {
    const y = labelOf(l, now.getTime(), settings.leadLabelMaturityDays);
    return y === null ? [] : [y];
  });
  return tooFewLabels(labels, leads.filter((l) => heldBack(l, now.getTime(), settings.leadLabelMaturityDays)).length);
}
