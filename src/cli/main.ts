#!/usr/bin/env node
/** funnelcredit CLI: compile, run, demo, import, report, push. Exit codes: README "Exit codes". */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { UserError } from "../util/errors.ts";
import { EngineError } from "../engines/engine.ts";
import { COMMANDS } from "./commands/index.ts";
import { installSignalHandlers } from "./signals.ts";

export async function main(argv: string[]): Promise<void> {
  let y = yargs(argv).scriptName("funnelcredit");
  // Load only the command named on the command line; the others are listed by name and description.
  for (const c of COMMANDS) {
    y = argv.includes(c.name)
      ? y.command({ ...(await c.load()), command: c.command, describe: c.describe })
      : y.command(c.command, c.describe, {}, () => undefined);
  }
  await y
    .demandCommand(1, "name a command (see --help)")
    .strict()
    .fail((msg, err) => {
      throw err ?? new UserError(msg);
    })
    .help()
    .parseAsync();
}

installSignalHandlers();
main(hideBin(process.argv)).catch((e: unknown) => {
  if (e instanceof UserError || e instanceof EngineError) {
    process.stderr.write(`error: ${e.message}\n`);
  } else {
    process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  }
  process.exitCode = process.exitCode || 2;
});
