import { StatsWindow, type TenantStats } from "@edgeswarm/shared";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { EdgeswarmError } from "../errors.ts";

/** `GET /v1/stats?window=15m|1h|24h`: the key's own tenant's statistics (default 1h). */
export const stats = new Hono<AppEnv>().get("/", async (c) => {
  const asked = c.req.query("window") ?? "1h";
  const window = StatsWindow.safeParse(asked);
  if (!window.success) {
    throw new EdgeswarmError("invalid_request", `?window must be one of ${StatsWindow.options.join(", ")}`);
  }
  const answer: TenantStats = await c.env.STATS.getByName(c.get("tenant").id).stats(window.data);
  return c.json(answer);
});
