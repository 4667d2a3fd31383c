#!/usr/bin/env node
/** funnelcredit CLI: compile, run, demo, import, report. */
import { createRequire } from "node:module";
import type Yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { UserError } from "../util/errors.ts";
import { EngineError } from "../engines/engine.ts";
import { compileCommand } from "./commands/compile.ts";
import { runCommand } from "./commands/run.ts";
import { importCommand } from "./commands/import.ts";
import { demoCommand } from "./commands/demo.ts";
import { reportCommand } from "./commands/report.ts";
import { pushCommand } from "./commands/push.ts";

// yargs' CommonJS build: its help layout wraps at word boundaries (wrap-ansi); the ESM build's cuts
// words in half ("schedul ers").
const yargs = createRequire(import.meta.url)("yargs") as typeof Yargs;

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName("funnelcredit")
    .command(compileCommand)
    .command(runCommand)
    .command(importCommand)
    .command(demoCommand)
    .command(reportCommand)
    .command(pushCommand)
    .demandCommand(1, "name a command (see --help)")
    .strict()
    .fail((msg, err) => {
      // yargs reports usage errors, and errors thrown by an option's coerce, as YError: the user's to fix.
      throw err && err.name !== "YError" ? err : new UserError(err?.message ?? msg);
    })
    .help()
    // Help at the terminal's width, at most 100 columns (100 when not a terminal).
    .wrap(Math.min(100, process.stdout.columns || 100))
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
