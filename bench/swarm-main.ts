import { runAlone } from "./alone.ts";
import { formatSwarmTable, measureSwarm } from "./swarm.ts";

// `node bench/swarm-main.ts`: only the swarm section of `npm run bench` (cost
// and loop overhead), for working on the run loop without the rest.

await runAlone(async ({ signal, say }) => formatSwarmTable(await measureSwarm(signal, say)));
