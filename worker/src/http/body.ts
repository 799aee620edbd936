import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { EdgeswarmError } from "../errors.ts";

/** Refuses bodies over `maxBytes` with 413, before they are read whole. */
export function limitBody(maxBytes: number) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new EdgeswarmError("payload_too_large", `the body is larger than ${maxBytes} bytes`);
    },
  });
}

/** Reads the JSON body and parses it with `schema`: 400 `invalid_json` or `invalid_request`. */
export async function parseBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch (cause) {
    if (cause instanceof EdgeswarmError) throw cause;
    throw new EdgeswarmError("invalid_json", "the body is not valid JSON");
  }
  return parseValue(schema, json);
}

/** Parses `value` with `schema`, or throws 400 `invalid_request` naming each field: bodies, and MCP's tool arguments. */
export function parseValue<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new EdgeswarmError("invalid_request", z.prettifyError(parsed.error), {
      details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return parsed.data;
}
