/**
 * The commands, each loaded only when it is named on the command line: `--help` and one command's
 * start-up never load the other commands' dependencies (DuckDB, the BigQuery client, Vega).
 * `command` and `describe` are what the top-level help lists; test/cli.test.ts checks they are the
 * command module's own.
 */
import type { CommandModule } from "yargs";

interface CommandEntry {
  name: string;
  command: string;
  describe: string;
  load: () => Promise<CommandModule>;
}

/** Each command has its own argument type; the registry only hands the module to yargs. */
function lazy<A>(load: () => Promise<CommandModule<object, A>>): () => Promise<CommandModule> {
  return load as unknown as () => Promise<CommandModule>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: "compile", command: "compile",
    describe: "compile the Dataform project (offline) and print the action graph as JSON",
    load: lazy(async () => (await import("./compile.ts")).compileCommand),
  },
  {
    name: "run", command: "run",
    describe: "run the DAG (or selected actions/tags) on the chosen engine",
    load: lazy(async () => (await import("./run.ts")).runCommand),
  },
  {
    name: "plan", command: "plan",
    describe: "print the bytes BigQuery would process and their on-demand cost, per action and in total, for a first run and for a daily incremental run (dry runs; nothing is written)",
    load: lazy(async () => (await import("./plan.ts")).planCommand),
  },
  {
    name: "runs", command: "runs",
    describe: "list recent runs, newest first: status, duration, actions and warnings (run history and run records)",
    load: lazy(async () => (await import("./runs.ts")).runsCommand),
  },
  {
    name: "show", command: "show <table>",
    describe: "print the first rows of a warehouse table or view (a model, source, job output or meta table)",
    load: lazy(async () => (await import("./show.ts")).showCommand),
  },
  {
    name: "quarantine", command: "quarantine",
    describe: "print the rows set aside as bad input, with their reasons: counts per reason and the newest rows of each quarantine table",
    load: lazy(async () => (await import("./quarantine.ts")).quarantineCommand),
  },
  {
    name: "import", command: "import <kind> <files..>",
    describe: "load local exports into the embedded warehouse: ga4 (NDJSON export), transactions, custom-events, costs, paths (ChannelAttribution CSV), leads, dp6",
    load: lazy(async () => (await import("./import.ts")).importCommand),
  },
  {
    name: "demo", command: "demo",
    describe: "generate the deterministic sample warehouse (GA4 export, CRM, custom events, costs, leads) and run the whole pipeline on it",
    load: lazy(async () => (await import("./demo.ts")).demoCommand),
  },
  {
    name: "report", command: "report",
    describe: "write the HTML report of a run (default: the latest) to the artifacts folder",
    load: lazy(async () => (await import("./report.ts")).reportCommand),
  },
  {
    name: "push", command: "push <what>",
    describe: "send changed lead scores to a CRM endpoint (JSON batches, bearer token, retries, dead letters)",
    load: lazy(async () => (await import("./push.ts")).pushCommand),
  },
  {
    name: "models", command: "models <action> [id]",
    describe: "lead-scoring model versions: list, promote ID (make that version current), rollback (to the model current before the last change)",
    load: lazy(async () => (await import("./models.ts")).modelsCommand),
  },
  {
    name: "bi", command: "bi <what>",
    describe: "files for BI tools: `bi lookml --out DIR` writes a LookML view per reporting view, typed from the warehouse",
    load: lazy(async () => (await import("./bi.ts")).biCommand),
  },
  {
    name: "serve", command: "serve",
    describe: "score leads on request over HTTP with the current lead-scoring model (loopback by default; bearer token elsewhere)",
    load: lazy(async () => (await import("./serve.ts")).serveCommand),
  },
  {
    name: "benchmark", command: "benchmark",
    describe: "accuracy benchmark: worlds with known channel effects through the whole pipeline; appends <base>_meta.model_accuracy and prints each model's distance to the true shares",
    load: lazy(async () => (await import("./benchmark.ts")).benchmarkCommand),
  },
];
