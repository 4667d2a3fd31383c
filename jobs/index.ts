/** Every TypeScript job of the project; the runner merges them into the Dataform graph. */
import type { JobDefinition } from "../src/runner/job.ts";

export const ALL_JOBS: JobDefinition[] = [];
