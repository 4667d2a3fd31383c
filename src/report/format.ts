/**
 * Numbers for people: thousands separators, percentages, money in the currency from settings
 * (`vars.currency`), durations and timestamps. One place, built on Intl, so every table and
 * chart label in the report reads the same way.
 */

export interface Formats {
  readonly locale: string;
  readonly currency: string;
  /** 12,345 (whole numbers); "–" for null. */
  int(v: number | null | undefined): string;
  /** 1,234.57 with up to `digits` decimals. */
  num(v: number | null | undefined, digits?: number): string;
  /** Exactly `digits` decimals: 0.60, 0.83 (for scores compared side by side). */
  fixed(v: number | null | undefined, digits?: number): string;
  /** A share in [0, 1] as 12.3 %. */
  pct(v: number | null | undefined, digits?: number): string;
  /** Money in the settings' currency: $12,345 (cents shown below 100). */
  money(v: number | null | undefined): string;
  /** A ratio such as ROAS: 3.42×. */
  ratio(v: number | null | undefined): string;
  /** Milliseconds as "850 ms", "12.4 s", "3 min 05 s", "1 h 02 min". */
  duration(ms: number | null | undefined): string;
  /** A timestamp as "2026-11-24 09:13:50 UTC". */
  timestamp(v: Date | string | null | undefined): string;
  /** Axis title suffix for money, e.g. "value (USD)". */
  moneyTitle(what: string): string;
}

const DASH = "–";

const finite = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);

/** Build the formatters for one report. `currency` is an ISO 4217 code (validated by settings.js). */
export function createFormats(currency: string, locale = "en-US"): Formats {
  const intF = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const numF = new Map<number, Intl.NumberFormat>();
  const pctF = new Map<number, Intl.NumberFormat>();
  const fixedF = new Map<number, Intl.NumberFormat>();
  const moneyWhole = new Intl.NumberFormat(locale, { style: "currency", currency, maximumFractionDigits: 0, minimumFractionDigits: 0 });
  const moneyCents = new Intl.NumberFormat(locale, { style: "currency", currency });
  const getNum = (d: number): Intl.NumberFormat => {
    if (!numF.has(d)) numF.set(d, new Intl.NumberFormat(locale, { maximumFractionDigits: d }));
    return numF.get(d)!;
  };
  const getPct = (d: number): Intl.NumberFormat => {
    if (!pctF.has(d)) pctF.set(d, new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: d, maximumFractionDigits: d }));
    return pctF.get(d)!;
  };
  return {
    locale,
    currency,
    int: (v) => (finite(v) ? intF.format(v) : DASH),
    num: (v, digits = 2) => (finite(v) ? getNum(digits).format(v) : DASH),
    fixed: (v, digits = 2) => {
      if (!finite(v)) return DASH;
      if (!fixedF.has(digits)) fixedF.set(digits, new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }));
      return fixedF.get(digits)!.format(v);
    },
    pct: (v, digits = 1) => (finite(v) ? getPct(digits).format(v) : DASH),
    money: (v) => (finite(v) ? (Math.abs(v) < 100 ? moneyCents : moneyWhole).format(v) : DASH),
    ratio: (v) => (finite(v) ? `${getNum(2).format(v)}×` : DASH),
    duration: (ms) => {
      if (!finite(ms)) return DASH;
      if (ms < 1000) return `${Math.round(ms)} ms`;
      const s = ms / 1000;
      if (s < 60) return `${getNum(1).format(s)} s`;
      const m = Math.floor(s / 60);
      if (m < 60) return `${m} min ${String(Math.round(s - m * 60)).padStart(2, "0")} s`;
      return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
    },
    timestamp: (v) => {
      if (v === null || v === undefined) return DASH;
      const d = v instanceof Date ? v : new Date(v);
      if (Number.isNaN(d.getTime())) return String(v);
      return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
    },
    moneyTitle: (what) => `${what} (${currency})`,
  };
}
