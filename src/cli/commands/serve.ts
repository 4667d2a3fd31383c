import type { CommandModule } from "yargs";
import { engineOptions, type EngineArgs } from "../options.ts";
import { SettingsError } from "../../util/errors.ts";
import { withSession } from "../session.ts";
import { readBehaviour } from "../../serve/behaviour.ts";
import { loadModelSource } from "../../serve/models.ts";
import { isLoopback, startScoringServer } from "../../serve/server.ts";

interface ServeArgs extends EngineArgs {
  host: string;
  port: number;
  "token-env": string;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: "serve",
  describe: "score leads on request over HTTP with the current lead-scoring model (loopback by default; bearer token elsewhere)",
  builder: (y) =>
    engineOptions(y)
      .option("host", { type: "string", default: "127.0.0.1", describe: "address to listen on; a non-loopback address needs the token" })
      .option("port", { type: "number", default: 8787, describe: "port (0: any free port)" })
      .option("token-env", { type: "string", default: "FUNNELCREDIT_SERVE_TOKEN", describe: "environment variable holding the bearer token requests must send (never logged)" }) as never,
  handler: async (args) => {
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new SettingsError(`--port ${args.port}: expected an integer 0–65535`);
    const token = process.env[args["token-env"]] || undefined;
    if (!isLoopback(args.host) && !token) {
      throw new SettingsError(`--host ${args.host} is not a loopback address: set a bearer token in $${args["token-env"]} (or bind to 127.0.0.1)`);
    }
    // The warehouse is read once (model + web behaviour snapshot) and closed before serving, so the
    // server never holds the DuckDB file or its lease while scheduled runs need them (src/serve/behaviour.ts).
    const loaded = await withSession(args, async (s) => {
      const models = await loadModelSource(s.artifacts);
      const lf = { database: s.project.workflow.defaultProject, schema: s.project.settings.datasets.intermediate, name: "lead_features" };
      const behaviour = await readBehaviour(s.engine, lf, new Date());
      return { models, behaviour, cutoff: s.project.settings.leadScoreCutoff, logger: s.logger };
    }, { compile: false, lease: false });
    const srv = await startScoringServer({ models: loaded.models, behaviour: loaded.behaviour, scoreCutoff: loaded.cutoff, host: args.host, port: args.port, token });
    loaded.logger.info(`serving ${loaded.models.current.artifact.modelVersion} at ${srv.url}/v1/score (web behaviour of ${loaded.behaviour.leads} leads, read at start; restart after a run to refresh)`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void srv.close().then(resolve);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
  },
};
