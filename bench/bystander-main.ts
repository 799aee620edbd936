import { HealthMonitor } from "../sandbox-agent/src/health.ts";

// A Node process that does nothing but watch its own event loop, with the
// agent's own HealthMonitor, and print one window a second as a JSON line.
// bystander.ts runs it beside the throughput loads: the delay it sees is the
// host's scheduling, which no work of the agent's causes.

const WINDOW_MS = 1_000;
const monitor = new HealthMonitor();
setInterval(() => process.stdout.write(`${JSON.stringify(monitor.sample(0))}\n`), WINDOW_MS);
