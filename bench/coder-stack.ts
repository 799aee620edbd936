import { randomBytes } from "node:crypto";
import { FakeAnthropic } from "../test/fakes/anthropic.ts";
import type { RecordedRequest, Script } from "../test/fakes/server.ts";
import { type BenchStack, startBenchStack } from "./stack.ts";

/** A bench's own Worker and agent, with a fake Anthropic coder that answers every request with `answer`. */
export interface CoderStack {
  stack: BenchStack;
  anthropic: FakeAnthropic;
  /** The fake's key: an SDK pointed at `anthropic.url` needs it too. */
  apiKey: string;
  stop(): Promise<void>;
}

export async function startCoderStack(signal: AbortSignal, capacity: number, answer: Script): Promise<CoderStack> {
  const apiKey = `sk-ant-bench-${randomBytes(12).toString("hex")}`;
  const anthropic = await FakeAnthropic.start({ apiKey, default: answer });
  const stack = await startBenchStack(signal, capacity, {
    ANTHROPIC_API_KEY: apiKey,
    ANTHROPIC_BASE_URL: anthropic.url,
  }).catch(async (err: unknown) => {
    await anthropic.close();
    throw err;
  });
  return {
    stack,
    anthropic,
    apiKey,
    async stop() {
      await stack.stop();
      await anthropic.close();
    },
  };
}

/** How many turns of the step's conversation the coder has had: its assistant messages. */
export function turnOf(request: RecordedRequest): number {
  const messages = (request.body as { messages?: { role: string }[] } | undefined)?.messages ?? [];
  return messages.filter((m) => m.role === "assistant").length;
}
