import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { LANGUAGES, type Language, Name } from "@edgeswarm/shared";
import type { ImageMap } from "./runtime/runtime.ts";

/** The agent's settings, from flags, else environment variables, else defaults. */
export interface AgentConfig {
  url: URL;
  token: string;
  pool: string | undefined;
  agentId: string;
  capacity: number;
  images: ImageMap;
  labels: Record<string, string>;
  /** OCI runtime for sandboxes, e.g. "runsc" for gVisor; undefined: Docker's default. */
  runtime: string | undefined;
  /** Warm containers kept ready, per image. */
  warm: Record<string, number>;
  /** Modules a warm container's waiting interpreter imports before its program arrives, per image. */
  preload: Record<string, string[]>;
  /** Where /metrics is served (Prometheus); undefined: nowhere. */
  metricsAddr: { host: string; port: number } | undefined;
  /** One JSON object per log line, or text (the default). */
  logFormat: "text" | "json";
}

export const DEFAULT_IMAGE = "edgeswarm/python:latest";

export const USAGE = `edgeswarm-agent: runs edgeswarm sandboxes on this Docker host

Usage: edgeswarm-agent --url <worker url> --token <agent token> [options]
       edgeswarm-agent doctor [the same options]   check this host and the Worker,
                                                   start nothing; exit 1 on a failure

  --url URL          the Worker, e.g. https://edgeswarm.example.com    EDGESWARM_URL
                     (http:// only for this host, unless --insecure)
  --token TOKEN      the agent token for this pool; a flag shows in    EDGESWARM_AGENT_TOKEN
                     \`ps\` to every user here: prefer the variable
  --pool NAME        the pool (must match the token's; default: it)    EDGESWARM_POOL
  --id NAME          this agent's id; stable across restarts, unique   EDGESWARM_AGENT_ID
                     per host (default: the host name)
  --capacity N       executions run at once (default 4)                EDGESWARM_CAPACITY
  --image L=IMAGE    image for language L; repeatable                  EDGESWARM_IMAGES (L=IMAGE,...)
                     (default python=${DEFAULT_IMAGE},bash=${DEFAULT_IMAGE})
  --label K=V        a label shown in GET /v1/agents; repeatable       EDGESWARM_LABELS (K=V,...)
  --runtime NAME     OCI runtime for sandboxes, e.g. runsc (gVisor)    EDGESWARM_RUNTIME
  --warm L=N         warm containers kept ready for language L's       EDGESWARM_WARM (L=N,...)
                     image (or name the image); repeatable; 0 turns
                     warming off (default: the capacity, per image)
  --preload L=M,...  modules the waiting interpreter of a warm          EDGESWARM_PRELOAD (L=M,...;...)
                     container imports before its program arrives,
                     e.g. python=numpy,pandas,matplotlib.pyplot;
                     only python has one (default: none)
  --metrics-addr H:P serve Prometheus metrics at http://H:P/metrics    EDGESWARM_METRICS_ADDR
                     (off by default; e.g. 127.0.0.1:9464)
  --log-format F     text (default) or json: one object per line       EDGESWARM_LOG_FORMAT
  --insecure         allow an http:// or ws:// --url to another host:   EDGESWARM_INSECURE=1
                     the token and every program then cross the
                     network unencrypted
  -h, --help         this text

The Docker engine is found as dockerode finds it: DOCKER_HOST, else /var/run/docker.sock.`;

/** A configuration mistake: the CLI prints the message and the usage, and exits 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function pairs(list: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new ConfigError(`${what} '${item}' is not of the form KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function splitList(value: string | undefined, separator = ","): string[] {
  return (value ?? "")
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Parses argv and env into a config; throws ConfigError with a message that says what to fix. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      pool: { type: "string" },
      id: { type: "string" },
      capacity: { type: "string" },
      image: { type: "string", multiple: true },
      label: { type: "string", multiple: true },
      runtime: { type: "string" },
      warm: { type: "string", multiple: true },
      preload: { type: "string", multiple: true },
      "metrics-addr": { type: "string" },
      "log-format": { type: "string" },
      insecure: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";

  const rawUrl = values.url ?? env.EDGESWARM_URL;
  if (!rawUrl) throw new ConfigError("--url (or EDGESWARM_URL) is required");
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ConfigError(`--url '${rawUrl}' is not a URL`);
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
    throw new ConfigError(`--url must be http(s) or ws(s), not ${url.protocol}`);
  }
  const insecure = values.insecure === true || env.EDGESWARM_INSECURE === "1";
  if ((url.protocol === "http:" || url.protocol === "ws:") && !isLoopback(url.hostname) && !insecure) {
    throw new ConfigError(
      `--url ${url.protocol}// to ${url.hostname} would send the agent token and every program unencrypted; ` +
        "use https://, or pass --insecure if that is really meant",
    );
  }

  const token = values.token ?? env.EDGESWARM_AGENT_TOKEN;
  if (!token) throw new ConfigError("--token (or EDGESWARM_AGENT_TOKEN) is required");

  const pool = values.pool ?? env.EDGESWARM_POOL;
  if (pool !== undefined && !Name.safeParse(pool).success)
    throw new ConfigError(`--pool '${pool}' is not a valid name`);

  const agentId = values.id ?? env.EDGESWARM_AGENT_ID ?? hostname();
  if (!Name.safeParse(agentId).success) {
    throw new ConfigError(`agent id '${agentId}' must be letters, digits, '.', '_' or '-' (set --id)`);
  }

  const capacityText = values.capacity ?? env.EDGESWARM_CAPACITY ?? "4";
  const capacity = Number(capacityText);
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1024) {
    throw new ConfigError(`--capacity must be a whole number from 1 to 1024, not '${capacityText}'`);
  }

  const imageList = values.image ?? splitList(env.EDGESWARM_IMAGES);
  const images: ImageMap = imageList.length ? {} : { python: DEFAULT_IMAGE, bash: DEFAULT_IMAGE };
  for (const [language, image] of Object.entries(pairs(imageList, "--image"))) {
    if (!(LANGUAGES as readonly string[]).includes(language)) {
      throw new ConfigError(`--image: unknown language '${language}' (one of ${LANGUAGES.join(", ")})`);
    }
    images[language as Language] = image;
  }

  const warm: Record<string, number> = {};
  for (const image of new Set(Object.values(images))) warm[image] = capacity;
  for (const [key, sizeText] of Object.entries(pairs(values.warm ?? splitList(env.EDGESWARM_WARM), "--warm"))) {
    const image = images[key as Language] ?? (Object.values(images).includes(key) ? key : undefined);
    if (!image) throw new ConfigError(`--warm: '${key}' is neither a language nor an image this agent runs`);
    const size = Number(sizeText);
    if (!Number.isInteger(size) || size < 0 || size > 256) {
      throw new ConfigError(`--warm ${key} must be a whole number from 0 to 256, not '${sizeText}'`);
    }
    warm[image] = size;
  }

  const preload = parsePreload(values.preload ?? splitList(env.EDGESWARM_PRELOAD, ";"), images);

  const logFormat = values["log-format"] ?? env.EDGESWARM_LOG_FORMAT ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new ConfigError(`--log-format must be text or json, not '${logFormat}'`);
  }

  return {
    url,
    token,
    pool,
    agentId,
    capacity,
    images,
    labels: pairs(values.label ?? splitList(env.EDGESWARM_LABELS), "--label"),
    runtime: values.runtime ?? env.EDGESWARM_RUNTIME,
    warm,
    preload,
    metricsAddr: hostPort(values["metrics-addr"] ?? env.EDGESWARM_METRICS_ADDR),
    logFormat,
  };
}

/** Most modules one image's warm containers preload. */
export const MAX_PRELOAD_MODULES = 32;
/** A module as `import` names it: identifiers joined by dots, nothing a shell or a path could read. */
const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** `--preload L=M,...` entries into modules per image; only python's waiting interpreter can preload. */
function parsePreload(entries: string[], images: ImageMap): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--preload '${entry}' is not of the form LANGUAGE=MODULE,...`);
    const language = entry.slice(0, eq);
    if (language !== "python") {
      throw new ConfigError(`--preload: only python has a waiting interpreter to import into, not '${language}'`);
    }
    const image = images.python;
    if (!image) throw new ConfigError("--preload python=...: this agent runs no python image (see --image)");
    const modules = splitList(entry.slice(eq + 1));
    for (const name of modules) {
      if (name.length > 100 || !MODULE_NAME.test(name)) {
        throw new ConfigError(
          `--preload: '${name}' is not a module name (identifiers joined by dots, e.g. matplotlib.pyplot)`,
        );
      }
    }
    const merged = [...new Set([...(out[image] ?? []), ...modules])];
    if (merged.length > MAX_PRELOAD_MODULES) {
      throw new ConfigError(`--preload: at most ${MAX_PRELOAD_MODULES} modules, not ${merged.length}`);
    }
    out[image] = merged;
  }
  return out;
}

/** `HOST:PORT` (an IPv6 host in brackets; port 0: any free one) for --metrics-addr; undefined when unset. */
function hostPort(text: string | undefined): { host: string; port: number } | undefined {
  if (text === undefined || text === "") return undefined;
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port > 65535) {
    throw new ConfigError(`--metrics-addr must be HOST:PORT, e.g. 127.0.0.1:9464, not '${text}'`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ""), port };
}

/** Whether a URL's host is this machine: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The WebSocket URL agents dial: `<url>/v1/agents/connect`, ws(s) scheme. */
export function connectUrl(config: AgentConfig): string {
  const url = new URL("/v1/agents/connect", config.url);
  url.protocol = url.protocol === "https:" || url.protocol === "wss:" ? "wss:" : "ws:";
  if (config.pool) url.searchParams.set("pool", config.pool);
  return url.toString();
}
