// Tables written by the TypeScript jobs in jobs/. Declaring them lets downstream SQLX ref() them;
// the runner replaces each declaration's producer with its job (matched by table name).
const modelTables = [
  "markov_removal_effects",
  "markov_transition_matrix",
  "shapley_channel_credit",
  "funnel_transition_probabilities",
];
const outputTables = ["channel_credit_by_model", "model_agreement"];
for (const name of modelTables) declare({ schema: settings.datasets.models, name });
for (const name of outputTables) declare({ schema: settings.datasets.outputs, name });
