/**
 * Anthropic's prompt cache, as the fake computes it: a request's prompt is
 * its blocks in the API's order (tools, then system, then each message's
 * content), and a block marked `cache_control` is a breakpoint. A prefix up to
 * a breakpoint is written to the cache; a later request reads the longest
 * prefix identical to one written before, looked up from each of its own
 * breakpoints back over at most 20 blocks, as the API documents. Tokens are
 * counted as a quarter of a block's JSON characters (the real tokenizer is
 * not public); the fake ignores the minimum cacheable length.
 */

import { createHash, type Hash } from "node:crypto";
import { field, isObject, list } from "./server.ts";

/** How far back from a breakpoint the API looks for an earlier cache entry. */
const LOOKBACK_BLOCKS = 20;

export interface CacheUsage {
  /** Input tokens after the last cache hit or write: billed in full. */
  input: number;
  cacheRead: number;
  cacheWrite: number;
}

function withoutCacheControl(block: unknown): unknown {
  if (!isObject(block)) return block;
  const { cache_control: _, ...rest } = block;
  return rest;
}

/** The request's prompt as blocks, in the order the cache sees them, and which are breakpoints. */
function blocksOf(body: unknown): { text: string; breakpoint: boolean }[] {
  const out: { text: string; breakpoint: boolean }[] = [];
  const add = (role: string, block: unknown) =>
    out.push({
      text: `${role}:${JSON.stringify(withoutCacheControl(block))}`,
      breakpoint: isObject(block) && field(block, "cache_control") !== undefined,
    });
  for (const tool of list(body, "tools")) add("tool", tool);
  const system = field(body, "system");
  if (typeof system === "string") add("system", { type: "text", text: system });
  else for (const block of list(body, "system")) add("system", block);
  for (const message of list(body, "messages")) {
    const role = String(field(message, "role"));
    const content = field(message, "content");
    if (typeof content === "string") add(role, { type: "text", text: content });
    else for (const block of list(message, "content")) add(role, block);
  }
  return out;
}

export class FakePromptCache {
  readonly #entries = new Set<string>();

  /** Reads and writes the cache for one request, and says how its input tokens split. */
  use(body: unknown): CacheUsage {
    const blocks = blocksOf(body);
    const hashes: string[] = [];
    const tokens: number[] = []; // tokens[i]: of blocks 0..i
    let hash: Hash = createHash("sha256");
    let total = 0;
    for (const block of blocks) {
      hash = hash.copy().update(block.text).update("\u0000");
      hashes.push(hash.copy().digest("hex"));
      total += Math.ceil(block.text.length / 4);
      tokens.push(total);
    }
    const breakpoints = blocks.flatMap((b, i) => (b.breakpoint ? [i] : []));
    let read = -1;
    for (const bp of breakpoints) {
      for (let j = bp; j >= Math.max(0, bp - LOOKBACK_BLOCKS); j--) {
        if (this.#entries.has(hashes[j] ?? "")) {
          read = Math.max(read, j);
          break;
        }
      }
    }
    const last = breakpoints.at(-1) ?? -1;
    for (const bp of breakpoints) if (bp > read) this.#entries.add(hashes[bp] ?? "");
    const upTo = (i: number) => (i < 0 ? 0 : (tokens[i] ?? 0));
    const cacheRead = upTo(read);
    const cacheWrite = last > read ? upTo(last) - cacheRead : 0;
    return { input: total - cacheRead - cacheWrite, cacheRead, cacheWrite };
  }

  clear(): void {
    this.#entries.clear();
  }
}
