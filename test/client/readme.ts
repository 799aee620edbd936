import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO } from "./cli-process.ts";

/** The text of a markdown file of the repository (`file` relative to it, e.g. "docs/cli.md"). */
export async function markdownFile(file: string): Promise<string> {
  return readFile(join(REPO, file), "utf8");
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
  const blocks: string[] = [];
  const re = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, "gm");
  for (let m = re.exec(text); m; m = re.exec(text)) blocks.push(m[1] ?? "");
  return blocks;
}
