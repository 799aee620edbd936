import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// Every relative link of the README, docs/ and the package READMEs leads somewhere: the file
// exists, and a #fragment names a heading of the page it points at, slugged as GitHub does.

const ROOT = join(import.meta.dirname, "..", "..");

/** README.md, every page under docs/, and the README of each package, relative to the repository. */
function linkingFiles(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  const packages = readdirSync(join(ROOT), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
    .map((entry) => `${entry.name}/README.md`)
    .filter((file) => existsSync(join(ROOT, file)))
    .sort();
  return ["README.md", ...docs, ...packages, "clients/python/README.md"];
}

/** `text` with its fenced blocks blanked out, keeping every line where it was. */
function withoutFences(text: string): string {
  let fence: string | undefined;
  const lines = text.split("\n").map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined) {
      if (marker) fence = marker;
      return marker ? "" : line;
    }
    if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
    return "";
  });
  return lines.join("\n");
}

/** `text` with fenced blocks and inline code blanked out, keeping every line where it was. */
function prose(text: string): string {
  // A code span may run over a line break; blank it but keep its newlines.
  return withoutFences(text).replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, (span) => span.replace(/[^\n]/g, " "));
}

/** GitHub's anchor for a heading: its text lowercased, without punctuation, each space a hyphen. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link or an image: its text
    .replace(/<[^>]+>/g, "") // HTML tags
    .replace(/[`*]/g, ""); // code and emphasis markers
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors a markdown file offers: its headings' slugs (repeats get -1, -2, …) and any HTML id or name. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(text).split("\n")) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const m of line.matchAll(/<[a-z][^>]*\s(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(m[1] ?? "");
  }
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

/** Every link of `file` whose target is not absolute: `[text](target)`, `[ref]: target` and `<a href>`. */
function relativeLinks(file: string, text: string): Link[] {
  const body = prose(text);
  const patterns = [
    /\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^\s)>]+)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g,
    /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm,
    /<a\s[^>]*href\s*=\s*["']([^"']+)["']/gi,
  ];
  const links: Link[] = [];
  for (const pattern of patterns) {
    for (const m of body.matchAll(pattern)) {
      const target = m[1] ?? "";
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
      links.push({ file, line: body.slice(0, m.index).split("\n").length, target });
    }
  }
  return links.sort((a, b) => a.line - b.line);
}

/** Why `link` leads nowhere, or undefined when it resolves. */
function problem(link: Link, read: (path: string) => string): string | undefined {
  const hash = link.target.indexOf("#");
  const path = decodeURIComponent(hash < 0 ? link.target : link.target.slice(0, hash));
  const fragment = hash < 0 ? undefined : decodeURIComponent(link.target.slice(hash + 1));
  const absolute = path === "" ? join(ROOT, link.file) : resolve(dirname(join(ROOT, link.file)), path);
  const shown = relative(ROOT, absolute) || ".";
  if (!existsSync(absolute)) return `${shown} does not exist`;
  if (fragment === undefined) return undefined;
  if (!absolute.endsWith(".md"))
    return /^L\d+(-L\d+)?$/.test(fragment) ? undefined : `#${fragment} on a non-markdown file`;
  const anchors = anchorsOf(read(absolute));
  return anchors.has(fragment) ? undefined : `${shown} has no heading #${fragment}`;
}

/** Each link of `files` that leads nowhere, as `file:line: target (why)`. */
function brokenLinks(files: string[]): { links: number; broken: string[] } {
  const cache = new Map<string, string>();
  const read = (path: string) => cache.get(path) ?? cache.set(path, readFileSync(path, "utf8")).get(path) ?? "";
  const broken: string[] = [];
  let links = 0;
  for (const file of files) {
    for (const link of relativeLinks(file, read(join(ROOT, file)))) {
      links++;
      const why = problem(link, read);
      if (why) broken.push(`${link.file}:${link.line}: ${link.target} (${why})`);
    }
  }
  return { links, broken };
}

describe("the documentation's links", () => {
  it("slugs headings as GitHub does", () => {
    expect(githubSlug("`POST /v1/runs`: an agent run")).toBe("post-v1runs-an-agent-run");
    expect(githubSlug("Sharing a pool: the queue, quotas and agent identity")).toBe(
      "sharing-a-pool-the-queue-quotas-and-agent-identity",
    );
    expect(githubSlug("`GET /v1/agents/connect` and `GET /healthz`")).toBe("get-v1agentsconnect-and-get-healthz");
    expect(githubSlug("Ünïcode and snake_case — kept")).toBe("ünïcode-and-snake_case--kept");
    expect([...anchorsOf("# A\n## Limits\n```\n## Not a heading\n```\n## Limits\n")]).toEqual([
      "a",
      "limits",
      "limits-1",
    ]);
  });

  it("finds links in prose only, not in code", () => {
    const text = "[a](x.md) `[b](y.md)`\n```md\n[c](z.md)\n```\n<a href='w.md#top'>w</a> [web](https://example.com)";
    expect(relativeLinks("docs/t.md", text).map((l) => `${l.line} ${l.target}`)).toEqual(["1 x.md", "5 w.md#top"]);
  });

  it("each relative link of README.md, docs/ and the package READMEs resolves, #fragment included", () => {
    const files = linkingFiles();
    expect(files).toContain("docs/api.md");
    expect(files).toContain("worker/README.md");
    const { links, broken } = brokenLinks(files);
    expect(links).toBeGreaterThan(50);
    expect(broken).toEqual([]);
  });
});
