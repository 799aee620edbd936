import { formatDataStartTable, measureDataStart } from "./data-start.ts";
import { preflight } from "./docker.ts";

// `node bench/data-start-main.ts`: only the data-start section of `npm run bench`
// (BENCH_N rounds, default 40), for working on preloading without the rest.

const n = Number(process.env.BENCH_N ?? 40);
if (!Number.isInteger(n) || n < 1 || n > 1000) {
  process.stderr.write(`BENCH_N must be a whole number from 1 to 1000, not '${process.env.BENCH_N}'\n`);
  process.exit(2);
}
const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort(new Error("interrupted")));
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
try {
  await preflight();
  const result = await measureDataStart({ n, warmup: 3, runTimeoutMs: 30_000, signal: interrupt.signal, say });
  process.stdout.write(`\n${formatDataStartTable(result, n, 3)}`);
  process.exit(0);
} catch (err) {
  say(`failed: ${(err as Error).message}`);
  process.exit(1);
}
