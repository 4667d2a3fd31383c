/**
 * Upstream tables the reporting views read, declared so the project compiles before the models
 * and jobs that build them land. Remove a declaration when its real model or job declaration
 * lands (two actions with one name fail compilation). run_history stays: the runner writes it,
 * no Dataform model builds it.
 */
const upstream = [
];
upstream.forEach((t) => declare(t));

// Written by the runner after every action (src/runner/run-record.ts: RUN_HISTORY_SCHEMA). Permanent.
declare({ schema: settings.datasets.meta, name: "run_history" });
