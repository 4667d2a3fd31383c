/**
 * The engines funnelcredit can run on: one registration line per engine. `--engine` offers these
 * names; `openEngine` fails loudly on any other.
 */
import { SettingsError } from "../util/errors.ts";
import type { EngineContext, EngineDriver } from "./driver.ts";
import type { Engine } from "./engine.ts";
import type { LeaseRequest } from "./lease.ts";
import { duckdbDriver } from "./duckdb/driver.ts";
import { bigqueryDriver } from "./bigquery/driver.ts";

export const ENGINES: Readonly<Record<string, EngineDriver<unknown>>> = {
  duckdb: duckdbDriver,
  bigquery: bigqueryDriver,
};

export const ENGINE_KINDS: readonly string[] = Object.keys(ENGINES);

export function engineDriver(kind: string): EngineDriver<unknown> {
  const d = Object.hasOwn(ENGINES, kind) ? ENGINES[kind] : undefined;
  if (!d) throw new SettingsError(`unknown engine ${JSON.stringify(kind)}: use ${ENGINE_KINDS.map((k) => `--engine ${k}`).join(" or ")}`);
  return d;
}

/** Configure and open the engine `kind` from the parsed command-line options. */
export async function openEngine(kind: string, values: Readonly<Record<string, unknown>>, ctx: EngineContext, lease?: LeaseRequest): Promise<Engine> {
  const driver = engineDriver(kind);
  return driver.open(driver.configure(values, ctx), lease);
}
