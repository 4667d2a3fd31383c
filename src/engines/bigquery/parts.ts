/** What the BigQuery engine's parts share: the client, the settings, the logger and the job runner (jobs.ts). */
import type { BigQuery } from "@google-cloud/bigquery";
import type { Logger } from "../../util/logger.ts";
import type { BigQueryConfig } from "./client.ts";
import type { JobRunner } from "./jobs.ts";

export interface BigQueryParts {
  bq: BigQuery;
  cfg: BigQueryConfig;
  log: Logger;
  jobs: JobRunner;
  /**
   * `project.dataset` of the datasets this engine has seen in the jobs' location (found or created by ensureDataset,
   * or checked by checkSourceLocations): asked of BigQuery once per engine, not once per table or action.
   */
  datasetsInLocation: Set<string>;
}
