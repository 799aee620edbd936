import { describe, expect, it } from "vitest";
import { ConfigError, connectUrl, DEFAULT_IMAGE, parseConfig } from "./config.ts";

const base = ["--url", "https://edge.example", "--token", "t0ken-secret"];

describe("parseConfig", () => {
  it("applies defaults", () => {
    const config = parseConfig([...base, "--id", "node-1"], {});
    expect(config).toMatchObject({
      agentId: "node-1",
      capacity: 4,
      images: { python: DEFAULT_IMAGE, bash: DEFAULT_IMAGE },
      labels: {},
      pool: undefined,
      warm: { [DEFAULT_IMAGE]: 4 },
    });
  });

  it("serves metrics only when asked, on HOST:PORT, and logs text unless told json", () => {
    expect(parseConfig(base, {})).toMatchObject({ metricsAddr: undefined, logFormat: "text" });
    expect(parseConfig([...base, "--metrics-addr", "127.0.0.1:9464", "--log-format", "json"], {})).toMatchObject({
      metricsAddr: { host: "127.0.0.1", port: 9464 },
      logFormat: "json",
    });
    expect(parseConfig(base, { EDGESWARM_METRICS_ADDR: "[::1]:0", EDGESWARM_LOG_FORMAT: "json" })).toMatchObject({
      metricsAddr: { host: "::1", port: 0 },
      logFormat: "json",
    });
    for (const bad of ["9464", "host:", "host:70000", ":9464", "a b:1"]) {
      expect(() => parseConfig([...base, "--metrics-addr", bad], {})).toThrow(ConfigError);
    }
    expect(() => parseConfig([...base, "--log-format", "yaml"], {})).toThrow(/text or json/);
  });

  it("sizes warm pools per image, named by language or by image", () => {
    const images = ["--image", "python=img/py:1", "--image", "bash=img/sh:1"];
    expect(parseConfig([...base, ...images, "--warm", "python=2"], {})).toMatchObject({
      warm: { "img/py:1": 2, "img/sh:1": 4 },
    });
    expect(parseConfig([...base, ...images], { EDGESWARM_WARM: "img/sh:1=0" })).toMatchObject({
      warm: { "img/py:1": 4, "img/sh:1": 0 },
    });
  });

  it("refuses http:// to another host, which would carry the token in the clear, unless --insecure", () => {
    expect(() => parseConfig(["--url", "http://edge.example", "--token", "t0ken-secret"], {})).toThrow(
      /unencrypted; use https:\/\/, or pass --insecure/,
    );
    expect(() => parseConfig(["--url", "ws://10.0.0.5:8787", "--token", "t0ken-secret"], {})).toThrow(ConfigError);
    for (const url of ["http://127.0.0.1:8787", "http://localhost:8787", "http://[::1]:8787", "http://127.3.2.1"]) {
      expect(parseConfig(["--url", url, "--token", "t0ken-secret", "--id", "a"], {}), url).toMatchObject({});
    }
    expect(parseConfig(["--url", "http://edge.example", "--token", "t", "--id", "a", "--insecure"], {})).toMatchObject(
      {},
    );
    expect(
      parseConfig(["--url", "http://edge.example", "--token", "t", "--id", "a"], { EDGESWARM_INSECURE: "1" }),
    ).toMatchObject({});
  });

  it("reads the environment when flags are absent, and flags win", () => {
    const env = {
      EDGESWARM_URL: "http://127.0.0.1:8787",
      EDGESWARM_AGENT_TOKEN: "env-token-1",
      EDGESWARM_AGENT_ID: "from-env",
      EDGESWARM_CAPACITY: "7",
      EDGESWARM_IMAGES: "python=img/py:1, node=img/node:2",
      EDGESWARM_LABELS: "zone=a,gpu=none",
    };
    const config = parseConfig(["--capacity", "3"], env);
    expect(config).toMatchObject({
      token: "env-token-1",
      agentId: "from-env",
      capacity: 3,
      images: { python: "img/py:1", node: "img/node:2" },
      labels: { zone: "a", gpu: "none" },
    });
  });

  it.each([
    [["--token", "x"], "--url"],
    [["--url", "https://x"], "--token"],
    [[...base, "--capacity", "0"], "--capacity"],
    [[...base, "--capacity", "2.5"], "--capacity"],
    [[...base, "--image", "cobol=x"], "unknown language"],
    [[...base, "--label", "novalue"], "KEY=VALUE"],
    [[...base, "--id", "bad id"], "agent id"],
    [[...base, "--warm", "python=-1"], "--warm python"],
    [[...base, "--warm", "python=many"], "--warm python"],
    [[...base, "--warm", "ruby=2"], "neither a language nor an image"],
    [["--url", "ftp://x", "--token", "t"], "http(s)"],
  ])("refuses %j with a message naming %s", (argv, fragment) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(fragment);
  });
});

describe("--preload", () => {
  it("preloads nothing by default, and names modules per python image, from a flag or the environment", () => {
    expect(parseConfig(base, {})).toMatchObject({ preload: {} });
    expect(parseConfig([...base, "--preload", "python=numpy,pandas,matplotlib.pyplot"], {})).toMatchObject({
      preload: { [DEFAULT_IMAGE]: ["numpy", "pandas", "matplotlib.pyplot"] },
    });
    const images = ["--image", "python=img/py:1", "--image", "bash=img/sh:1"];
    expect(parseConfig(images.concat(base), { EDGESWARM_PRELOAD: "python=numpy, scipy.stats" })).toMatchObject({
      preload: { "img/py:1": ["numpy", "scipy.stats"] },
    });
  });

  it("merges repeated entries without duplicates, and a flag wins over the environment", () => {
    const config = parseConfig([...base, "--preload", "python=numpy", "--preload", "python=numpy,pandas"], {
      EDGESWARM_PRELOAD: "python=sympy",
    });
    expect(config).toMatchObject({ preload: { [DEFAULT_IMAGE]: ["numpy", "pandas"] } });
    expect(parseConfig(base, { EDGESWARM_PRELOAD: "python=numpy;python=pandas" })).toMatchObject({
      preload: { [DEFAULT_IMAGE]: ["numpy", "pandas"] },
    });
  });

  it.each([
    ["python=numpy;rm -rf /", "not a module name"],
    ["python=../etc/passwd", "not a module name"],
    ["python=os.system('x')", "not a module name"],
    ["python=numpy..linalg", "not a module name"],
    ["python=1numpy", "not a module name"],
    ["python=numpy.", "not a module name"],
    [`python=${"a".repeat(101)}`, "not a module name"],
    [`python=${Array.from({ length: 33 }, (_, i) => `m${i}`).join(",")}`, "at most 32"],
    ["bash=numpy", "only python"],
    ["numpy", "LANGUAGE=MODULE"],
  ])("refuses --preload %j with a message naming %s", (entry, fragment) => {
    expect(() => parseConfig([...base, "--preload", entry], {})).toThrow(ConfigError);
    expect(() => parseConfig([...base, "--preload", entry], {})).toThrow(fragment);
  });

  it("refuses to preload for an agent with no python image", () => {
    expect(() => parseConfig([...base, "--image", "bash=img/sh:1", "--preload", "python=numpy"], {})).toThrow(
      /runs no python image/,
    );
  });
});

describe("connectUrl", () => {
  it("maps http to ws and https to wss, with the pool", () => {
    const config = parseConfig([...base, "--id", "n", "--pool", "gpu"], {});
    if (config === "help") throw new Error("unexpected help");
    expect(connectUrl(config)).toBe("wss://edge.example/v1/agents/connect?pool=gpu");
    expect(connectUrl({ ...config, url: new URL("http://127.0.0.1:8787"), pool: undefined })).toBe(
      "ws://127.0.0.1:8787/v1/agents/connect",
    );
  });
});
