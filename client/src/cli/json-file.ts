import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { UsageError } from "./usage-error.ts";

/**
 * Reads a JSON file a flag names (`--team team.json`) and checks it with its
 * schema here, at the CLI's edge, so that a mistake is a usage error naming
 * the file, the field and what is wrong, before any request is made.
 * @example const team = await readJsonFile("team.json", "--team", Team, "run");
 */
export async function readJsonFile<S extends z.ZodType>(
  path: string,
  flag: string,
  schema: S,
  command: string,
): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as Error).message}`, command);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag} ${path} is not JSON: ${(err as Error).message}`, command);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(the whole file)"}: ${i.message}`);
  const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : "";
  throw new UsageError(`${flag} ${path}: ${issues.join("; ")}${more}`, command);
}
