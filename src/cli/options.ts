/** Options shared by the commands, defined once. */
import path from "node:path";
import type { Argv } from "yargs";
import { ENGINES, ENGINE_KINDS } from "../engines/registry.ts";
import { SettingsError } from "../util/errors.ts";
import { Logger } from "../util/logger.ts";
import type { Selection } from "../dag/dag.ts";

export interface CommonArgs {
  project: string;
  json: boolean;
  verbose: boolean;
  vars?: string[];
  "dataset-suffix"?: string;
}

export interface EngineArgs extends CommonArgs {
  engine: string;
  warehouse: string;
  "memory-limit": string;
  threads?: number;
  "bq-project"?: string;
  location?: string;
  "maximum-bytes-billed"?: string;
  label?: string[];
  artifacts: string;
  "wait-for-lease": number;
}

export function commonOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option("project", { type: "string", default: process.cwd(), describe: "folder holding workflow_settings.yaml", coerce: (p: string) => path.resolve(p) })
    .option("json", { type: "boolean", default: false, describe: "machine-readable JSON log lines on stdout (for schedulers)" })
    .option("verbose", { type: "boolean", default: false, describe: "debug logging" })
    .option("vars", { type: "string", array: true, describe: "override settings: --vars lookback_days=30" })
    .option("dataset-suffix", { type: "string", describe: "suffix every dataset funnelcredit writes (dev/prod separation): same as --vars dataset_suffix=…" }) as unknown as Argv<T & CommonArgs>;
}

export function engineOptions<T>(y: Argv<T>): Argv<T & EngineArgs> {
  let out = commonOptions(y)
    .option("engine", { type: "string", choices: [...ENGINE_KINDS], default: "duckdb", describe: "warehouse engine" }) as unknown as Argv<T & CommonArgs>;
  // Each engine brings its own options (src/engines/<kind>/driver.ts).
  for (const driver of Object.values(ENGINES)) {
    for (const [name, o] of Object.entries(driver.options)) out = out.option(name, { ...o }) as unknown as Argv<T & CommonArgs>;
  }
  return artifactsOption(out)
    .option("wait-for-lease", { type: "number", default: 0, describe: "seconds to wait when another run holds the warehouse" }) as unknown as Argv<T & EngineArgs>;
}

/** `--artifacts`: where models and reports go (also for commands that do not open the warehouse). */
function artifactsOption<T>(y: Argv<T>): Argv<T & { artifacts: string }> {
  return y.option("artifacts", { type: "string", default: ".funnelcredit/artifacts", describe: "folder or gs://bucket/prefix for models and reports" }) as unknown as Argv<T & { artifacts: string }>;
}

/** The artifact location as the commands use it: a gs:// URI as given, a folder relative to --project. */
export function artifactsLocation(args: { project: string; artifacts: string }): string {
  return args.artifacts.startsWith("gs://") ? args.artifacts : path.resolve(args.project, args.artifacts);
}

/** The setting overrides of a command line: `--vars name=value …` and `--dataset-suffix` (vars.dataset_suffix). */
export function parseVars(args: Pick<CommonArgs, "vars" | "dataset-suffix">): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of args.vars ?? []) {
    const i = v.indexOf("=");
    if (i <= 0) throw new SettingsError(`--vars ${v}: expected name=value`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  const suffix = args["dataset-suffix"];
  if (suffix !== undefined) {
    if (out.dataset_suffix !== undefined && out.dataset_suffix !== suffix) {
      throw new SettingsError(`--dataset-suffix ${suffix} and --vars dataset_suffix=${out.dataset_suffix} disagree: give one of them`);
    }
    out.dataset_suffix = suffix;
  }
  return out;
}

export function loggerFor(args: CommonArgs): Logger {
  return new Logger({ json: args.json, level: args.verbose ? "debug" : "info" });
}

/** The selection flags of `run` and `plan` (Dataform's --actions/--tags with their include flags, dbt's --select/--exclude). */
export interface SelectionArgs {
  actions?: string[];
  tags?: string[];
  select?: string[];
  exclude?: string[];
  "include-deps": boolean;
  "include-dependents": boolean;
}

/** The selection flags; `verb` is what the command does with the selected actions ("run", "plan"). */
export function selectionOptions<T>(y: Argv<T>, verb: string): Argv<T & SelectionArgs> {
  return y
    .option("actions", { type: "string", array: true, describe: `action or table names to ${verb}` })
    .option("tags", { type: "string", array: true, describe: `${verb} actions with these tags` })
    .option("select", { type: "string", array: true, describe: "dbt-style selection: model, +model (with what it reads), model+ (with what reads it), +model+, tag:name" })
    .option("exclude", { type: "string", array: true, describe: "leave these out of the selection (of the whole DAG when nothing is selected): selectors of --select's form, e.g. lead_scoring+" })
    .option("include-deps", { type: "boolean", default: false, describe: `also ${verb} what the selection depends on` })
    .option("include-dependents", { type: "boolean", default: false, describe: `also ${verb} what depends on the selection` }) as unknown as Argv<T & SelectionArgs>;
}

/** The selection the flags make. */
export function selectionOf(args: SelectionArgs): Selection {
  return { actions: args.actions, tags: args.tags, includeDependencies: args["include-deps"], includeDependents: args["include-dependents"], select: args.select, exclude: args.exclude };
}
