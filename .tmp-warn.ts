import * as C from "./src/report/charts.ts";
import { buildFixtureRows, fixtureRun } from "./test/report-fixtures.ts";
const r = buildFixtureRows() as any;
const steps = ["site_visit", "view_item", "add_to_cart", "begin_checkout", "purchase"];
const specs: [string, any][] = [
  ["timeline", C.actionTimelineSpec(fixtureRun().actions)],
  ["credit", C.creditByModelSpec(r.channel_credit_by_model)],
  ["overtime", C.creditOverTimeSpec(r.channel_credit_daily, "v")],
  ["funnel", C.funnelGraphSpec(r.funnel_transition_probabilities, steps)],
  ["seg", C.funnelSegmentsSpec(r.funnel_transition_probabilities, steps)],
  ["roc", C.rocSpec(r.model_curves)],
  ["cal", C.calibrationSpec(r.model_curves)],
  ["imp", C.featureImportanceSpec(r.feature_importance)],
  ["psi", C.psiSpec(r.lead_score_monitoring)],
  ["roas", C.roasSpec(r.roas_by_channel)],
  ["lift", C.decileLiftSpec(r.model_curves)],
];
for (const [n, s] of specs) { console.log("--", n); await C.renderChart(s); }
