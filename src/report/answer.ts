/**
 * The analyst's sections of the report: the answer first (the recommended model's channel shares,
 * spend, ROAS and the change vs last click), then any two models compared channel by channel (as
 * GA4's model comparison does), then paths and timing and campaigns. Sections whose table was not
 * built say so in one sentence.
 */
import { agreementHeatmapSpec, answerSharesSpec, shareHeatmapSpec } from "./charts.ts";
import type { ChannelCredit, ChannelPerformance, GenericRow, Loaded, ModelRecommendationRow, ReportData } from "./data.ts";
import type { Formats } from "./format.ts";
import { absent, figure, h, rowsOf, table, type Column } from "./parts.ts";

/** The model GA4 and most reports compare against. */
const LAST_TOUCH = "last_touch";

/**
 * Which model the report leads with: the model_recommendation job's pick (benchmark accuracy on worlds
 * shaped like this data, bootstrap stability) when it ran and picked one of the models shown; else a
 * fixed rule: the OWOX funnel model when it ran; else the first-order Markov model; else Shapley; else
 * the first model in the table.
 */
const RECOMMENDATION_ORDER = ["owox_funnel", "markov_order_1", "shapley"];
const RECOMMENDATION_RULE = "the OWOX funnel model (owox_funnel) when it ran, else markov_order_1, else shapley";

export function recommendedModel(models: readonly string[], recommendation?: Loaded<ModelRecommendationRow>): string | undefined {
  const picked = recommendation?.state === "ok" ? recommendation.rows.find((r) => r.is_recommended)?.model : undefined;
  if (picked && models.includes(picked)) return picked;
  return RECOMMENDATION_ORDER.find((m) => models.includes(m)) ?? models[0];
}

interface ChannelAnswer {
  channel: string;
  share: number;
  low: number | null;
  high: number | null;
  bootstrapLow: number | null;
  bootstrapHigh: number | null;
  conversions: number | null;
  value: number | null;
  lastTouchShare: number | null;
  lastTouchConversions: number | null;
  cost: number | null;
  roas: number | null;
}

function channelAnswers(rows: ChannelCredit[], model: string, perf: ChannelPerformance[] | undefined, d: ReportData): ChannelAnswer[] {
  const lt = new Map(rows.filter((r) => r.model === LAST_TOUCH).map((r) => [r.channel, r]));
  const iv = new Map((rowsOf(d.intervals) ?? []).filter((r) => r.model === model).map((r) => [r.channel, r]));
  const cost = new Map((perf ?? []).filter((p) => p.model === model).map((p) => [p.channel, p]));
  return rows
    .filter((r) => r.model === model && r.share !== null)
    .map((r) => {
      const p = cost.get(r.channel);
      const value = r.value;
      return {
        channel: r.channel, share: r.share!, low: iv.get(r.channel)?.share_low ?? null, high: iv.get(r.channel)?.share_high ?? null,
        bootstrapLow: iv.get(r.channel)?.bootstrap_low ?? null, bootstrapHigh: iv.get(r.channel)?.bootstrap_high ?? null, conversions: r.conversions, value,
        lastTouchShare: lt.get(r.channel)?.share ?? null, lastTouchConversions: lt.get(r.channel)?.conversions ?? null,
        cost: p?.cost ?? null, roas: p && p.cost ? (p.value ?? value ?? 0) / p.cost : null,
      };
    })
    .sort((a, b) => b.share - a.share);
}

const change = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b);
const relChange = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : (a - b) / b);

function signedPct(f: Formats, v: number | null): string {
  if (v === null) return "–";
  return `${v > 0 ? "+" : ""}${f.pct(v)}`;
}
function signedPoints(v: number | null): string {
  if (v === null) return "–";
  const pp = v * 100;
  return `${pp > 0 ? "+" : ""}${pp.toFixed(1)} pt`;
}

function headline(rows: ChannelAnswer[], model: string, f: Formats): string {
  const top = rows.slice(0, 3).map((r) => `<strong>${h(r.channel)}</strong> ${h(f.pct(r.share))}`).join(", ");
  const moved = rows.filter((r) => r.lastTouchShare !== null).sort((a, b) => (b.share - b.lastTouchShare!) - (a.share - a.lastTouchShare!));
  const up = moved[0];
  const down = moved[moved.length - 1];
  const shift = up && down && up !== down && model !== LAST_TOUCH
    ? ` Compared with last click, <strong>${h(up.channel)}</strong> gains the most (${h(signedPoints(up.share - up.lastTouchShare!))}) and <strong>${h(down.channel)}</strong> loses the most (${h(signedPoints(down.share - down.lastTouchShare!))}).`
    : "";
  return `<p class="lead">By <code>${h(model)}</code>, the channels that earn the conversions are ${top}.${shift}</p>`;
}

/** A run over data without conversions: the reason the comparison was skipped, said instead of empty or "agreeing" models. */
function nothingToAttribute(d: ReportData): string | undefined {
  const skipped = d.run.actions.find((a) => a.action === "model_comparison" && a.status === "skipped" && a.note?.startsWith("no conversions"));
  return skipped ? `<p class="empty">Nothing to attribute: ${h(skipped.note!)}.</p>` : undefined;
}

/**
 * What the published interval is and what it covers (channel_credit_intervals; src/models/credit-interval.ts), with the
 * benchmark's measured coverage on worlds it was not calibrated on (README "Recommendation, intervals, AUC floor").
 */
const INTERVAL_NOTE = "90 % interval: the bootstrap interval (Poisson bootstrap of the journeys: how much the share moves with the sample at this data's size) widened by the 90 % conformal quantile of how far the true incremental share fell outside such intervals on the 3 benchmark worlds most like this data (per channel count), which adds the model's bias; a model without a bootstrap gets the share ± that quantile of its errors there. On benchmark worlds it was not calibrated on it covered the true share for 92–93 % of channels over all models (87 % or more in every scenario family; 87–91 % for the recommended model); it promises that only for data like the benchmark's worlds. The bootstrap interval alone covers far less (a model's bias is larger than its sampling noise).";

/** The first section: the recommended model's answer per channel. */
export async function answerSection(d: ReportData, f: Formats): Promise<string> {
  const rows = rowsOf(d.creditByModel);
  if (!rows) return `<section id="answer"><h2>Which channels earn the conversions</h2>${nothingToAttribute(d) ?? absent(d.creditByModel, "Channel credit by model")}</section>`;
  const models = [...new Set(rows.map((r) => r.model))];
  const model = recommendedModel(models, d.recommendation)!;
  const perf = rowsOf(d.channelPerformance);
  const answers = channelAnswers(rows, model, perf, d);
  const hasCost = answers.some((a) => a.cost !== null);
  const hasInterval = answers.some((a) => a.low !== null);
  const hasBootstrap = answers.some((a) => a.bootstrapLow !== null);
  const columns: Column<ChannelAnswer>[] = [
    { title: "channel", value: (a) => a.channel },
    { title: "share", value: (a) => f.pct(a.share), numeric: true },
    ...(hasInterval ? [{ title: "90 % interval", value: (a: ChannelAnswer) => (a.low === null || a.high === null ? "–" : `${f.pct(a.low)} – ${f.pct(a.high)}`), numeric: true }] : []),
    ...(hasBootstrap ? [{ title: "bootstrap interval (sampling noise)", value: (a: ChannelAnswer) => (a.bootstrapLow === null || a.bootstrapHigh === null ? "–" : `${f.pct(a.bootstrapLow)} – ${f.pct(a.bootstrapHigh)}`), numeric: true }] : []),
    { title: "conversions", value: (a) => f.num(a.conversions, 1), numeric: true },
    { title: `value (${d.currency})`, value: (a) => f.money(a.value), numeric: true },
    { title: "vs last click", value: (a) => signedPoints(change(a.share, a.lastTouchShare)), numeric: true },
    { title: "conversions vs last click", value: (a) => signedPct(f, relChange(a.conversions, a.lastTouchConversions)), numeric: true },
    ...(hasCost ? [
      { title: `spend (${d.currency})`, value: (a: ChannelAnswer) => f.money(a.cost), numeric: true },
      { title: "ROAS", value: (a: ChannelAnswer) => f.ratio(a.roas), numeric: true },
    ] : []),
  ];
  const chart = await figure(`Share of credit: ${model} vs last click`, answerSharesSpec(
    answers.map((a) => ({ channel: a.channel, share: a.share, last_touch_share: a.lastTouchShare })), model, LAST_TOUCH,
  ), table(answers, columns), { subtitle: "bars: recommended model; ticks: last click" });
  const spend = hasCost ? "" : `<p class="empty">Spend and ROAS per channel: ${d.channelPerformance.state === "error" ? `could not read <code>${h(d.channelPerformance.table)}</code> — ${h(d.channelPerformance.message)}` : `not built in this run (no table <code>${h(d.channelPerformance.table)}</code>)`}.</p>`;
  return `<section id="answer"><h2>Which channels earn the conversions</h2>
${headline(answers, model, f)}
${whyThisModel(d, model)}
${table(answers, columns)}
${hasInterval || hasBootstrap ? `<p class="muted small">${INTERVAL_NOTE}</p>` : ""}
${spend}
${chart}
</section>`;
}

/** Why the report leads with this model: model_recommendation's reason and ranking, or the fixed rule. */
function whyThisModel(d: ReportData, model: string): string {
  const ranked = rowsOf(d.recommendation);
  const picked = ranked?.find((r) => r.is_recommended && r.model === model);
  if (!ranked || !picked) return `<p class="muted small">Recommended model: <code>${h(model)}</code>. Rule: ${h(RECOMMENDATION_RULE)}; compare any other model below.</p>`;
  const l1 = (v: number | null): string => (v === null ? "–" : v.toFixed(2));
  const columns: Column<ModelRecommendationRow>[] = [
    { title: "rank", value: (r) => String(r.rank), numeric: true },
    { title: "model", value: (r) => r.model },
    { title: "expected L1", value: (r) => l1(r.expected_l1), numeric: true },
    { title: "benchmark L1", value: (r) => l1(r.benchmark_l1), numeric: true },
    { title: "bootstrap L1", value: (r) => l1(r.bootstrap_l1), numeric: true },
  ];
  return `<p class="muted small">Recommended model: <code>${h(model)}</code> — ${h(picked.reason)} (similar worlds: ${h(picked.benchmark_worlds)}). Compare any other model below.</p>
<details><summary>Why this model: every model's expected distance to the true shares</summary>
<p class="muted small">expected L1 = benchmark L1 (mean Σ|share − true incremental share| on the benchmark worlds most like this data) + bootstrap L1 (how far the shares move across bootstrap samples of this data). 0 is perfect, 2 is every share wrong.</p>
${table(ranked, columns)}
</details>`;
}

/** One sentence per surprise a reader would ask about. */
function surprises(rows: ChannelCredit[], models: string[], f: Formats): string[] {
  const out: string[] = [];
  const shareOf = (m: string, c: string): number | null => rows.find((r) => r.model === m && r.channel === c)?.share ?? null;
  const channels = [...new Set(rows.map((r) => r.channel))];
  for (const c of channels) {
    const byModel = models.map((m) => ({ m, s: shareOf(m, c) })).filter((x): x is { m: string; s: number } => x.s !== null);
    if (byModel.length < 2) continue;
    const hi = byModel.reduce((a, b) => (b.s > a.s ? b : a));
    const lo = byModel.reduce((a, b) => (b.s < a.s ? b : a));
    if (hi.s - lo.s < 0.08) continue;
    out.push(`<li><strong>${h(c)}</strong> ranges from ${h(f.pct(lo.s))} (<code>${h(lo.m)}</code>) to ${h(f.pct(hi.s))} (<code>${h(hi.m)}</code>). ${h(explain(c, hi.m, lo.m))}</li>`);
  }
  return out;
}

function explain(channel: string, high: string, low: string): string {
  if (/offline/i.test(channel)) {
    return "Call-centre orders reach the CRM without a web session: their journey is often the offline touch alone, so every model that credits the touches a conversion had (Shapley and the data-driven models included) gives those orders to Offline; models that weigh earlier web touches give it less.";
  }
  if (/direct/i.test(channel)) {
    return "Direct visits are mostly returning users: models that credit the first touch or spread credit over the path give them more, last non-direct click skips them by design.";
  }
  if (/first/.test(high) || /last/.test(low)) return "It opens journeys more often than it closes them: first-touch and path-spreading models credit openers.";
  if (/last/.test(high) || /first/.test(low)) return "It closes journeys more often than it opens them (retargeting, brand search, e-mail): last-touch models credit closers.";
  return "The models weigh where in the path the channel appears differently.";
}

/** Every two models channel by channel; server-rendered for the recommended model vs last click, a picker re-renders it. */
export async function comparisonSection(d: ReportData, f: Formats): Promise<string> {
  const rows = rowsOf(d.creditByModel);
  if (!rows) return `<section id="compare"><h2>Model comparison</h2>${nothingToAttribute(d) ?? absent(d.creditByModel, "Channel credit by model")}</section>`;
  const models = [...new Set(rows.map((r) => r.model))];
  const channels = [...new Set(rows.map((r) => r.channel))];
  const a = recommendedModel(models, d.recommendation)!;
  const b = models.includes(LAST_TOUCH) && a !== LAST_TOUCH ? LAST_TOUCH : models.find((m) => m !== a) ?? a;
  const data = { models, channels, cells: Object.fromEntries(rows.map((r) => [`${r.model}|${r.channel}`, [r.share, r.conversions, r.value]])) };
  const heat = await figure("Share of credit per channel and model", shareHeatmapSpec(rows, models, channels), table(channels, [
    { title: "channel", value: (c) => c },
    ...models.map((m) => ({ title: m, value: (c: string) => f.pct(rows.find((r) => r.model === m && r.channel === c)?.share), numeric: true })),
  ]), { subtitle: "each column adds up to 100 %" });
  const select = (id: string, chosen: string, label: string): string =>
    `<label for="${id}">${h(label)}</label> <select id="${id}">${models.map((m) => `<option${m === chosen ? " selected" : ""}>${h(m)}</option>`).join("")}</select>`;
  const agree = rowsOf(d.agreement);
  const agreeFig = agree
    ? await figure("How much the models agree", agreementHeatmapSpec(agree, models), table(agree, [
        { title: "model A", value: (r) => r.model_a },
        { title: "model B", value: (r) => r.model_b },
        { title: "top-3 Jaccard", value: (r) => f.fixed(r.top3_jaccard, 2), numeric: true },
        { title: "same top-3 order", value: (r) => (r.top3_same_order === null ? "–" : r.top3_same_order ? "yes" : "no") },
        { title: "Spearman ρ", value: (r) => f.fixed(r.spearman, 2), numeric: true },
      ]), { subtitle: "Spearman's rank correlation of the channels' credit; 1 = same ranking" })
    : absent(d.agreement, "Model agreement");
  const notes = surprises(rows, models, f);
  // A registered model without credit published none this run (e.g. ML below vars.ml_min_auc): said, not left out silently.
  const unpublished = (d.registeredModels ?? []).filter((m) => !models.includes(m));
  const unpublishedNote = unpublished.length
    ? `<p class="note">Not published this run (no credit, not compared): ${unpublished.map((m) => `<code>${h(m)}</code>`).join(", ")}. An ML attribution model is published only when its test AUC reaches vars.ml_min_auc; see the warnings.</p>`
    : "";
  return `<section id="compare"><h2>Model comparison</h2>
${unpublishedNote}
<div class="picker">${select("cmp-a", a, "Model")} ${select("cmp-b", b, "compared with")}</div>
<div id="cmp-table">${comparisonTable(rows, channels, a, b, f)}</div>
<script type="application/json" id="credit-data">${JSON.stringify(data).replace(/</g, "\\u003c")}</script>
<script>${COMPARE_SCRIPT}</script>
${notes.length ? `<h3>Why the models differ</h3><ul class="notes">${notes.join("")}</ul>` : ""}
${heat}
${agreeFig}
</section>`;
}

function comparisonTable(rows: ChannelCredit[], channels: string[], a: string, b: string, f: Formats): string {
  const cell = (m: string, c: string): ChannelCredit | undefined => rows.find((r) => r.model === m && r.channel === c);
  return table(channels, [
    { title: "channel", value: (c) => c },
    { title: `${a} conversions`, value: (c) => f.num(cell(a, c)?.conversions, 1), numeric: true },
    { title: `${b} conversions`, value: (c) => f.num(cell(b, c)?.conversions, 1), numeric: true },
    { title: "change", value: (c) => f.num(change(cell(a, c)?.conversions ?? null, cell(b, c)?.conversions ?? null), 1), numeric: true },
    { title: "change %", value: (c) => signedPct(f, relChange(cell(a, c)?.conversions ?? null, cell(b, c)?.conversions ?? null)), numeric: true },
    { title: `${a} share`, value: (c) => f.pct(cell(a, c)?.share), numeric: true },
    { title: `${b} share`, value: (c) => f.pct(cell(b, c)?.share), numeric: true },
  ]);
}

/**
 * Re-renders the comparison table when a model is picked: reads the embedded JSON, writes text
 * through textContent only (no HTML from data). Same columns as comparisonTable.
 */
const COMPARE_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById("credit-data").textContent);
  var a = document.getElementById("cmp-a"), b = document.getElementById("cmp-b"), out = document.getElementById("cmp-table");
  var n1 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
  var p1 = new Intl.NumberFormat("en-US", { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
  function num(v) { return v === null || v === undefined ? "\\u2013" : n1.format(v); }
  function pct(v) { return v === null || v === undefined ? "\\u2013" : p1.format(v); }
  function get(m, c, i) { var x = data.cells[m + "|" + c]; return x ? x[i] : null; }
  function render() {
    var ma = a.value, mb = b.value;
    var t = document.createElement("table"), head = t.createTHead().insertRow(), body = t.createTBody();
    ["channel", ma + " conversions", mb + " conversions", "change", "change %", ma + " share", mb + " share"].forEach(function (s, i) {
      var th = document.createElement("th"); th.textContent = s; if (i) th.className = "num"; head.appendChild(th);
    });
    data.channels.forEach(function (c) {
      var ca = get(ma, c, 1), cb = get(mb, c, 1);
      var d = ca === null || cb === null ? null : ca - cb;
      var rel = d === null || !cb ? null : d / cb;
      var cells = [c, num(ca), num(cb), num(d), rel === null ? "\\u2013" : (rel > 0 ? "+" : "") + pct(rel), pct(get(ma, c, 0)), pct(get(mb, c, 0))];
      var tr = body.insertRow();
      cells.forEach(function (s, i) { var td = tr.insertCell(); td.textContent = s; if (i) td.className = "num"; });
    });
    var wrap = document.createElement("div"); wrap.className = "table-wrap"; wrap.appendChild(t);
    out.replaceChildren(wrap);
  }
  a.addEventListener("change", render); b.addEventListener("change", render);
})();`;

/** Paths and timing: the analyst tables as they are, or one sentence each when not built. */
export function pathsSection(d: ReportData, f: Formats): string {
  const parts = d.paths.map(({ title, data }) => {
    const rows = rowsOf(data);
    if (!rows) return `<h3>${h(title)}</h3>${absent(data, title)}`;
    const cols = Object.keys(rows[0]!);
    return `<h3>${h(title)}</h3>` + table(rows, cols.map((c): Column<GenericRow> => ({
      title: c, numeric: typeof rows[0]![c] === "number",
      value: (r) => (typeof r[c] === "number" ? f.num(r[c] as number, 2) : String(r[c] ?? "–")),
    })), { limit: 15 });
  });
  return `<section id="paths"><h2>Paths and timing</h2>${parts.join("\n")}</section>`;
}

/** Campaigns under the recommended model: spend, credited conversions and value, ROAS, change vs last click. */
export function campaignsSection(d: ReportData, f: Formats): string {
  const rows = rowsOf(d.campaignPerformance);
  if (!rows) return `<section id="campaigns"><h2>Campaigns</h2>${absent(d.campaignPerformance, "Campaign performance")}</section>`;
  const model = recommendedModel([...new Set(rows.map((r) => r.model))], d.recommendation)!;
  const mine = rows.filter((r) => r.model === model).sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
  return `<section id="campaigns"><h2>Campaigns</h2><p class="muted small">Credit by <code>${h(model)}</code>, highest value first.</p>${table(mine, [
    { title: "source / medium", value: (r) => `${r.source} / ${r.medium}` },
    { title: "campaign", value: (r) => r.campaign },
    { title: "channel", value: (r) => r.channel },
    { title: `spend (${d.currency})`, value: (r) => f.money(r.cost), numeric: true },
    { title: "conversions", value: (r) => f.num(r.conversions, 1), numeric: true },
    { title: `value (${d.currency})`, value: (r) => f.money(r.value), numeric: true },
    { title: "ROAS", value: (r) => f.ratio(r.cost ? (r.value ?? 0) / r.cost : null), numeric: true },
    { title: "conversions vs last click", value: (r) => signedPct(f, relChange(r.conversions, r.last_touch_conversions)), numeric: true },
  ], { limit: 25 })}</section>`;
}
