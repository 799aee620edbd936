import { main } from "./main.ts";
import { flushed } from "./output.ts";

// The `edgeswarm` process: run, let stdout drain (it may be a pipe), then exit
// with the command's code rather than waiting for idle sockets to close.
const code = await main(process.argv.slice(2));
await flushed();
process.exit(code);
