import { readFile } from "node:fs/promises";
import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, chosen below the
 * kernel's ephemeral range.
 *
 * A port the kernel hands out for `listen(0)` lies inside that range, the same
 * range every outbound connection's local port comes from; between our probe
 * closing and wrangler binding, any of the machine's connections could take
 * it ("Address already in use"). Below the range, only another listener that
 * chose a port by hand can, so a random pick that is free now stays free.
 */
export async function freePort(): Promise<number> {
  const [low, high] = await belowEphemeralRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port found in ${low}–${high} after 50 tries`);
}

const FLOOR = 10_000; // above the well-known and most registered service ports

async function belowEphemeralRange(): Promise<[number, number]> {
  let ephemeralLow = 32_768; // Linux's default
  try {
    const text = await readFile("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const first = Number(text.trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > FLOOR + 1000) ephemeralLow = first;
  } catch {
    // not Linux: keep the default
  }
  return [FLOOR, ephemeralLow];
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
