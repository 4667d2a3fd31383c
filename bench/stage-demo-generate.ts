import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { generateDemo } from "../src/demo/generate.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { peakMb, report } from "./measure.ts";

const [db, users, days] = process.argv.slice(2);
const { settings } = loadProjectSettings(process.cwd());
const engine = await DuckDBEngine.open({ path: db!, memoryLimit: "8GB" });
const t0 = performance.now();
const r = await generateDemo(engine.conn, { users: Number(users), days: Number(days), ga4Schema: settings.datasets.ga4, sourcesSchema: settings.datasets.sources });
await ensureSourceTables(engine, settings);
const seconds = (performance.now() - t0) / 1000;
await engine.close();
report({ seconds, peakMb: peakMb(), events: r.events, sessions: r.sessions });
