import { describe, expect, it } from "vitest";
import { parseOtelEnv, samplerFor } from "./otel.ts";

describe("parseOtelEnv", () => {
  it("exports nowhere by default, samples parent-based, and names the service", () => {
    expect(parseOtelEnv({}, "edgeswarm-agent")).toEqual({
      settings: {
        serviceName: "edgeswarm-agent",
        tracesUrl: null,
        headers: {},
        protocol: "http/protobuf",
        sampler: { root: "always_on", parentBased: true },
      },
      problems: [],
    });
  });

  it("adds /v1/traces to the base endpoint; the signal's own endpoint is used as it is and wins", () => {
    expect(parseOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" }, "x").settings.tracesUrl).toBe(
      "http://c:4318/v1/traces",
    );
    const both = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://t/in" };
    expect(parseOtelEnv(both, "x").settings.tracesUrl).toBe("https://t/in");
  });

  it("reads URL-encoded headers, the protocol and the sampler with its ratio", () => {
    const { settings, problems } = parseOtelEnv(
      {
        OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=a%3Db,tenant=1",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
        OTEL_SERVICE_NAME: "edge-1",
      },
      "x",
    );
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({
      serviceName: "edge-1",
      headers: { "x-api-key": "a=b", tenant: "1" },
      protocol: "http/json",
      sampler: { root: { ratio: 0.25 }, parentBased: true },
    });
  });

  it("names each bad variable and never its value", () => {
    const secret = "Bearer sk-very-secret";
    const { problems } = parseOtelEnv(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: `ftp://${secret}`,
        OTEL_EXPORTER_OTLP_HEADERS: `${secret}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_TRACES_SAMPLER: "sometimes",
        OTEL_TRACES_SAMPLER_ARG: "2",
      },
      "x",
    );
    expect(problems).toHaveLength(5);
    expect(problems.join(" ")).not.toContain("sk-very-secret");
    for (const name of ["ENDPOINT", "HEADERS", "PROTOCOL", "SAMPLER must", "SAMPLER_ARG"]) {
      expect(problems.some((p) => p.includes(name))).toBe(true);
    }
  });

  it("builds the SDK's sampler a setting names", () => {
    const sdk = {
      AlwaysOnSampler: class {
        kind = "on";
      },
      AlwaysOffSampler: class {
        kind = "off";
      },
      TraceIdRatioBasedSampler: class {
        kind = "ratio";
        ratio: number;
        constructor(ratio: number) {
          this.ratio = ratio;
        }
      },
      ParentBasedSampler: class {
        kind = "parent";
        config: { root: unknown };
        constructor(config: { root: unknown }) {
          this.config = config;
        }
      },
    };
    expect(samplerFor({ root: { ratio: 0.5 }, parentBased: true }, sdk)).toMatchObject({
      kind: "parent",
      config: { root: { kind: "ratio", ratio: 0.5 } },
    });
    expect(samplerFor({ root: "always_off", parentBased: false }, sdk)).toMatchObject({ kind: "off" });
  });
});
