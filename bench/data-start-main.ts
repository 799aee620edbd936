import { runAlone } from "./alone.ts";
import { formatDataStartTable, measureDataStart } from "./data-start.ts";
import { preflight } from "./docker.ts";

// `node bench/data-start-main.ts`: only the data-start section of `npm run bench`
// (BENCH_N rounds, default 40), for working on preloading without the rest.

await runAlone(async ({ n, signal, say }) => {
  await preflight();
  return formatDataStartTable(await measureDataStart({ n, warmup: 3, runTimeoutMs: 30_000, signal, say }), n, 3);
});
