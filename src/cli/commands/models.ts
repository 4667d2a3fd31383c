import type { CommandModule } from "yargs";
import { artifactsLocation, engineOptions, loggerFor, type EngineArgs } from "../options.ts";
import { createArtifactStore } from "../../artifacts/store.ts";
import { UserError } from "../../util/errors.ts";
import { listVersions, promoteVersion, rollbackVersion } from "../../lead-scoring/versions.ts";
import { withSession } from "../session.ts";

interface ModelsArgs extends EngineArgs {
  action: string;
  id?: string;
}

const fmt = (x: number | null): string => (x === null ? "-" : x.toFixed(4));

/**
 * Versions of the lead-scoring model in the artifact store (folder or gs://): the next `run` scores with
 * whatever `current.json` holds then. `promote` and `rollback` change it, so they hold the warehouse's run
 * lease as `run` does (a run in progress must not see its model change under it; with another run holding
 * the lease they fail with its message, or wait --wait-for-lease seconds); `list` only reads.
 */
export const modelsCommand: CommandModule<object, ModelsArgs> = {
  command: "models <action> [id]",
  describe: "lead-scoring model versions: list, promote ID (make that version current), rollback (to the model current before the last change)",
  builder: (y) =>
    engineOptions(y)
      .positional("action", { type: "string", choices: ["list", "promote", "rollback"], demandOption: true })
      .positional("id", { type: "string", describe: "promote: the version (lead_scoring@<hash>, or a unique prefix of the hash)" }) as never,
  handler: async (args) => {
    const logger = loggerFor(args);
    const now = new Date();
    if (args.action === "list") {
      const store = await createArtifactStore(artifactsLocation(args));
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
    if (args.action === "promote" && !args.id) throw new UserError("models promote needs the version to make current (see `funnelcredit models list`)");
    await withSession(args, async (s) => {
      if (args.action === "promote") {
        const c = await promoteVersion(s.artifacts, args.id!, now);
        logger.info(`${c.modelVersion} is now the current lead-scoring model (was ${c.previous ?? "none"}); the next run scores with it`);
        return;
      }
      const c = await rollbackVersion(s.artifacts, now);
      logger.info(`rolled back: ${c.modelVersion} is the current lead-scoring model again (was ${c.previous ?? "none"}); the next run scores with it`);
    }, { compile: false, lease: true });
  },
};
