import { runAlone } from "./alone.ts";
import { formatTracingTable, measureTracing } from "./tracing.ts";

// `node bench/tracing-main.ts`: only the tracing section of `npm run bench`
// (BENCH_N rounds, default 40), for working on tracing without the rest.

await runAlone(async ({ n, signal, say }) =>
  formatTracingTable(await measureTracing({ n, warmup: 3, runTimeoutMs: 30_000, signal, say }), n, 3),
);
