import type { CommandModule } from "yargs";
import { loadProject } from "../../compile/project.ts";
import { commonOptions, parseVars, type CommonArgs } from "../options.ts";

export const compileCommand: CommandModule<object, CommonArgs> = {
  command: "compile",
  describe: "compile the Dataform project (offline) and print the action graph as JSON",
  builder: (y) => commonOptions(y),
  handler: async (args) => {
    const project = await loadProject(args.project, { vars: parseVars(args), jobs: (await import("../../../jobs/index.ts")).ALL_JOBS });
    for (const d of project.settings.deprecations) process.stderr.write(`warning: ${d}\n`);
    const actions = project.graph.actions.map((a) => ({
      name: a.name, type: a.kind, target: a.target, dependencies: a.dependencies, tags: a.tags, file: a.fileName,
    }));
    process.stdout.write(JSON.stringify({ actions, datasets: project.settings.datasets }, null, 2) + "\n");
  },
};
