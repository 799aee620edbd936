import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "../../scripts/lib/paths.ts";

/** One fenced code block of a markdown file. */
export interface CodeBlock {
  /** The file, relative to the repository. */
  file: string;
  /** The 1-based line of the opening fence. */
  line: number;
  /** The info string's first word (`sh`, `json`, …), or "" when the fence has none. */
  lang: string;
  /** The heading the block is under ("" before the first). */
  section: string;
  body: string;
}

/** Every fenced block of `text` (``` fences only; this project's docs use no other kind). */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split("\n");
  let open: { line: number; lang: string; body: string[] } | undefined;
  let section = "";
  for (const [i, line] of lines.entries()) {
    if (!open) {
      const fence = /^```\s*([^\s`]*)/.exec(line);
      if (fence) open = { line: i + 1, lang: fence[1] ?? "", body: [] };
      else if (/^#{1,6} /.test(line)) section = line.replace(/^#+ /, "").trim();
    } else if (/^```\s*$/.test(line)) {
      blocks.push({ file, line: open.line, lang: open.lang, section, body: open.body.join("\n") });
      open = undefined;
    } else {
      open.body.push(line);
    }
  }
  if (open) throw new Error(`${file}:${open.line}: a code block that is never closed`);
  return blocks;
}

/** The README and every page under docs/, relative to the repository, in a stable order. */
export async function documentationFiles(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, "docs"))).filter((name) => name.endsWith(".md")).sort();
  return ["README.md", ...docs.map((name) => `docs/${name}`)];
}

/** Every code block of the README and of docs/. */
export async function documentationBlocks(): Promise<CodeBlock[]> {
  const blocks: CodeBlock[] = [];
  for (const file of await documentationFiles()) blocks.push(...codeBlocks(file, await markdownFile(file)));
  return blocks;
}

/** The text of a markdown file of the repository (`file` relative to it, e.g. "docs/cli.md"). */
export function markdownFile(file: string): Promise<string> {
  return readFile(join(ROOT, file), "utf8");
}

/** The text of `file`'s section `## <title>`, up to the next `## ` heading. */
export async function markdownSection(file: string, title: string): Promise<string> {
  const text = await markdownFile(file);
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`${file} has no section '## ${title}'`);
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The bodies of the fenced blocks of `lang` in `text`, in order. */
export function fencedBlocks(text: string, lang: string): string[] {
  return codeBlocks("(text)", text)
    .filter((block) => block.lang === lang)
    .map((block) => block.body);
}
