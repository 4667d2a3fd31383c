import type { CommandModule } from "yargs";
import { engineOptions, parseVars, type EngineArgs } from "../options.ts";
import { withSession } from "../session.ts";
import { UserError } from "../../util/errors.ts";
import { FAMILIES, type Family } from "../../benchmark/worlds.ts";
import { runWorld, type WorldResult } from "../../benchmark/run.ts";
import { catalogTable, tableLocation, tableSchema } from "../../catalog/index.ts";
import { accuracyRows, formatMlFamilies, formatSummary, formatWorld, mlFamilyRows, truthRows } from "../../benchmark/summary.ts";
import type { Row } from "../../engines/engine.ts";

interface BenchmarkArgs extends EngineArgs {
  families: string[];
  seeds: number[];
  users: number;
  "truth-users": number;
}

export const benchmarkCommand: CommandModule<object, BenchmarkArgs> = {
  command: "benchmark",
  describe: "accuracy benchmark: worlds with known channel effects through the whole pipeline; appends <base>_meta.model_accuracy and prints each model's distance to the true shares",
  builder: (y) =>
    engineOptions(y)
      .option("families", { type: "string", array: true, default: [...FAMILIES], describe: `scenario families (${FAMILIES.join(", ")})` })
      .option("seeds", { type: "number", array: true, default: [1, 2, 3], describe: "seeds: each draws fresh world parameters and users" })
      .option("users", { type: "number", default: 5000, describe: "observed users per world" })
      .option("truth-users", { type: "number", default: 10000, describe: "users of the population the true shares are computed on" }) as never,
  handler: async (args) => {
    const bad = args.families.filter((f) => !(FAMILIES as readonly string[]).includes(f));
    if (bad.length) throw new UserError(`--families ${bad.join(", ")}: expected some of ${FAMILIES.join(", ")}`);
    for (const [name, v] of [["--users", args.users], ["--truth-users", args["truth-users"]], ...args.seeds.map((s) => ["--seeds", s] as const)] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new UserError(`${name} ${v}: expected a positive integer`);
    }
    await withSession(args, async (s) => {
      const results: WorldResult[] = [];
      // Each world runs in its own in-memory warehouse; only the results are written to this one.
      for (const family of args.families as Family[]) {
        for (const seed of args.seeds) {
          s.logger.info(`benchmark world ${family}/s${seed}: ${args.users} users`);
          const r = await runWorld({ family, seed, users: args.users, truthUsers: args["truth-users"], projectDir: args.project, jobs: (await import("../../../jobs/index.ts")).ALL_JOBS, vars: parseVars(args) });
          results.push(r);
          process.stdout.write(formatWorld(r) + "\n");
        }
      }
      // Both tables' contracts and places come from the catalog (includes/catalog.js).
      const where = { settings: s.project.settings, database: s.project.workflow.defaultProject };
      const append = (name: string, rows: Row[]) =>
        s.engine.writeRows(tableLocation(name, where), tableSchema(name), rows, { mode: "append", description: catalogTable(name).description });
      await append("model_accuracy", accuracyRows(s.runId, results, new Date()));
      await append("benchmark_truth", truthRows(s.runId, results));
      const families = mlFamilyRows(s.runId, results, new Date());
      if (families.length) await append("ml_family_accuracy", families);
      process.stdout.write(`\nL1 distance to the true shares (mean over seeds ${args.seeds.join(", ")}; 0 = exact, 2 = disjoint), run ${s.runId}:\n${formatSummary(results)}\n`);
      if (families.length) process.stdout.write(`\nML families: held-out metrics (test window) and L1 to the true incremental shares per scenario family:\n${formatMlFamilies(results)}\n`);
      if (results.some((r) => r.failed.length)) process.exitCode = 1;
    }, { compile: false });
  },
};
