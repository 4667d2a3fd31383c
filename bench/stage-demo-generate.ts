import { DuckDBEngine } from "../src/engines/duckdb/engine.ts";
import { defaultMemoryLimit } from "../src/engines/duckdb/driver.ts";
import { generateDemo, GENERATE_MEMORY_LIMIT_BYTES } from "../src/demo/generate.ts";
import { loadProjectSettings } from "../src/config/settings.ts";
import { ensureSourceTables } from "../src/catalog/index.ts";
import { loadAverage, peakMb, report, sampleLoad } from "./measure.ts";

// The memory limit a user gets (`--memory-limit auto`), not a bigger one the bench would pick.
const [db, users, days] = process.argv.slice(2);
const { settings } = loadProjectSettings(process.cwd());
const memoryLimit = defaultMemoryLimit();
const engine = await DuckDBEngine.open({ path: db!, memoryLimit });
const load = loadAverage();
const sampler = sampleLoad();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = await generateDemo(engine.localLoading, { users: Number(users), days: Number(days), ga4Schema: settings.datasets.ga4, sourcesSchema: settings.datasets.sources });
await ensureSourceTables(engine, settings);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await engine.close();
// The generator lowers DuckDB to its own limit while it writes (generate.ts) and restores the engine's.
report({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakMb: peakMb(), events: r.events, sessions: r.sessions, memoryLimit, generateMemoryLimit: `${GENERATE_MEMORY_LIMIT_BYTES / 2 ** 20}MiB`, load: `${load} → ${loadAverage()}`, meanLoad: sampler.mean() });
