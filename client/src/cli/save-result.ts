import { mkdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { type Language, type RunView, WorkspacePath } from "@edgeswarm/shared";

const EXTENSIONS: Record<Language, string> = { python: "py", bash: "sh", node: "js" };

/** What `run` wrote, relative to the output directory. */
export interface Saved {
  dir: string;
  files: string[];
  /** Each written file's size in bytes, by its path in `files`; a run's file as its result's manifest gives it. */
  sizes: Record<string, number>;
}

/**
 * Saves a finished run under `dir`: `run.json` (the whole view), and when it
 * has a result, `code.<ext>` (the final code), `stdout.txt` and each returned
 * workspace file under `files/`. Paths are checked again here: a file path
 * that would land outside `dir` is refused, whatever the server sent.
 */
export async function saveResult(dir: string, run: RunView, language: Language | null): Promise<Saved> {
  const root = resolve(dir);
  const written: string[] = [];
  const sizes: Record<string, number> = {};
  const put = async (path: string, data: string | Uint8Array, bytes?: number) => {
    const target = resolve(root, path);
    const rel = relative(root, target);
    if (rel.startsWith("..") || isAbsolute(rel)) throw new Error(`refusing to write ${path} outside ${root}`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
    written.push(rel);
    sizes[rel] = bytes ?? (typeof data === "string" ? Buffer.byteLength(data) : data.length);
  };
  await mkdir(root, { recursive: true });
  await put("run.json", `${JSON.stringify(run, null, 2)}\n`);
  if (run.result) {
    await put(`code.${language ? EXTENSIONS[language] : "txt"}`, run.result.code);
    await put("stdout.txt", run.result.stdout);
    const manifest = new Map((run.result.manifest ?? []).map((f) => [f.path, f.bytes]));
    for (const file of run.result.files) {
      if (!WorkspacePath.safeParse(file.path).success) throw new Error(`refusing the returned file path ${file.path}`);
      const data = file.encoding === "base64" ? Buffer.from(file.content, "base64") : file.content;
      await put(join("files", file.path), data, manifest.get(file.path));
    }
  }
  return { dir: root, files: written, sizes };
}
