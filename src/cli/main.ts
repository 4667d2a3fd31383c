#!/usr/bin/env node
/** funnelcredit CLI: compile, run, demo, import, report. */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { UserError } from "../util/errors.ts";
import { EngineError } from "../engines/engine.ts";
import { compileCommand } from "./commands/compile.ts";
import { runCommand } from "./commands/run.ts";
import { importCommand } from "./commands/import.ts";
import { demoCommand } from "./commands/demo.ts";
import { reportCommand } from "./commands/report.ts";
import { pushCommand } from "./commands/push.ts";
import { benchmarkCommand } from "./commands/benchmark.ts";

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName("funnelcredit")
    .command(compileCommand)
    .command(runCommand)
    .command(importCommand)
    .command(demoCommand)
    .command(reportCommand)
    .command(pushCommand)
    .command(benchmarkCommand)
    .demandCommand(1, "name a command (see --help)")
    .strict()
    .fail((msg, err) => {
      throw err ?? new UserError(msg);
    })
    .help()
    .parseAsync();
}

main(hideBin(process.argv)).catch((e: unknown) => {
  if (e instanceof UserError || e instanceof EngineError) {
    process.stderr.write(`error: ${e.message}\n`);
  } else {
    process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  }
  process.exitCode = process.exitCode || 2;
});
