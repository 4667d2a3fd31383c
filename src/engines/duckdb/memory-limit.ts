/** Sizes as DuckDB's memory_limit takes and prints them. */
const SIZE_UNITS: Record<string, number> = {
  b: 1, byte: 1, bytes: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};
/** Bytes of a size as DuckDB's memory_limit takes and prints it (`4GB`, `512MiB`, `3.7 GiB`); undefined if it is not one. */
export function memoryLimitBytes(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(String(value));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : undefined;
}
