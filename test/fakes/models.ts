import { FakeAnthropic } from "./anthropic.ts";
import { FakeOpenAI } from "./openai.ts";

/**
 * Both fake model servers, each checking a key of its own, and the Worker
 * variables that point the real SDKs at them.
 */
export class FakeModels {
  readonly anthropic: FakeAnthropic;
  readonly openai: FakeOpenAI;
  readonly vars: Record<string, string>;

  private constructor(anthropic: FakeAnthropic, openai: FakeOpenAI, vars: Record<string, string>) {
    this.anthropic = anthropic;
    this.openai = openai;
    this.vars = vars;
  }

  /** `name` makes the keys, so each suite's are its own. */
  static async start(name: string): Promise<FakeModels> {
    const keys = { anthropic: `sk-ant-${name}`, openai: `sk-openai-${name}` };
    const anthropic = await FakeAnthropic.start({ apiKey: keys.anthropic });
    const openai = await FakeOpenAI.start({ apiKey: keys.openai });
    return new FakeModels(anthropic, openai, {
      ANTHROPIC_API_KEY: keys.anthropic,
      ANTHROPIC_BASE_URL: anthropic.url,
      OPENAI_API_KEY: keys.openai,
      OPENAI_BASE_URL: `${openai.url}/v1`,
    });
  }

  /** Drops what a test scripted and did not use, so it never answers the next test's requests. */
  reset(): void {
    this.anthropic.reset();
    this.openai.reset();
  }

  async close(): Promise<void> {
    await this.anthropic.close();
    await this.openai.close();
  }
}
