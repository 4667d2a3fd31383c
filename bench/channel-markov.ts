/**
 * Benchmark: parse + aggregate the 1M-row synthetic path file (plain Node, zlib) and fit the channel
 * Markov model at orders 1, 2, 3. Prints figures; asserts nothing about time.
 *
 *   npx tsx bench/channel-markov.ts [path-to-csv.gz] [--orders 1,2,3]
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fitChannelMarkov, type ChannelPathRow, type MarkovOrder } from "../src/models/channel-markov.ts";
import { parseChannelPath } from "../src/models/paths.ts";
import { neumaierSum } from "../src/models/numeric.ts";

const DEFAULT_FILE = new URL("../../shared/data/channelattribution-synthetic-1m/synthetic_1m_paths.csv.gz", import.meta.url).pathname;

const args = process.argv.slice(2);
const ordersArg = args.indexOf("--orders");
const orders = (ordersArg >= 0 ? args[ordersArg + 1]! : "1,2,3").split(",").map((s) => Number(s) as MarkovOrder);
const file = args.find((a, i) => !a.startsWith("--") && (ordersArg < 0 || i !== ordersArg + 1)) ?? DEFAULT_FILE;

const mib = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;
const peakRss = (): string => mib(process.resourceUsage().maxRSS * 1024);
const t = (): number => performance.now();

const t0 = t();
const text = gunzipSync(readFileSync(file)).toString("utf8");
const t1 = t();

// Aggregate on the raw path string first (cheap), split each distinct path once.
const index = new Map<string, number>();
const paths: string[] = [];
const conv: number[] = [];
const val: number[] = [];
const nul: number[] = [];
let lines = 0;
let pos = text.indexOf("\n") + 1; // skip header
while (pos < text.length) {
  let end = text.indexOf("\n", pos);
  if (end < 0) end = text.length;
  if (end > pos) {
    // "path",conversions,value,nulls — the path is quoted and contains no quotes or commas.
    const q = text.indexOf('"', pos + 1);
    const path = text.slice(pos + 1, q);
    const c1 = q + 2;
    const c2 = text.indexOf(",", c1);
    const c3 = text.indexOf(",", c2 + 1);
    const c = Number(text.slice(c1, c2));
    const v = Number(text.slice(c2 + 1, c3));
    const n = Number(text.slice(c3 + 1, end));
    const k = index.get(path);
    if (k === undefined) {
      index.set(path, paths.length);
      paths.push(path);
      conv.push(c);
      val.push(v);
      nul.push(n);
    } else {
      conv[k] = conv[k]! + c;
      val[k] = val[k]! + v;
      nul[k] = nul[k]! + n;
    }
    lines++;
  }
  pos = end + 1;
}
const rows: ChannelPathRow[] = paths.map((p, i) => ({ path: parseChannelPath(p), conversions: conv[i]!, value: val[i]!, nulls: nul[i]! }));
const t2 = t();
index.clear();

console.log(`file            ${file}`);
console.log(`gunzip          ${(t1 - t0).toFixed(0)} ms (${mib(text.length)} of text)`);
console.log(`parse+aggregate ${(t2 - t1).toFixed(0)} ms: ${lines} rows → ${rows.length} distinct paths`);
console.log(`totals          conversions ${neumaierSum(conv)}, nulls ${neumaierSum(nul)}, value ${neumaierSum(val).toFixed(2)}`);
let last = t2;
for (const order of orders) {
  const a = t();
  const m = fitChannelMarkov(rows, { order });
  const b = t();
  last = b;
  const top = [...m.credits].sort((x, y) => y.conversions - x.conversions).slice(0, 3);
  console.log(
    `fit order ${order}     ${(b - a).toFixed(0)} ms: ${m.solver.method}, ${m.solver.transientStates} states, ` +
      `${m.solver.transientTransitions} transitions, ${m.solver.sweeps} sweeps, error bound ${m.solver.errorBound.toExponential(1)}, ` +
      `Σ credit ${neumaierSum(m.credits.map((c) => c.conversions)).toFixed(6)}; top: ${top.map((c) => `${c.channel} ${c.conversions.toFixed(0)}`).join(", ")}`,
  );
}
console.log(`total           ${(last - t0).toFixed(0)} ms, peak RSS ${peakRss()}`);
