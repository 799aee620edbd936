/** The model layer's entry point: a ModelClient for a ModelConfig. */

import { AnthropicModel } from "./anthropic.ts";
import type { ModelClient, ModelConfig } from "./model.ts";
import { OpenAIModel } from "./openai.ts";

export { toModelError } from "./errors.ts";
export * from "./model.ts";

/** The client for `config.provider`. Never throws: a missing key fails each call with a ModelError. */
export function createModel(config: ModelConfig): ModelClient {
  switch (config.provider) {
    case "anthropic":
      return new AnthropicModel(config);
    case "openai":
    case "openai-compatible":
      return new OpenAIModel(config);
  }
}
