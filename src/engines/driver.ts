/**
 * How an engine plugs in (after Kysely's dialects): its command-line options, its config built from
 * them, and opening it for a session with the run lease the engine keeps its own way.
 */
import type { Engine } from "./engine.ts";
import type { LeaseRequest } from "./lease.ts";

/** A command-line option of one engine (a subset of yargs' option description). */
export interface EngineOption {
  type: "string" | "number";
  describe: string;
  default?: string | number;
  array?: boolean;
  /** Checks (and may normalise) the value when the command line is parsed; throws SettingsError. */
  coerce?: (value: string) => string;
}

/** What a driver may read besides its own options. */
export interface EngineContext {
  /** The project folder (relative paths are resolved against it). */
  projectDir: string;
  /** workflow_settings.yaml's defaultProject and defaultLocation. */
  defaultProject: string;
  defaultLocation: string;
  /** vars.maximum_bytes_billed: the per-job bytes cap when no option sets one (0: none). */
  maximumBytesBilled?: number;
}

export interface EngineDriver<C = unknown> {
  readonly kind: string;
  /** One line for `--help`. */
  readonly describe: string;
  /** The engine can load local files (`import`, `demo`): its engines offer `localLoading`. */
  readonly loadsLocalFiles: boolean;
  /** Options of this engine on every warehouse command, by option name (`warehouse`, `bq-project`). */
  readonly options: Readonly<Record<string, EngineOption>>;
  /** The engine's config from the parsed options (its own, by option name) and the context. */
  configure(values: Readonly<Record<string, unknown>>, ctx: EngineContext): C;
  /**
   * Open the engine. With a lease request the engine takes the run lease its own way before the
   * session starts and releases it in close(); a held lease fails with LeaseHeldError.
   */
  open(config: C, lease?: LeaseRequest): Promise<Engine>;
}

/**
 * A driver typed against its own config, stored in the registry beside drivers of other configs
 * (the registry only ever hands a driver the config that driver built).
 */
export function defineEngine<C>(driver: EngineDriver<C>): EngineDriver<unknown> {
  return driver as unknown as EngineDriver<unknown>;
}

/**
 * Make `engine.close()` also release what was taken for it (a lease): after the engine closes (a
 * file lease: nobody opens the file before we let go of it) or before (a lease kept in the
 * warehouse itself needs the engine to be released) — also when closing fails.
 */
export function releasingOnClose<E extends Engine>(engine: E, release: () => void | Promise<void>, when: "afterClose" | "beforeClose"): E {
  const close = engine.close.bind(engine);
  engine.close = when === "afterClose"
    ? async () => {
      try { await close(); } finally { await release(); }
    }
    : async () => {
      try { await release(); } finally { await close(); }
    };
  return engine;
}
