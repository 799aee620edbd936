/**
 * The OpenTelemetry SDK's standard environment variables, as both the Worker
 * and the agent read them (the Worker from its bindings, the agent from its
 * process environment). Only what edgeswarm uses: traces over OTLP/HTTP.
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */

export const OTEL_VARIABLES = [
  "OTEL_SERVICE_NAME",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
] as const;
export type OtelVariable = (typeof OTEL_VARIABLES)[number];

export type OtlpProtocol = "http/protobuf" | "http/json";

/** Which spans are recorded: the root decision, and whether a caller's sampled flag overrides it. */
export interface SamplerSetting {
  root: "always_on" | "always_off" | { ratio: number };
  parentBased: boolean;
}

/** The SDK's sampler classes (`import * as sdk from "@opentelemetry/sdk-trace"`), as samplerFor needs them. */
export interface SamplerClasses<S> {
  AlwaysOnSampler: new () => S;
  AlwaysOffSampler: new () => S;
  TraceIdRatioBasedSampler: new (ratio: number) => S;
  ParentBasedSampler: new (config: { root: S }) => S;
}

/** The SDK sampler a setting names, made with the caller's SDK (shared takes no SDK dependency). */
export function samplerFor<S>(setting: SamplerSetting, sdk: SamplerClasses<S>): S {
  const root =
    setting.root === "always_on"
      ? new sdk.AlwaysOnSampler()
      : setting.root === "always_off"
        ? new sdk.AlwaysOffSampler()
        : new sdk.TraceIdRatioBasedSampler(setting.root.ratio);
  return setting.parentBased ? new sdk.ParentBasedSampler({ root }) : root;
}

export interface OtelSettings {
  serviceName: string;
  /** Where spans go; null: nowhere (trace context is still carried and answered). */
  tracesUrl: string | null;
  headers: Record<string, string>;
  protocol: OtlpProtocol;
  sampler: SamplerSetting;
}

const SAMPLERS: Record<string, (ratio: number) => SamplerSetting> = {
  always_on: () => ({ root: "always_on", parentBased: false }),
  always_off: () => ({ root: "always_off", parentBased: false }),
  traceidratio: (ratio) => ({ root: { ratio }, parentBased: false }),
  parentbased_always_on: () => ({ root: "always_on", parentBased: true }),
  parentbased_always_off: () => ({ root: "always_off", parentBased: true }),
  parentbased_traceidratio: (ratio) => ({ root: { ratio }, parentBased: true }),
};

/**
 * Reads the OTEL_* variables. Mistakes are returned as problems that name
 * the variable and never its value (headers carry credentials); the caller
 * reports them and goes on without export rather than failing.
 */
export function parseOtelEnv(
  env: Partial<Record<OtelVariable, string | undefined>>,
  defaultServiceName: string,
): { settings: OtelSettings; problems: string[] } {
  const problems: string[] = [];
  const protocolText = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || "http/protobuf";
  let protocol: OtlpProtocol = "http/protobuf";
  if (protocolText === "http/protobuf" || protocolText === "http/json") protocol = protocolText;
  else problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (grpc is not supported)`);

  let tracesUrl: string | null = null;
  const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const raw = signal || (base ? `${base.replace(/\/+$/, "")}/v1/traces` : "");
  if (raw) {
    const name = signal ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
    try {
      const url = new URL(raw);
      if (url.protocol !== "http:" && url.protocol !== "https:") problems.push(`${name} must be an http(s) URL`);
      else tracesUrl = url.toString();
    } catch {
      problems.push(`${name} is not a URL`);
    }
  }

  const headers: Record<string, string> = {};
  for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] as const) {
    for (const pair of (env[name] ?? "").split(",")) {
      if (pair.trim() === "") continue;
      const eq = pair.indexOf("=");
      const key = eq > 0 ? pair.slice(0, eq).trim() : "";
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
        problems.push(`${name} must be a list of key=value pairs`);
        break;
      }
      try {
        headers[key] = decodeURIComponent(pair.slice(eq + 1).trim());
      } catch {
        problems.push(`${name} has a value that is not URL-encoded`);
      }
    }
  }

  const samplerName = (env.OTEL_TRACES_SAMPLER || "parentbased_always_on").trim().toLowerCase();
  let ratio = 1;
  if (env.OTEL_TRACES_SAMPLER_ARG !== undefined && env.OTEL_TRACES_SAMPLER_ARG !== "") {
    const arg = Number(env.OTEL_TRACES_SAMPLER_ARG);
    if (Number.isFinite(arg) && arg >= 0 && arg <= 1) ratio = arg;
    else problems.push("OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1");
  }
  const make = SAMPLERS[samplerName];
  if (!make) problems.push(`OTEL_TRACES_SAMPLER must be one of ${Object.keys(SAMPLERS).join(", ")}`);
  const sampler: SamplerSetting = make ? make(ratio) : { root: "always_on", parentBased: true };

  return {
    settings: {
      serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
      tracesUrl,
      headers,
      protocol,
      sampler,
    },
    problems,
  };
}
