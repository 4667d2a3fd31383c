import type { CommandModule } from "yargs";
import { engineOptions, type EngineArgs } from "../options.ts";
import { SettingsError } from "../../util/errors.ts";
import { withSession } from "../session.ts";
import { planLeadScorePush, recordPushResult, sendPlannedScores, type PushLeadScoresOptions } from "../../crm/index.ts";

interface PushArgs extends EngineArgs {
  what: string;
  to: string;
  "token-env": string;
  "batch-size": number;
  "max-retries": number;
  "request-timeout"?: number;
  "push-timeout"?: number;
}

const positiveSeconds = (flag: string) => (v: unknown): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new SettingsError(`${flag} ${JSON.stringify(v)}: expected a number of seconds above 0`);
  return n;
};

export const pushCommand: CommandModule<object, PushArgs> = {
  command: "push <what>",
  describe: "send changed lead scores to a CRM endpoint (JSON batches, bearer token, retries, dead letters)",
  builder: (y) =>
    engineOptions(y)
      .positional("what", { type: "string", choices: ["lead-scores"], demandOption: true })
      .option("to", { type: "string", demandOption: true, describe: "HTTP(S) endpoint receiving POSTed batches" })
      .option("token-env", { type: "string", default: "FUNNELCREDIT_CRM_TOKEN", describe: "environment variable holding the bearer token (never logged)" })
      .option("batch-size", { type: "number", default: 100, describe: "scores per request" })
      .option("max-retries", { type: "number", default: 5, describe: "retries per batch on 429/5xx/network errors/timeouts (exponential backoff)" })
      .option("request-timeout", { type: "number", describe: "seconds to wait for one request's answer (default: vars.crm_request_timeout_seconds, 30)", coerce: positiveSeconds("--request-timeout") })
      .option("push-timeout", { type: "number", describe: "seconds the whole push may take; what is not acknowledged by then is sent by the next push (default: vars.crm_push_timeout_seconds, 900)", coerce: positiveSeconds("--push-timeout") }) as never,
  handler: async (args) => {
    // The warehouse (and its lease) is held only to read what to send and to record the answers, never
    // while waiting on the CRM: a hung endpoint must not block scheduled runs.
    const options = (runId: string, database: string): PushLeadScoresOptions => ({
      url: args.to, tokenEnv: args["token-env"], env: process.env, batchSize: args["batch-size"],
      retry: { maxRetries: args["max-retries"] }, runId, database,
      requestTimeoutMs: args["request-timeout"] === undefined ? undefined : args["request-timeout"] * 1000,
      pushTimeoutMs: args["push-timeout"] === undefined ? undefined : args["push-timeout"] * 1000,
    });
    const planned = await withSession(args, async (s) => {
      const opts = options(s.runId, s.project.workflow.defaultProject);
      return { opts, settings: s.project.settings, logger: s.logger, plan: await planLeadScorePush(s.engine, s.project.settings, opts) };
    }, { compile: false });
    const { settings, logger, plan } = planned;
    const r = await sendPlannedScores(plan, settings, { ...planned.opts, log: (m) => logger.warn(m) });
    // A run may hold the warehouse by now: wait for it (at least 10 minutes) rather than lose the acknowledgements.
    await withSession({ ...args, "wait-for-lease": Math.max(args["wait-for-lease"], 600) }, async (s) => {
      await recordPushResult(s.engine, s.project.settings, planned.opts.database, r);
    }, { compile: false });
    logger.info(
      `pushed lead scores to ${r.destination}: ${r.acknowledged.length} acknowledged, ${r.deadLetters.length} dead-lettered, ` +
        (r.unsent ? `${r.unsent} not sent (time limit, sent by the next push), ` : "") +
        `${r.scores - r.planned} unchanged (${r.batches} batches, ${r.requests} requests)`,
    );
    process.exitCode = r.deadLetters.length || r.unsent ? 1 : 0;
  },
};
