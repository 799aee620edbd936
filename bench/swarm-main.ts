import { formatSwarmTable, measureSwarm } from "./swarm.ts";

// `node bench/swarm-main.ts`: only the swarm section of `npm run bench` (cost
// and loop overhead), for working on the run loop without the rest.

const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort(new Error("interrupted")));
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
try {
  const result = await measureSwarm(interrupt.signal, say);
  process.stdout.write(`\n${formatSwarmTable(result)}`);
  process.exit(0);
} catch (err) {
  say(`failed: ${(err as Error).message}`);
  process.exit(1);
}
