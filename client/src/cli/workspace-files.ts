import { readFile } from "node:fs/promises";
import { basename, isAbsolute, normalize, sep } from "node:path";
import { REQUEST_MAXIMA, type WorkspaceFile, WorkspacePath } from "@edgeswarm/shared";
import { UsageError } from "./usage-error.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads `--file` paths into workspace files. A relative path keeps its place
 * in the workspace (`data/in.csv` → `/workspace/data/in.csv`); an absolute
 * path, or one that climbs out with `..`, lands at the workspace root under
 * its own name. Text goes as UTF-8, anything else as base64.
 */
export async function readWorkspaceFiles(paths: string[], command: string): Promise<WorkspaceFile[]> {
  if (paths.length > REQUEST_MAXIMA.files) {
    throw new UsageError(`at most ${REQUEST_MAXIMA.files} --file flags, got ${paths.length}`, command);
  }
  const files: WorkspaceFile[] = [];
  for (const local of paths) {
    const norm = normalize(local).split(sep).join("/");
    const path = isAbsolute(local) || norm.startsWith("../") || norm === ".." ? basename(local) : norm;
    if (!WorkspacePath.safeParse(path).success) {
      throw new UsageError(`--file ${local}: '${path}' is not a usable workspace path`, command);
    }
    if (files.some((f) => f.path === path)) throw new UsageError(`--file ${local}: '${path}' is given twice`, command);
    let bytes: Buffer;
    try {
      bytes = await readFile(local);
    } catch (err) {
      throw new UsageError(`--file ${local}: ${(err as Error).message}`, command);
    }
    if (bytes.length > REQUEST_MAXIMA.fileBytes) {
      throw new UsageError(`--file ${local} is over ${REQUEST_MAXIMA.fileBytes} bytes`, command);
    }
    files.push(asWorkspaceFile(path, bytes));
  }
  return files;
}

function asWorkspaceFile(path: string, bytes: Buffer): WorkspaceFile {
  try {
    return { path, content: utf8.decode(bytes), encoding: "utf8" };
  } catch {
    return { path, content: bytes.toString("base64"), encoding: "base64" };
  }
}
