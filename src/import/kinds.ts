/**
 * The kinds of local file `funnelcredit import KIND FILE…` loads, by their command-line name. A module of its
 * own so `run` can name them (`run --import KIND=FILE`) without loading the importers until a file is given.
 */
import type { SourceKind } from "./sources.ts";

export const IMPORT_KINDS: Readonly<Record<string, SourceKind | "ga4" | "dp6">> = {
  ga4: "ga4", transactions: "transactions", "custom-events": "custom_events", costs: "costs", paths: "paths", leads: "leads", dp6: "dp6",
};

/** The kinds `run --import KIND=FILE` loads: those that need no option of their own (leads need their columns). */
export const RUN_IMPORT_KINDS: readonly string[] = Object.keys(IMPORT_KINDS).filter((k) => k !== "leads");
