import type { CommandModule } from "yargs";
import { engineOptions, type EngineArgs } from "../options.ts";
import { withSession } from "../session.ts";
import { pushLeadScores } from "../../crm/index.ts";

interface PushArgs extends EngineArgs {
  what: string;
  to: string;
  "token-env": string;
  "batch-size": number;
  "max-retries": number;
}

export const pushCommand: CommandModule<object, PushArgs> = {
  command: "push <what>",
  describe: "send changed lead scores to a CRM endpoint (JSON batches, bearer token, retries, dead letters)",
  builder: (y) =>
    engineOptions(y)
      .positional("what", { type: "string", choices: ["lead-scores"], demandOption: true })
      .option("to", { type: "string", demandOption: true, describe: "HTTP(S) endpoint receiving POSTed batches" })
      .option("token-env", { type: "string", default: "FUNNELCREDIT_CRM_TOKEN", describe: "environment variable holding the bearer token (never logged)" })
      .option("batch-size", { type: "number", default: 100, describe: "scores per request" })
      .option("max-retries", { type: "number", default: 5, describe: "retries per batch on 429/5xx/network errors (exponential backoff)" }) as never,
  handler: async (args) => {
    const code = await withSession(args, async (s) => {
      const r = await pushLeadScores(s.engine, s.project.settings, {
        url: args.to, tokenEnv: args["token-env"], env: process.env, batchSize: args["batch-size"],
        retry: { maxRetries: args["max-retries"] }, runId: s.runId, database: s.project.workflow.defaultProject,
        log: (m) => s.logger.warn(m),
      });
      s.logger.info(
        `pushed lead scores to ${r.destination}: ${r.acknowledged.length} acknowledged, ${r.deadLetters.length} dead-lettered, ` +
          `${r.scores - r.planned} unchanged (${r.batches} batches, ${r.requests} requests)`,
      );
      return r.deadLetters.length ? 1 : 0;
    }, { compile: false });
    process.exitCode = code;
  },
};
