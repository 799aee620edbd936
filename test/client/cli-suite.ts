import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Edgeswarm } from "@edgeswarm/client";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { cliEnv } from "./cli-process.ts";
import { startModels } from "./models.ts";

/** What a CLI suite runs against: the real stack, the fake models, an SDK client and a home of its own. */
export interface CliSuite {
  stack: Stack;
  models: Awaited<ReturnType<typeof startModels>>;
  swarm: Edgeswarm;
  /** The CLI's environment: the endpoint, tenant A's key, and `dir/home` as HOME. */
  env: NodeJS.ProcessEnv;
  /** A temporary directory, removed by stop(). */
  dir: string;
  stop(): Promise<void>;
}

export async function startCliSuite(prefix: string): Promise<CliSuite> {
  const models = await startModels();
  const stack = await startStack(prefix, 1, 2, models.vars);
  const dir = await mkdtemp(join(tmpdir(), `edgeswarm-${prefix}-`));
  return {
    stack,
    models,
    swarm: new Edgeswarm({ url: stack.worker.url, apiKey: TENANTS.a.key }),
    env: cliEnv(stack.worker.url, TENANTS.a.key, join(dir, "home")),
    dir,
    async stop() {
      await stack.stop();
      await models.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
