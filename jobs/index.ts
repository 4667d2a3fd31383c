/** Every TypeScript job of the project; the runner merges them into the Dataform graph. */
import type { JobDefinition } from "../src/jobs/job.ts";
import { channelMarkovJob } from "./channel-markov.ts";
import { shapleyJob } from "./shapley.ts";
import { funnelMarkovJob } from "./funnel-markov.ts";
import { modelComparisonJob } from "./model-comparison.ts";
import { mlAttributionJob } from "./ml-attribution.ts";
import { leadScoringJob } from "./lead-scoring.ts";
import { pipelineCreditJob } from "./pipeline-credit.ts";
import { leadScoresSqlJob } from "./lead-scores-sql.ts";
import { mlJourneyScoresSqlJob } from "./ml-journey-scores-sql.ts";
import { creditIntervalsJob } from "./credit-intervals.ts";
import { modelRecommendationJob } from "./model-recommendation.ts";

export const ALL_JOBS: JobDefinition[] = [channelMarkovJob, shapleyJob, funnelMarkovJob, modelComparisonJob, leadScoringJob, leadScoresSqlJob, pipelineCreditJob, mlAttributionJob, mlJourneyScoresSqlJob, creditIntervalsJob, modelRecommendationJob];
