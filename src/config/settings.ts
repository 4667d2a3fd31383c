/**
 * The one config reader for TypeScript: workflow_settings.yaml, with vars parsed by the same
 * includes/settings.js the Dataform models use (loaded in a VM context like Dataform does).
 */
import { createHash } from "node:crypto";
import { readFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";
import type * as Yaml from "yaml";
import { SettingsError } from "../util/errors.ts";
import { loadAttributionModels, type AttributionModel } from "./attribution-models.ts";

/**
 * The settings' types, read by TypeScript from includes/settings.js itself (its parseSettings and JSDoc
 * types): each setting is declared once, there, with its default, validation and type.
 */
type SettingsModuleTypes = typeof import("../../includes/settings.js");
export type FunnelStep = import("../../includes/settings.js").FunnelStep;
export type ChannelRule = import("../../includes/settings.js").ChannelRule;
export type MappedSource = import("../../includes/settings.js").MappedSource;

export type Settings = ReturnType<SettingsModuleTypes["parseSettings"]> & {
  /** The attribution model registry of the project (includes/attribution_models.js), for these settings. */
  attributionModels: readonly AttributionModel[];
};

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
  parseSettings(vars: Record<string, string>, overridden?: string[]): Omit<Settings, "attributionModels">;
}

function loadSettingsModule(projectDir: string, defaultSchema: string): SettingsModule {
  const file = path.join(projectDir, "includes", "settings.js");
  const module = { exports: {} as Record<string, unknown> };
  // No vars at load time: the module's own parse of them (what Dataform's compile uses) would throw
  // before parseSettings could say which came from --vars.
  // As in Dataform, where every includes/ file is a global: settings.js reads the source contracts from catalog.js.
  const catalogFile = path.join(projectDir, "includes", "catalog.js");
  const catalogModule = { exports: {} as Record<string, unknown> };
  vm.runInContext(readFileSync(catalogFile, "utf8"), vm.createContext({ module: catalogModule, exports: catalogModule.exports }), { filename: catalogFile });
  const context = vm.createContext({ module, exports: module.exports, catalog: catalogModule.exports, dataform: { projectConfig: { defaultSchema, vars: {} } } });
  vm.runInContext(readFileSync(file, "utf8"), context, { filename: file });
  return module.exports as unknown as SettingsModule;
}

/** Where the parsed workflow_settings.yaml is kept, with the SHA-256 of the text it was parsed from. */
export function workflowSettingsCopy(projectDir: string): string {
  return path.join(projectDir, ".funnelcredit", "workflow-settings.json");
}

/**
 * workflow_settings.yaml's text parsed, through a copy of the last parse keyed by the SHA-256 of the text:
 * loading the YAML library is a fifth of a command's start-up above Node's own (issue 15), and the file
 * rarely changes. Other text is parsed afresh and replaces the copy; a text that is not valid YAML is never
 * copied, so it fails every time. The copy is best effort (an unwritable folder only means parsing).
 * A JSON copy keeps every value the checks below accept (strings); the others fail with the same message.
 */
function parseWorkflowYaml(projectDir: string, file: string, text: string): unknown {
  const sha256 = createHash("sha256").update(text).digest("hex");
  const copy = workflowSettingsCopy(projectDir);
  try {
    const saved = JSON.parse(readFileSync(copy, "utf8")) as { sha256?: unknown; parsed?: unknown };
    if (saved.sha256 === sha256) return saved.parsed;
  } catch {
    // No copy yet, or not readable: parse.
  }
  const { parse, YAMLError } = createRequire(import.meta.url)("yaml") as typeof Yaml;
  let parsed: unknown;
  try {
    parsed = parse(text) ?? {};
  } catch (e) {
    if (!(e instanceof YAMLError)) throw e;
    // The yaml library's message already says "at line L, column C" and quotes the line.
    throw new SettingsError(`${file}: not valid YAML: ${e.message.trim()}`);
  }
  try {
    mkdirSync(path.dirname(copy), { recursive: true });
    const tmp = `${copy}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ sha256, parsed }));
    renameSync(tmp, copy);
  } catch {
    // Best effort: the next command parses again.
  }
  return parsed;
}

export function readWorkflowSettings(projectDir: string): WorkflowSettings {
  const file = path.join(projectDir, "workflow_settings.yaml");
  if (!existsSync(file)) throw new SettingsError(`no workflow_settings.yaml in ${projectDir}: run funnelcredit from the project folder or pass --project`);
  const raw = parseWorkflowYaml(projectDir, file, readFileSync(file, "utf8")) as Record<string, unknown>;
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
    const parsed = loadSettingsModule(projectDir, workflow.defaultDataset).parseSettings(workflow.vars, Object.keys(overrides));
    settings = { ...parsed, attributionModels: loadAttributionModels(projectDir, parsed) };
  } catch (e) {
    throw new SettingsError((e as Error).message);
  }
  return { projectDir, workflow, settings };
}
