import { execFile } from "node:child_process";
import type { CodeBlock } from "./markdown.ts";

/** The address the docs' examples use: `npm start`'s default. */
export const DOCS_URL = "http://127.0.0.1:8787";

/** One HTTP exchange an example made, as curl saw it. */
export interface CurlAnswer {
  /** The command as the docs write it (continuation lines joined). */
  command: string;
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  /** What curl printed of the body. */
  text: string;
}

/** The commands of a shell block: comments and blank lines dropped, `\` continuations joined. */
export function shellCommands(body: string): string[] {
  const commands: string[] = [];
  let current = "";
  for (const raw of body.split("\n")) {
    const line = raw.trim();
    if (!current && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    commands.push(current + line);
    current = "";
  }
  if (current) commands.push(current.trim());
  return commands;
}

/** A shell block that only calls the API with curl, at the docs' address: the suites run it as written. */
export function isCurlExample(block: CodeBlock): boolean {
  if (block.lang !== "sh") return false;
  const commands = shellCommands(block.body);
  return commands.length > 0 && commands.every((c) => c.startsWith("curl ") && c.includes(DOCS_URL));
}

/** The `# → <status> <answer sketch>` comments of a block, in order. */
export function expectedAnswers(body: string): { status: number; sketch: string }[] {
  return [...body.matchAll(/^# → (\d{3}) (.*)$/gm)].map((m) => ({ status: Number(m[1]), sketch: m[2] ?? "" }));
}

const MARK = "@@edgeswarm-docs-answer";

/**
 * Runs a curl example's text with bash against `url`, with `EDGESWARM_API_KEY`
 * set. The text runs as written but for the address; `curl` is wrapped only to
 * report each answer's status and content type after its body.
 */
export async function runCurlExample(
  block: CodeBlock,
  options: { url: string; apiKey: string; timeoutMs: number },
): Promise<CurlAnswer[]> {
  const script = [
    `curl() { command curl -sS -w '\\n${MARK} %{http_code} %{content_type}\\n' "$@"; }`,
    "set -e",
    block.body.replaceAll(DOCS_URL, options.url),
  ].join("\n");
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      "bash",
      ["-c", script],
      {
        env: { PATH: process.env.PATH, EDGESWARM_API_KEY: options.apiKey },
        timeout: options.timeoutMs,
        maxBuffer: 8 * 1024 * 1024,
      },
      (err, out, errOut) =>
        err ? reject(new Error(`${block.file}:${block.line}: ${err.message}\n${errOut}`)) : resolve(out),
    );
  });
  // Each answer is its body, then a line of our own with its status and content type.
  const exchanges: { text: string; status: number; contentType: string | null }[] = [];
  let body: string[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith(`${MARK} `)) {
      body.push(line);
      continue;
    }
    const [status, ...type] = line.slice(MARK.length + 1).split(" ");
    exchanges.push({ text: body.join("\n"), status: Number(status), contentType: type.join(" ") || null });
    body = [];
  }
  const commands = shellCommands(block.body);
  if (exchanges.length !== commands.length)
    throw new Error(`${block.file}:${block.line}: ${commands.length} commands made ${exchanges.length} requests`);
  const answers: CurlAnswer[] = commands.map((command, i) => {
    const url = new URL(/(https?:\/\/[^\s'"]+)/.exec(command.replaceAll(DOCS_URL, options.url))?.[1] ?? options.url);
    const explicit = /(?:-X|--request)\s+([A-Z]+)/.exec(command)?.[1];
    const exchange = exchanges[i] as (typeof exchanges)[number];
    return {
      command,
      method: explicit ?? (/\s(-d|--data\S*)\s/.test(command) ? "POST" : "GET"),
      path: url.pathname + url.search,
      ...exchange,
    };
  });
  return answers;
}

/**
 * An answer sketch of the docs (`{"id": "ex_5f0c…", "files": [], "usage": {…}}`)
 * as JSON: an elided value (`…`, `[…]`, `{…}`) becomes null, `[]` or `{}`.
 */
export function parseSketch(text: string): unknown {
  const json = text
    .replaceAll("[…]", "[]")
    .replaceAll("{…}", "{}")
    .replace(/:\s*…(?=\s*[,}\]])/g, ": null");
  return JSON.parse(json);
}
