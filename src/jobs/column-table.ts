/**
 * A job's query result held column-wise: numbers and timestamps in Float64Arrays, booleans in an
 * Int8Array, repeated strings as dictionary codes, anything else as plain values. 446,628 lead rows of
 * 39 columns take ≈ 150 MB here against ≈ 1.5 GB as row objects (one object, one Date per timestamp
 * and one string per cell each). `rows()` gives each row as a small view object whose properties read
 * the columns, so code written for `Row` reads the same values it read from a row object. Pure.
 */
import type { ColumnChunk, Row, Value } from "../engines/engine.ts";

/** A view's row number (a symbol, so no column name can clash with it). */
const ROW = Symbol("row");

/** A string column turns into plain values past this many distinct strings when they are over half its rows (ids). */
const DICTIONARY_MAX = 65_536;

type Store =
  | { kind: "empty" }
  | { kind: "number"; values: Float64Array; isNull: Uint8Array }
  | { kind: "boolean"; values: Int8Array }
  | { kind: "timestamp"; ms: Float64Array }
  | { kind: "string"; codes: Int32Array; dictionary: string[]; index: Map<string, number> }
  | { kind: "value"; values: Value[] };

/** One column being filled: typed storage chosen by its first non-null value, widened to plain values when another type appears. */
class ColumnBuilder {
  store: Store = { kind: "empty" };
  length = 0;
  private capacity = 0;

  value(i: number): Value {
    const s = this.store;
    switch (s.kind) {
      case "empty": return null;
      case "number": return s.isNull[i] ? null : s.values[i]!;
      case "boolean": return s.values[i] === -1 ? null : s.values[i] === 1;
      case "timestamp": return Number.isNaN(s.ms[i]!) ? null : new Date(s.ms[i]!);
      case "string": return s.codes[i] === -1 ? null : s.dictionary[s.codes[i]!]!;
      case "value": return s.values[i] ?? null;
    }
  }

  push(v: Value): void {
    if (this.length === this.capacity) this.grow(Math.max(1024, this.capacity * 2));
    const i = this.length++;
    let s = this.store;
    if (s.kind === "empty" && v !== null) s = this.start(v);
    if (!this.fits(s, v)) s = this.widen(i);
    switch (s.kind) {
      case "empty": return;
      case "number": s.isNull[i] = v === null ? 1 : 0; if (v !== null) s.values[i] = v as number; return;
      case "boolean": s.values[i] = v === null ? -1 : v ? 1 : 0; return;
      case "timestamp": s.ms[i] = v === null ? NaN : (v as Date).getTime(); return;
      case "string": {
        if (v === null) { s.codes[i] = -1; return; }
        let code = s.index.get(v as string);
        if (code === undefined) {
          code = s.dictionary.length;
          s.dictionary.push(v as string);
          s.index.set(v as string, code);
        }
        s.codes[i] = code;
        if (s.dictionary.length > DICTIONARY_MAX && s.dictionary.length * 2 > this.length) this.widen(this.length);
        return;
      }
      case "value": s.values[i] = v; return;
    }
  }

  /** Trim the storage to the rows held. */
  finish(): void {
    this.grow(this.length);
  }

  private fits(s: Store, v: Value): boolean {
    if (v === null) return true;
    switch (s.kind) {
      case "empty": return false;
      case "number": return typeof v === "number";
      case "boolean": return typeof v === "boolean";
      case "timestamp": return v instanceof Date && !Number.isNaN(v.getTime());
      case "string": return typeof v === "string";
      case "value": return true;
    }
  }

  /** Typed storage for a column whose rows so far (`length - 1` of them) were all null. */
  private start(v: Value): Store {
    const n = this.capacity;
    const before = this.length - 1;
    let s: Store;
    if (typeof v === "number") s = { kind: "number", values: new Float64Array(n), isNull: new Uint8Array(n).fill(1, 0, before) };
    else if (typeof v === "boolean") s = { kind: "boolean", values: new Int8Array(n).fill(-1, 0, before) };
    else if (v instanceof Date && !Number.isNaN(v.getTime())) s = { kind: "timestamp", ms: new Float64Array(n).fill(NaN, 0, before) };
    else if (typeof v === "string") s = { kind: "string", codes: new Int32Array(n).fill(-1, 0, before), dictionary: [], index: new Map() };
    else s = { kind: "value", values: new Array<Value>(before).fill(null) };
    this.store = s;
    return s;
  }

  /** Plain values from here on: rows before `upTo` keep the values they read as. */
  private widen(upTo: number): Store {
    const values = new Array<Value>(this.length);
    for (let i = 0; i < upTo; i++) values[i] = this.value(i);
    this.store = { kind: "value", values };
    return this.store;
  }

  private grow(capacity: number): void {
    const s = this.store;
    const resize = <T extends Float64Array | Int8Array | Int32Array | Uint8Array>(a: T, fill: number): T => {
      const b = new (a.constructor as new (n: number) => T)(capacity);
      b.set(a.subarray(0, Math.min(a.length, capacity)));
      if (capacity > a.length) b.fill(fill, a.length);
      return b;
    };
    switch (s.kind) {
      case "number": s.values = resize(s.values, 0); s.isNull = resize(s.isNull, 1); break;
      case "boolean": s.values = resize(s.values, -1); break;
      case "timestamp": s.ms = resize(s.ms, NaN); break;
      case "string": s.codes = resize(s.codes, -1); break;
      default: break;
    }
    this.capacity = capacity;
  }
}

export class ColumnTable {
  readonly names: readonly string[];
  private readonly cols: ColumnBuilder[];
  private n = 0;

  constructor(names: readonly string[]) {
    if (new Set(names).size !== names.length) throw new Error(`a column table needs distinct column names, got ${names.join(", ")}`);
    this.names = [...names];
    this.cols = names.map(() => new ColumnBuilder());
  }

  get length(): number {
    return this.n;
  }

  /** Append a batch whose columns are those of the table, in order. */
  append(chunk: ColumnChunk): void {
    if (chunk.names.length !== this.names.length || chunk.names.some((c, i) => c !== this.names[i])) {
      throw new Error(`a chunk with columns ${chunk.names.join(", ")} does not match the table's ${this.names.join(", ")}`);
    }
    for (let c = 0; c < this.cols.length; c++) {
      const col = this.cols[c]!;
      const values = chunk.columns[c]!;
      for (let i = 0; i < chunk.rows; i++) col.push(values[i] ?? null);
    }
    this.n += chunk.rows;
  }

  /** Release the spare capacity left by appending. */
  finish(): this {
    for (const c of this.cols) c.finish();
    return this;
  }

  /**
   * Every row as a view: `row[name]` reads the column (a timestamp as a new Date each time). The
   * properties live on a shared prototype, so `Object.keys(view)` is empty: take column names from
   * `names`.
   */
  rows(): Row[] {
    const cols = this.cols;
    const proto: Record<string, unknown> = {};
    this.names.forEach((name, c) => {
      const col = cols[c]!;
      Object.defineProperty(proto, name, { get(this: { [ROW]: number }) { return col.value(this[ROW]); }, enumerable: true });
    });
    const out: Row[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const view = Object.create(proto) as { [ROW]: number };
      view[ROW] = i;
      out[i] = view as unknown as Row;
    }
    return out;
  }

  /** A table from row objects (an engine that has no column-wise read). */
  static fromRows(rows: readonly Row[]): ColumnTable {
    const cols = [...new Set(rows.slice(0, 1000).flatMap((r) => Object.keys(r)))];
    const t = new ColumnTable(cols);
    t.append({ names: cols, columns: cols.map((c) => rows.map((r) => r[c] ?? null)), rows: rows.length });
    return t.finish();
  }
}
