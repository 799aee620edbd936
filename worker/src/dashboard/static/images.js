// Images a run wrote (png, jpeg, svg), shown inline. The bytes come from
// GET /v1/runs/:id (result.files: base64 for binary files, text for an SVG
// that is valid UTF-8), which has them once the run has succeeded; no route
// serves one file of a running run, so until then an execution's image is
// named and waits for the result.
//
// Each image is a Blob with the type its extension names, shown by an <img>
// through a blob: URL. An SVG shown by <img> runs no script and loads nothing
// else; its markup is never put into the page's DOM.

import { h } from "./dom.js";

const TYPES = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", svg: "image/svg+xml" };

/** The image type a workspace path names by its extension, or null. */
export function imageType(path) {
  const ext = /\.([a-z]+)$/i.exec(typeof path === "string" ? path : "")?.[1]?.toLowerCase();
  return (ext && TYPES[ext]) ?? null;
}

function bytesOf(file) {
  if (file.encoding !== "base64") return file.content;
  const binary = atob(file.content);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The blob: URLs of a run's images, made once per path and content, and
 * revoked together when the page leaves the run.
 */
export class ImageStore {
  /** path → {key: its encoding and content, url} */
  #urls = new Map();

  /** Takes in result.files; keeps the images among them. */
  update(files) {
    for (const file of Array.isArray(files) ? files : []) {
      const type = imageType(file?.path);
      if (!type || typeof file.content !== "string") continue;
      const key = `${file.encoding}:${file.content}`;
      const known = this.#urls.get(file.path);
      if (known?.key === key) continue;
      let blob;
      try {
        blob = new Blob([bytesOf(file)], { type });
      } catch {
        continue; // not base64 after all: shown as a name only
      }
      if (known) URL.revokeObjectURL(known.url);
      this.#urls.set(file.path, { key, url: URL.createObjectURL(blob) });
    }
  }

  /** The URL to show `path` by, or null while its bytes are not known. */
  url(path) {
    return this.#urls.get(path)?.url ?? null;
  }

  revokeAll() {
    for (const { url } of this.#urls.values()) URL.revokeObjectURL(url);
    this.#urls.clear();
  }
}

/** An image with its path (and size, when known) under it. `testid` names where it is shown. */
export function imageFigure(path, url, testid, caption = path) {
  return h(
    "figure",
    { class: "image", "data-testid": testid, "data-path": path },
    url ? h("img", { src: url, alt: `${path}, written by the run` }) : null,
    h("figcaption", { class: "meta" }, url ? caption : `${caption}: shown here once the run has succeeded`),
  );
}
