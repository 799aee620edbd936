import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { errorAnswer } from "../http/status.ts";
import { ASSETS, type Asset, DOCS, INDEX } from "./assets.ts";

/**
 * The page holds no data and needs no key: every call it makes goes to /v1
 * with the key the user typed. Its own script only, no inline code, and
 * connections only back to this origin.
 *
 * `img-src blob:` is for the images a run wrote (images.js): the page builds a
 * Blob from the bytes GET /v1/runs/:id returned and shows it by an <img>.
 * That is safe: a blob: URL can only be made by a script of this page (and
 * only ours runs), so it lets in no other origin's image and leaks nothing out;
 * an SVG shown by <img> runs no script and loads no sub-resource; and nothing
 * else (frames, objects, scripts) may load blob: URLs, since default-src stays
 * 'none'. data: is not allowed: the page has no need of it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const etags = new WeakMap<Asset, Promise<string>>();

function etagOf(asset: Asset): Promise<string> {
  let etag = etags.get(asset);
  if (!etag) {
    etag = crypto.subtle.digest("SHA-256", new TextEncoder().encode(asset.body)).then((digest) => {
      const hex = Array.from(new Uint8Array(digest).slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
      return `"${hex}"`;
    });
    etags.set(asset, etag);
  }
  return etag;
}

async function serve(asset: Asset, ifNoneMatch: string | undefined): Promise<Response> {
  const etag = await etagOf(asset);
  const headers = new Headers({
    "Content-Type": asset.type,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    // The file names carry no version, so a browser revalidates each time; the
    // ETag makes that a 304 while the file is unchanged.
    "Cache-Control": "no-cache",
    ETag: etag,
  });
  const matches = ifNoneMatch?.split(",").some((tag) => tag.trim() === etag || tag.trim() === "*");
  if (matches) return new Response(null, { status: 304, headers });
  return new Response(asset.body, { headers });
}

/** `GET /`, `GET /docs` (the API reference) and `GET /dashboard/<file>`: the dashboard, without auth. */
export const dashboard = new Hono<AppEnv>()
  .get("/", (c) => serve(INDEX, c.req.header("If-None-Match")))
  .get("/docs", (c) => serve(DOCS, c.req.header("If-None-Match")))
  .get("/dashboard/:file", (c) => {
    const file = c.req.param("file");
    const asset = ASSETS.get(file);
    if (!asset) return errorAnswer("not_found", `no dashboard file '${file}'`);
    return serve(asset, c.req.header("If-None-Match"));
  });
