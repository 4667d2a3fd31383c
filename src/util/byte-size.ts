/**
 * Sizes as DuckDB writes and reads them (`memory_limit`, `memory_usage`, `--memory-limit`): a number and a unit,
 * decimal (KB, MB, GB, TB: powers of 1000) or binary (KiB, MiB, GiB, TiB: powers of 1024), or bytes.
 */
const SIZE_UNITS: Record<string, number> = {
  b: 1, byte: 1, bytes: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** `1.5 GiB`, `512MB`, `4.0 GB`, `1024 bytes` in bytes; NaN if not a number with one of those units. */
export function byteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
}
