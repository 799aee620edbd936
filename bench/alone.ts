// What `node bench/<section>-main.ts` shares: one section of `npm run bench`
// on its own, with BENCH_N rounds (default 40), stopped by SIGINT.

export interface Alone {
  n: number;
  signal: AbortSignal;
  say: (line: string) => void;
}

/** Runs `section`, prints the table it returns, and exits 0; on failure says why and exits 1. */
export async function runAlone(section: (a: Alone) => Promise<string>): Promise<never> {
  const n = Number(process.env.BENCH_N ?? 40);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    process.stderr.write(`BENCH_N must be a whole number from 1 to 1000, not '${process.env.BENCH_N}'\n`);
    process.exit(2);
  }
  const interrupt = new AbortController();
  process.once("SIGINT", () => interrupt.abort(new Error("interrupted")));
  const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
  try {
    process.stdout.write(`\n${await section({ n, signal: interrupt.signal, say })}`);
    process.exit(0);
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
