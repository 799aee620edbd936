import type { Command } from "../command.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { jsonLine, out } from "../output.ts";
import { table } from "../render/table.ts";

/** `edgeswarm agents ls`: the sandbox agents connected to the key's pools. */
export const agentsLs: Command = {
  name: "agents ls",
  args: "",
  positionals: [0, 0],
  summary: "list the sandbox agents connected to your pools",
  flags: {},
  async run(ctx) {
    const agents = await (await ctx.swarm()).agents.list();
    if (ctx.json) {
      jsonLine({ agents });
      return EXIT_CODES.ok;
    }
    const rows = agents.map((a) => [
      a.id,
      a.pool,
      a.version,
      `${a.inFlight}/${a.capacity}`,
      a.languages.join(","),
      a.lastHeartbeatAt,
    ]);
    out(table(["ID", "POOL", "VERSION", "BUSY", "LANGUAGES", "LAST HEARTBEAT"], rows));
    if (agents.length === 0) out("no agents connected");
    return EXIT_CODES.ok;
  },
};
