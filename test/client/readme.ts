import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO } from "./cli-process.ts";

/** The text of the README section `## <title>`, up to the next `## ` heading. */
export async function readmeSection(title: string): Promise<string> {
  const text = await readFile(join(REPO, "README.md"), "utf8");
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no section '## ${title}'`);
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
