import { readFile } from "node:fs/promises";
import {
  type AgentSandbox,
  DEFAULT_LIMITS,
  type ExecutionOutcome,
  type Language,
  newExecutionId,
  PACKAGE_NAME,
  SANDBOX_BOUNDS,
  VERSION_TEXT,
} from "@edgeswarm/shared";
import type { ImageMap, OutputSink, RunSpec } from "./runtime/runtime.ts";

/**
 * What the agent tells the Worker its images hold (agent.hello `sandboxes`):
 * it runs probe.py once per image at start, as an ordinary sandboxed program,
 * and reads back the interpreter versions and the Python packages. A probe
 * that fails or takes too long only means less is advertised.
 */

/** The longest a probe may take, per image; the probes of several images run at once. */
export const PROBE_TIMEOUT_MS = 20_000;
/** The most of a probe's stdout that is read. */
const PROBE_OUTPUT_BYTES = 256 * 1024;

/** Runs one program in a cold container outside the warm pool (DockerRuntime.runAside). */
export type RunAside = (spec: RunSpec, sink: OutputSink, signal: AbortSignal) => Promise<ExecutionOutcome>;

/** What one image holds, as far as its probe could tell. */
export interface ImageFacts {
  /** Interpreter versions by language, e.g. `{ python: "3.11.2", bash: "5.2.15" }`. */
  versions: Partial<Record<Language, string>>;
  /** Python packages, name (normalised) → version, sorted by name, at most SANDBOX_BOUNDS.packages. */
  packages: Record<string, string>;
}

/** Reads probe.py from beside the runner. */
export function loadProbeSource(): Promise<string> {
  return readFile(new URL("./runtime/probe.py", import.meta.url), "utf8");
}

function version(text: unknown): string | undefined {
  return typeof text === "string" && text.length <= SANDBOX_BOUNDS.versionChars && VERSION_TEXT.test(text)
    ? text
    : undefined;
}

/** A distribution's name as PEP 503 compares them: lower case, each run of `-_.` one `-`. */
export function normalisePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** The first dotted number in a tool's version line: "GNU bash, version 5.2.15(1)-release" → "5.2.15". */
function toolVersion(line: unknown): string | undefined {
  if (typeof line !== "string") return undefined;
  return version(/(\d+(?:\.\d+)+)/.exec(line.slice(0, 200))?.[1]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses probe.py's output. Whatever is malformed or over the bounds is left
 * out, never passed on; undefined when the output is not the probe's at all.
 */
export function parseProbeOutput(stdout: string): ImageFacts | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout.slice(0, PROBE_OUTPUT_BYTES));
  } catch {
    return undefined;
  }
  if (!isRecord(raw)) return undefined;
  const versions: ImageFacts["versions"] = {};
  const python = isRecord(raw.python) ? raw.python : {};
  const pythonVersion = python.implementation === "cpython" ? version(python.version) : undefined;
  if (pythonVersion) versions.python = pythonVersion;
  const tools = isRecord(raw.tools) ? raw.tools : {};
  const bash = toolVersion(tools.bash);
  if (bash) versions.bash = bash;
  const node = toolVersion(tools.node);
  if (node) versions.node = node;

  const found = new Map<string, string>();
  const distributions = Array.isArray(raw.distributions) ? raw.distributions.slice(0, 4096) : [];
  for (const entry of distributions) {
    if (!Array.isArray(entry) || typeof entry[0] !== "string" || !PACKAGE_NAME.test(entry[0])) continue;
    const name = normalisePackageName(entry[0]);
    const v = version(entry[1]);
    // The first of a name is the one `import` finds (sys.path order); later copies are shadowed.
    if (v && name.length <= SANDBOX_BOUNDS.nameChars && !found.has(name)) found.set(name, v);
  }
  const names = [...found.keys()].sort().slice(0, SANDBOX_BOUNDS.packages);
  return { versions, packages: Object.fromEntries(names.map((name) => [name, found.get(name) as string])) };
}

/** Each language's sandbox from its image's facts; packages are Python's, listed under python only. */
export function sandboxesOf(images: ImageMap, facts: ReadonlyMap<string, ImageFacts>): AgentSandbox[] {
  const out: AgentSandbox[] = [];
  for (const [language, image] of Object.entries(images) as [Language, string][]) {
    const known = facts.get(image);
    const v = known?.versions[language];
    out.push({
      language,
      image,
      ...(v ? { interpreter: { name: language, version: v } } : {}),
      packages: language === "python" ? (known?.packages ?? {}) : {},
    });
  }
  return out;
}

/**
 * Probes each image once, all at once, each bounded by `timeoutMs`. Never
 * rejects: an image whose probe failed has no facts, and `problems` says why.
 */
export async function probeImages(
  run: RunAside,
  images: ImageMap,
  source: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<{ sandboxes: AgentSandbox[]; problems: string[] }> {
  const facts = new Map<string, ImageFacts>();
  const problems: string[] = [];
  await Promise.all(
    [...new Set(Object.values(images))].map(async (image) => {
      try {
        const result = await probeOne(run, image, source, timeoutMs);
        if (typeof result === "string") problems.push(`${image}: ${result}`);
        else facts.set(image, result);
      } catch (err) {
        problems.push(`${image}: ${String(err)}`);
      }
    }),
  );
  return { sandboxes: sandboxesOf(images, facts), problems };
}

async function probeOne(run: RunAside, image: string, source: string, timeoutMs: number): Promise<ImageFacts | string> {
  let stdout = "";
  const sink: OutputSink = (stream, data) => {
    if (stream === "stdout" && stdout.length < PROBE_OUTPUT_BYTES) stdout += data;
  };
  const spec: RunSpec = {
    executionId: newExecutionId(),
    language: "python",
    code: source,
    files: [],
    args: [],
    env: {},
    limits: { ...DEFAULT_LIMITS, timeoutMs, outputBytes: PROBE_OUTPUT_BYTES },
    image,
  };
  // The runner enforces timeoutMs inside; the signal bounds what happens before it starts.
  const outcome = await run(spec, sink, AbortSignal.timeout(timeoutMs + 10_000));
  if (outcome.status !== "succeeded") {
    return `the probe ended ${outcome.status}${outcome.error ? ` (${outcome.error.message.slice(0, 300)})` : ""}`;
  }
  return parseProbeOutput(stdout) ?? "the probe printed no report (is python3 in the image?)";
}
