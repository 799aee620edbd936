import { z } from "zod";
import type { JsonSchema } from "./model.ts";

/**
 * Keywords OpenAI's strict structured outputs refuse, which zod emits for
 * `.min()`/`.max()` on strings. The zod schema still enforces them when the
 * answer is parsed; the model is only spared a schema it would be refused.
 */
const STRICT_UNSUPPORTED = new Set(["minLength", "maxLength"]);

/**
 * The JSON Schema of what a model must send for `schema`: its input side, so a
 * field with a default is optional. Refinements (a path rule, a total size)
 * have no JSON Schema form; the zod schema checks them on arrival.
 */
export function jsonSchemaOf(schema: z.ZodType, options: { strictOutput?: boolean } = {}): JsonSchema {
  const { $schema: _, ...out } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return options.strictOutput ? (strip(out) as JsonSchema) : out;
}

function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !STRICT_UNSUPPORTED.has(key))
      .map(([key, value]) => [key, strip(value)]),
  );
}
