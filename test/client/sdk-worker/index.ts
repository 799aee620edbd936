import { Edgeswarm, EdgeswarmApiError } from "../../../client/src/index.ts";

/**
 * Runs the SDK in workerd, as a Worker of a user's would: POST {url, apiKey,
 * code} and it answers with the execution's result, or with the SDK error's
 * code and status. sdk.test.ts points it at the real edgeswarm Worker.
 */
export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST") return new Response("ok"); // /healthz, which the launcher asks for
    const { url, apiKey, code } = (await request.json()) as { url: string; apiKey: string; code: string };
    const swarm = new Edgeswarm({ url, apiKey });
    try {
      return Response.json({ result: await swarm.executions.run({ language: "python", code }) });
    } catch (err) {
      if (err instanceof EdgeswarmApiError) return Response.json({ error: { code: err.code, status: err.status } });
      throw err;
    }
  },
};
