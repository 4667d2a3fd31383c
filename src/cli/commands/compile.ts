import type { CommandModule } from "yargs";
import { loadProject } from "../../compile/project.ts";
import type { Action } from "../../dag/graph.ts";
import { findAction } from "../../dag/dag.ts";
import { createTableStatement, createViewStatement } from "../../runner/statements.ts";
import { UserError } from "../../util/errors.ts";
import { commonOptions, parseVars, type CommonArgs } from "../options.ts";

interface CompileArgs extends CommonArgs {
  sql?: string;
}

export const compileCommand: CommandModule<object, CompileArgs> = {
  command: "compile",
  describe: "compile the Dataform project (offline) and print the action graph as JSON",
  builder: (y) =>
    commonOptions(y).option("sql", { type: "string", describe: "print the compiled GoogleSQL of one action (name or schema.table) instead of the graph" }) as never,
  handler: async (args) => {
    const project = await loadProject(args.project, { vars: parseVars(args), jobs: (await import("../../../jobs/index.ts")).ALL_JOBS });
    for (const d of project.settings.deprecations) process.stderr.write(`warning: ${d}\n`);
    if (args.sql !== undefined) {
      process.stdout.write(actionSql(findAction(project.graph, args.sql)) + "\n");
      return;
    }
    const actions = project.graph.actions.map((a) => ({
      name: a.name, type: a.kind, target: a.target, dependencies: a.dependencies, tags: a.tags, file: a.fileName,
    }));
    process.stdout.write(JSON.stringify({ actions, datasets: project.settings.datasets }, null, 2) + "\n");
  },
};

/**
 * An action's SQL as compiled (GoogleSQL, before the DuckDB engine translates it): the statements the
 * runner builds for a table or view, both forms of an incremental table, an assertion's query (the rows
 * that fail it), an operation's statements; pre/post operations around them.
 */
function actionSql(a: Action): string {
  const ops = (label: string, list: string[] | undefined): string[] => (list ?? []).filter((x) => x.trim()).map((x) => `-- ${label}\n${x.trim()};`);
  const head = `-- ${a.name} (${a.kind}${a.fileName ? `, ${a.fileName}` : ""})`;
  switch (a.kind) {
    case "table":
    case "view":
      return [head, ...ops("pre-operation", a.preOps), (a.kind === "view" ? createViewStatement(a, a.query!) : createTableStatement(a, a.query!)) + ";", ...ops("post-operation", a.postOps)].join("\n\n");
    case "incremental":
      return [
        head, ...ops("pre-operation", a.preOps),
        `-- full refresh (and the first run)\n${createTableStatement(a, a.query!)};`,
        `-- incremental run: these rows are merged into the table` + (a.uniqueKey?.length ? ` on ${a.uniqueKey.join(", ")}` : " (inserted)") + `\n${(a.incrementalQuery ?? a.query!).trim()};`,
        ...ops("post-operation", a.postOps),
      ].join("\n\n");
    case "assertion":
      return `${head}\n-- the rows that fail the assertion (none when it passes)\n${a.query!.trim()};`;
    case "operation":
      return [head, ...(a.queries ?? []).map((q) => q.trim() + ";")].join("\n\n");
    case "job":
      throw new UserError(`${a.name} is a TypeScript job (${a.fileName}), not SQL: it reads ${a.dependencies.join(", ") || "nothing"} and writes ${a.job?.writes.join(", ") ?? a.target.name}`);
    case "declaration":
      throw new UserError(`${a.name} is a declared source (no SQL builds it): \`funnelcredit show ${a.target.name}\` prints its rows`);
  }
}
