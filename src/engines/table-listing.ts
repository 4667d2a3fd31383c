/**
 * What a run knows of its tables from one listing per dataset, until it changes them. A BigQuery run otherwise asks
 * tables.get about each table before its statements (describeTable: a view or a table, its partitioning): one call
 * per action, ≈ 75 on a daily run of the whole DAG, where tables.list answers a dataset in one call (or one per page).
 *
 * The run report reads through one too (whether each output table exists).
 *
 * A listed answer holds for a table until the run may have changed it: the runner calls `changing(target)` once an
 * action has run (its statements, a job's writes; a retry or a later reader then asks again) and `changingAll()` once
 * an operation has run (its SQL may touch any table). Engines without `tableShapesIn` are always asked. A table made
 * by someone else after the listing is not seen before that: a run holds its lease on the warehouse.
 */
import type { Engine, Target, TableShape } from "./engine.ts";

const keyOf = (t: Target): string => `${t.database ?? ""}.${t.schema}.${t.name}`;
const datasetOf = (t: Target): string => `${t.database ?? ""}.${t.schema}`;

export class TableListing {
  readonly #engine: Engine;
  /** Per listed dataset, its tables' shapes by name. */
  readonly #listed = new Map<string, Map<string, TableShape>>();
  /** Tables the run may have changed since the listing. */
  readonly #changed = new Set<string>();

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** Lists the datasets of `targets` (each once, together; a target's name is not read). */
  async list(targets: Iterable<Target>): Promise<void> {
    const engine = this.#engine;
    if (!engine.tableShapesIn) return;
    const datasets = new Map<string, Target>();
    for (const t of targets) if (!this.#listed.has(datasetOf(t))) datasets.set(datasetOf(t), t);
    await Promise.all([...datasets].map(async ([k, t]) => {
      const shapes = await engine.tableShapesIn!(t.database, t.schema);
      if (shapes) this.#listed.set(k, shapes);
    }));
  }

  /** The run has changed, or may have, `target` (its action's statements, a job's write). */
  changing(target: Target): void {
    this.#changed.add(keyOf(target));
  }

  /** The run has run SQL that may change any table. */
  changingAll(): void {
    this.#listed.clear();
  }

  /** describeTable, from the listing while it holds. */
  describe(target: Target): Promise<TableShape | undefined> {
    const listed = this.#holding(target);
    return listed ? Promise.resolve(listed.get(target.name)) : this.#engine.describeTable(target);
  }

  /** tableExists, from the listing while it holds. */
  async exists(target: Target): Promise<boolean> {
    const listed = this.#holding(target);
    return listed ? listed.has(target.name) : this.#engine.tableExists(target);
  }

  /** The listing of target's dataset, while it holds for target. */
  #holding(target: Target): Map<string, TableShape> | undefined {
    return this.#changed.has(keyOf(target)) ? undefined : this.#listed.get(datasetOf(target));
  }
}
