import type { CommandModule } from "yargs";
import { artifactsLocation, artifactsOption, commonOptions, loggerFor, type CommonArgs } from "../options.ts";
import { createArtifactStore } from "../../artifacts/store.ts";
import { UserError } from "../../util/errors.ts";
import { listVersions, promoteVersion, rollbackVersion } from "../../lead-scoring/versions.ts";

interface ModelsArgs extends CommonArgs {
  action: string;
  id?: string;
  artifacts: string;
}

const fmt = (x: number | null): string => (x === null ? "-" : x.toFixed(4));

/**
 * Versions of the lead-scoring model in the artifact store (folder or gs://). Only the artifact store
 * is touched: the next `run` scores with whatever `current.json` holds then.
 */
export const modelsCommand: CommandModule<object, ModelsArgs> = {
  command: "models <action> [id]",
  describe: "lead-scoring model versions: list, promote ID (make that version current), rollback (to the model current before the last change)",
  builder: (y) =>
    artifactsOption(commonOptions(y))
      .positional("action", { type: "string", choices: ["list", "promote", "rollback"], demandOption: true })
      .positional("id", { type: "string", describe: "promote: the version (lead_scoring@<hash>, or a unique prefix of the hash)" }) as never,
  handler: async (args) => {
    const logger = loggerFor(args);
    const store = await createArtifactStore(artifactsLocation(args));
    const now = new Date();
    if (args.action === "list") {
      const versions = await listVersions(store);
      if (args.json) {
        process.stdout.write(JSON.stringify({ location: store.location, versions }) + "\n");
        return;
      }
      if (!versions.length) {
        logger.info(`no lead-scoring model in ${store.location} yet (run the lead_scoring job)`);
        return;
      }
      const lines = versions.map((v) => `${v.current ? "*" : " "} ${v.modelVersion}  trained ${v.trainedAt}  test AUC ${fmt(v.testRocAuc)}  log loss ${fmt(v.testLogLoss)}  ${v.decision}: ${v.reason}`);
      process.stdout.write(`${lines.join("\n")}\n(* = current)\n`);
      return;
    }
    if (args.action === "promote") {
      if (!args.id) throw new UserError("models promote needs the version to make current (see `funnelcredit models list`)");
      const c = await promoteVersion(store, args.id, now);
      logger.info(`${c.modelVersion} is now the current lead-scoring model (was ${c.previous ?? "none"}); the next run scores with it`);
      return;
    }
    const c = await rollbackVersion(store, now);
    logger.info(`rolled back: ${c.modelVersion} is the current lead-scoring model again (was ${c.previous ?? "none"}); the next run scores with it`);
  },
};
