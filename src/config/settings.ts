/**
 * The one config reader for TypeScript: workflow_settings.yaml, with vars parsed by the same
 * includes/settings.js the Dataform models use (loaded in a VM context like Dataform does).
 */
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { parse as parseYaml, YAMLError } from "yaml";
import { SettingsError } from "../util/errors.ts";

export interface FunnelStep {
  name: string;
  match: { event_name?: string; page_path_regex?: string; ecommerce_action?: string; hostname?: string; non_bounce?: boolean };
  enabled: boolean;
}
export interface ChannelRule { channel: string; source?: string; medium?: string; campaign?: string }

export interface Settings {
  datasets: { staging: string; intermediate: string; outputs: string; models: string; meta: string; reporting: string; ga4: string; sources: string };
  /** Project of the GA4 export (vars.ga4_project); undefined = the default project. */
  ga4Project?: string;
  /**
   * vars.ga4_optional_columns: which columns that older GA4 exports lack the export has; `auto`: not resolved from
   * the warehouse (then both are assumed; the runner resolves it before compiling, src/compile/ga4-columns.ts).
   */
  ga4OptionalColumns: { auto: boolean; collectedTrafficSource: boolean; batchEventIndex: boolean };
  startDate: string;
  reprocessDays: number;
  lookbackDays: number;
  /** One journey per conversion: a journey starts after the chain's previous conversion (vars.journey_reset_at_conversion). */
  journeyResetAtConversion: boolean;
  maxPathLength: number;
  maxSessionsPerUserDay: number;
  invalidUserIds: string[];
  excludedSources: string[];
  conversionEvents: string[];
  /** vars.crm_confirms_transactions: when a GA4 transaction needs a completed CRM transaction to be distributed. */
  crmConfirmsTransactions: "auto" | "always" | "never";
  funnelSteps: FunnelStep[];
  channelRules: ChannelRule[];
  pathTransform: "unique" | "exposure" | "first" | "frequency";
  pathRemoveChannels: string[];
  nonDirectExcludedChannels: string[];
  /** "continuous": 0.5^(Δt/half-life); "step": 0.5^floor(Δt/step), as DP6 MAM. */
  timeDecayMode: "continuous" | "step";
  timeDecayHalfLifeDays: number;
  timeDecayStepDays: number;
  positionBasedWeights: [number, number, number];
  markovOrder: number;
  markovUseNulls: boolean;
  /** OWOX: half-life (days) of the time decay among identical events (vars.owox_decay_half_life_days). */
  owoxDecayHalfLifeDays: number;
  reliabilityRule: "half_width_95" | "min_count";
  reliabilityMaxHalfWidth: number;
  reliabilityMinTransitions: number;
  shapleyMaxExactChannels: number;
  /** Shapley value function (vars.shapley_value_function); see src/models/shapley.ts. */
  shapleyValueFunction: "subset_conversions" | "exact_set_rate" | "containing_set_rate";
  mlMinAuc: number;
  driftMaxAucDrop: number;
  maxChannelShare: number;
  /** vars.ml_split as fractions [train, validate, test], summing to 1. */
  mlSplit: [number, number, number];
  /** Days at the end of the data left out of fitting and testing (open journeys are right-censored). */
  mlCensorDays: number;
  mlShapleyMaxExactChannels: number;
  mlShapleyPermutations: number;
  mlMaxRounds: number;
  mlMaxDepth: number;
  mlLearningRate: number;
  mlEarlyStoppingRounds: number;
  mlSeed: number;
  mlCalibratedMethod: "removal_effect" | "shapley" | "treeshap";
  mlMaxFeatureRows: number;
  /** vars.xgboost_backend: XGBoost backend of the ML attribution and lead-scoring models. */
  xgboostBackend: "auto" | "wasm" | "native";
  badRowMaxShare: number;
  /** vars.bad_row_warn_share: staged custom events quarantined above this share are a warning, below it a note. */
  badRowWarnShare: number;
  currency: string;
  hashUserIds: boolean;
  maxSessionsWithoutSourceShare: number;
  pathSource: "warehouse" | "import";
  /** Data-quality assertions (by name) that fail the run instead of warning. */
  failingAssertions: string[];
  minIdentityResolvedShare: number;
  userPropertiesWindowDays: number;
  /** Lead scoring (jobs/lead-scoring.ts, definitions/leads). */
  leadSplit: "time" | "random";
  leadValidationShare: number;
  leadTestShare: number;
  leadSplitSeed: number;
  /** Score 0–100 at or above which a lead is predicted to convert. */
  leadScoreCutoff: number;
  leadCutoffHours: number;
  leadBehaviourLookbackDays: number;
  leadIntentPageRegex: string;
  leadDownloadEventRegex: string;
  leadLabelMaturityDays: number;
  leadExcludeColumns: string[];
  leadCategoricalEncoding: "one_hot" | "ordinal";
  /** Validated by the XGBoost engine's resolveParams when the job runs. */
  leadXgbParams: Record<string, unknown>;
  leadMaxRounds: number;
  /** What lead scoring does with leaking columns (src/lead-scoring/leakage.ts): name them and train, or fail. */
  leadLeakage: "warn" | "refuse";
  /** Single-feature AUC above which a lead column counts as leaking the outcome. */
  leadLeakageMaxAuc: number;
  leadRetrain: "always" | "if_needed" | "never";
  psiMax: number;
  /** Most rows a job reads from one query (vars.max_job_rows); past it the job fails naming the setting. */
  maxJobRows: number;
  /** BigQuery bytes cap per job (vars.maximum_bytes_billed, 0 = none); `--maximum-bytes-billed` overrides it. */
  maximumBytesBilled: number;
  /** Default of `import --bad-rows` (vars.import_bad_rows). */
  importBadRows: "quarantine" | "reject";
  /** `push lead-scores`: longest wait for one request's answer (vars.crm_request_timeout_seconds). */
  crmRequestTimeoutSeconds: number;
  /** `push lead-scores`: longest time for the whole push (vars.crm_push_timeout_seconds). */
  crmPushTimeoutSeconds: number;
}

export interface WorkflowSettings {
  defaultProject: string;
  defaultDataset: string;
  defaultLocation: string;
  defaultAssertionDataset: string;
  vars: Record<string, string>;
}

export interface ProjectSettings {
  projectDir: string;
  workflow: WorkflowSettings;
  settings: Settings;
}

interface SettingsModule {
  /** `overridden`: names given with `--vars`, so that an error names where the bad value came from. */
  parseSettings(vars: Record<string, string>, overridden?: string[]): Settings;
}

function loadSettingsModule(projectDir: string, defaultSchema: string): SettingsModule {
  const file = path.join(projectDir, "includes", "settings.js");
  const module = { exports: {} as Record<string, unknown> };
  // No vars at load time: the module's own parse of them (what Dataform's compile uses) would throw
  // before parseSettings could say which came from --vars.
  const context = vm.createContext({ module, exports: module.exports, dataform: { projectConfig: { defaultSchema, vars: {} } } });
  vm.runInContext(readFileSync(file, "utf8"), context, { filename: file });
  return module.exports as unknown as SettingsModule;
}

export function readWorkflowSettings(projectDir: string): WorkflowSettings {
  const file = path.join(projectDir, "workflow_settings.yaml");
  if (!existsSync(file)) throw new SettingsError(`no workflow_settings.yaml in ${projectDir}: run funnelcredit from the project folder or pass --project`);
  let raw: Record<string, unknown>;
  try {
    raw = (parseYaml(readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof YAMLError)) throw e;
    // The yaml library's message already says "at line L, column C" and quotes the line.
    throw new SettingsError(`${file}: not valid YAML: ${e.message.trim()}`);
  }
  if (typeof raw !== "object" || Array.isArray(raw)) throw new SettingsError(`${file}: expected a YAML mapping (defaultProject: …, vars: …), got ${Array.isArray(raw) ? "a list" : typeof raw}`);
  for (const k of ["defaultProject", "defaultDataset", "defaultLocation"]) {
    if (typeof raw[k] !== "string" || !raw[k]) throw new SettingsError(`workflow_settings.yaml: ${k} is required`);
  }
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries((raw.vars as Record<string, unknown>) ?? {})) {
    if (typeof v !== "string") throw new SettingsError(`workflow_settings.yaml vars.${k}: Dataform vars are strings; quote the value (e.g. ${k}: "${JSON.stringify(v)}")`);
    vars[k] = v;
  }
  return {
    defaultProject: raw.defaultProject as string,
    defaultDataset: raw.defaultDataset as string,
    defaultLocation: raw.defaultLocation as string,
    defaultAssertionDataset: (raw.defaultAssertionDataset as string) ?? `${raw.defaultDataset}_assertions`,
    vars,
  };
}

/** Read and validate every setting; errors name the var. `overrides` are `--vars` from the CLI. */
export function loadProjectSettings(projectDir: string, overrides: Record<string, string> = {}): ProjectSettings {
  const workflow = readWorkflowSettings(projectDir);
  workflow.vars = { ...workflow.vars, ...overrides };
  let settings: Settings;
  try {
    settings = loadSettingsModule(projectDir, workflow.defaultDataset).parseSettings(workflow.vars, Object.keys(overrides));
  } catch (e) {
    throw new SettingsError((e as Error).message);
  }
  return { projectDir, workflow, settings };
}
