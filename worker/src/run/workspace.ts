import { fileSetProblem, type WorkspaceFile } from "@edgeswarm/shared";

/** Most bytes one run file may have: a SQLite row holds at most 2 MB, base64 included. */
export const RUN_FILE_MAX_BYTES = 1024 * 1024;
/** Most files a run's workspace holds. */
export const RUN_FILES_MAX = 100;

/**
 * Why a call's files cannot join the run's workspace, in words for the coder:
 * too many files in all, or a file whose path runs through another's.
 */
export function workspaceProblem(
  workspace: readonly WorkspaceFile[],
  call: { files?: readonly { path: string }[] | undefined },
): string | null {
  const paths = new Set(workspace.map((f) => f.path));
  for (const f of call.files ?? []) paths.add(f.path);
  if (paths.size > RUN_FILES_MAX) {
    return `the workspace holds ${workspace.length} files and this call would make it ${paths.size}; a run keeps at most ${RUN_FILES_MAX}. Write fewer files, or combine them.`;
  }
  const clash = fileSetProblem([...paths]);
  return clash ? `the call's files do not fit the workspace: ${clash}` : null;
}

interface FileRow {
  path: string;
  content: string;
  encoding: string;
  [key: string]: SqlStorageValue;
}

/** Decoded byte size of a workspace file. */
export function fileBytes(file: WorkspaceFile): number {
  if (file.encoding === "utf8") return new TextEncoder().encode(file.content).length;
  const pad = file.content.endsWith("==") ? 2 : file.content.endsWith("=") ? 1 : 0;
  return Math.floor((file.content.length * 3) / 4) - pad;
}

/**
 * The run's workspace: the files carried from one execution to the next (the
 * request's files, then every file an execution wrote). Kept in its own table
 * so events stay small; events name the paths.
 */
export class Workspace {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS files (
      path TEXT PRIMARY KEY,
      content TEXT NOT NULL,
      encoding TEXT NOT NULL
    )`);
  }

  /**
   * Stores files, replacing same-named ones. Returns the paths it refused and
   * why (too large, or the workspace is full), for the coder to be told.
   */
  put(files: readonly WorkspaceFile[]): { stored: string[]; refused: { path: string; why: string }[] } {
    const stored: string[] = [];
    const refused: { path: string; why: string }[] = [];
    for (const file of files) {
      if (fileBytes(file) > RUN_FILE_MAX_BYTES) {
        refused.push({ path: file.path, why: `larger than ${RUN_FILE_MAX_BYTES} bytes` });
        continue;
      }
      const exists = this.#sql.exec("SELECT 1 FROM files WHERE path = ?", file.path).toArray().length > 0;
      if (!exists && this.count() >= RUN_FILES_MAX) {
        refused.push({ path: file.path, why: `the workspace already holds ${RUN_FILES_MAX} files` });
        continue;
      }
      this.#sql.exec(
        "INSERT INTO files (path, content, encoding) VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE SET content = excluded.content, encoding = excluded.encoding",
        file.path,
        file.content,
        file.encoding,
      );
      stored.push(file.path);
    }
    return { stored, refused };
  }

  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM files").one().n;
  }

  all(): WorkspaceFile[] {
    return this.#sql
      .exec<FileRow>("SELECT path, content, encoding FROM files ORDER BY path")
      .toArray()
      .map((r) => ({ path: r.path, content: r.content, encoding: r.encoding === "base64" ? "base64" : "utf8" }));
  }
}
