/**
 * The attribution model registry (includes/attribution_models.js, shared with Dataform) as typed
 * data: the models session_credit, model_comparison and the report loop over. Loaded from the
 * project folder beside its settings, so a project's own registration is seen on both sides.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { SettingsError } from "../util/errors.ts";

type SessionCreditRule =
  /** A table at (session_key, transaction_id) grain with conversions and value (and `model` when shared). */
  | { touches: string; modelColumn: boolean }
  /**
   * One weight per channel (`model` column when shared), applied to each converting journey's touches;
   * a model with no positive weight credits no session.
   */
  | { channelWeights: string; weight: string; modelColumn?: boolean };

export interface AttributionModel {
  name: string;
  /** The TypeScript job that fits it; null when SQL builds its credit. */
  job: string | null;
  description: string;
  sessionCredit: SessionCreditRule;
  /** Its credit per channel (`channel`, `conversions`, `value`; `model` when several models share the table). */
  channelCredit: { table: string; modelColumn: boolean };
}

interface RegistryModule { attributionModels(settings: unknown): AttributionModel[] }

/** The models registered in `projectDir` for these (parsed) settings; a malformed entry fails naming it. */
export function loadAttributionModels(projectDir: string, settings: unknown): readonly AttributionModel[] {
  const file = path.join(projectDir, "includes", "attribution_models.js");
  if (!existsSync(file)) throw new SettingsError(`${file} is missing: the attribution model registry (see the README, "Adding a model")`);
  const module = { exports: {} as Partial<RegistryModule> };
  vm.runInContext(readFileSync(file, "utf8"), vm.createContext({ module, exports: module.exports, settings }), { filename: file });
  if (typeof module.exports.attributionModels !== "function") throw new SettingsError(`${file} must export attributionModels(settings)`);
  // A JSON copy: plain objects of this realm, not of the VM context's.
  const models = JSON.parse(JSON.stringify(module.exports.attributionModels(settings))) as AttributionModel[];
  const seen = new Set<string>();
  for (const [i, m] of models.entries()) {
    const where = `${file}: model ${i + 1}${typeof m?.name === "string" ? ` (${m.name})` : ""}`;
    if (typeof m?.name !== "string" || !/^[a-z][a-z0-9_]*$/.test(m.name)) throw new SettingsError(`${where}: name must be lower_snake_case`);
    if (seen.has(m.name)) throw new SettingsError(`${where}: the name ${m.name} is registered twice`);
    seen.add(m.name);
    const sc = m.sessionCredit as Partial<{ touches: string; channelWeights: string; weight: string }> | undefined;
    if (!sc || (typeof sc.touches !== "string") === (typeof sc.channelWeights !== "string")) {
      throw new SettingsError(`${where}: sessionCredit needs exactly one of { touches: TABLE } or { channelWeights: TABLE, weight: COLUMN }`);
    }
    if (typeof sc.channelWeights === "string" && typeof sc.weight !== "string") throw new SettingsError(`${where}: sessionCredit.channelWeights needs weight: COLUMN`);
    const mc = (sc as { modelColumn?: unknown }).modelColumn;
    if (mc !== undefined && typeof mc !== "boolean") throw new SettingsError(`${where}: sessionCredit.modelColumn must be true or false`);
    if (typeof m.channelCredit?.table !== "string") throw new SettingsError(`${where}: channelCredit.table is required`);
  }
  return Object.freeze(models.map((m) => Object.freeze(m)));
}
