import Docker from "dockerode";
import { ConfigError, parseConfig, USAGE } from "./config.ts";
import { Connection } from "./connection.ts";
import { doctorMain } from "./doctor.ts";
import { Executor } from "./executor.ts";
import { HealthMonitor } from "./health.ts";
import { holdIdLock, IdInUse } from "./id-lock.ts";
import { loadProbeSource, probeImages } from "./image-probe.ts";
import { createLogger } from "./log.ts";
import { AgentMetrics, type MetricsServer, serveMetrics } from "./metrics.ts";
import { DockerRuntime, loadRunnerSource } from "./runtime/docker.ts";
import { startTelemetry } from "./telemetry.ts";

const log = createLogger();

/** How often the agent sweeps its own finished containers that were not removed. */
const SWEEP_INTERVAL_MS = 60_000;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // `edgeswarm-agent doctor [options]`: check this host with these options, start nothing.
  if (argv[0] === "doctor") return doctorMain(argv.slice(1), process.env);
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(argv, process.env);
  } catch (err) {
    if (
      err instanceof ConfigError ||
      (err instanceof Error && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      process.stderr.write(`edgeswarm-agent: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (config === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  log.configure({ format: config.logFormat, agentId: config.agentId });

  try {
    await holdIdLock(config.agentId);
  } catch (err) {
    if (err instanceof IdInUse) {
      log.error(err.message);
      return 2;
    }
    throw err;
  }

  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    log.error(
      `cannot reach the Docker engine (${(err as Error).message}). Is dockerd running, and may this user use its socket? (DOCKER_HOST is honoured)`,
    );
    return 1;
  }
  for (const image of new Set(Object.values(config.images))) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      log.warn(
        `image ${image} is not on this host; executions that need it will fail until it is built (npm run image:offline)`,
      );
    }
  }

  const { telemetry, problems } = startTelemetry(process.env, config.agentId);
  if (problems.length > 0) log.warn(`tracing export is off: ${problems.join("; ")}`);
  else if (telemetry.target) log.info(`sending traces to ${new URL(telemetry.target).origin}`);

  // The gauges read the runtime and the executor at each scrape; it is served once both exist.
  const metrics: AgentMetrics = new AgentMetrics(() => ({
    warm: runtime.warm,
    inFlight: executor.inFlight,
    capacity: executor.capacity,
  }));
  const runnerSource = await loadRunnerSource();
  const warnedAt = new Map<string, number>();
  const runtime: DockerRuntime = new DockerRuntime({
    docker,
    agentId: config.agentId,
    runnerSource,
    runtime: config.runtime,
    warm: config.warm,
    preload: config.preload,
    tracer: telemetry.tracer,
    observer: metrics,
    onWarmError: (image, message) => {
      // The pool retries with backoff; say so at most once a minute per image.
      if (Date.now() - (warnedAt.get(image) ?? 0) < 60_000) return;
      warnedAt.set(image, Date.now());
      log.warn(`cannot keep warm containers for ${image}: ${message}`);
    },
  });
  const reaped = await runtime.reap();
  if (reaped > 0) log.info(`removed ${reaped} sandbox container(s) left by an earlier run of ${config.agentId}`);

  const executor = new Executor({
    runtime,
    images: config.images,
    capacity: config.capacity,
    tracer: telemetry.tracer,
    metrics,
    runtimeName: config.runtime ?? "runc",
    log,
  });
  let metricsServer: MetricsServer | undefined;
  if (config.metricsAddr) {
    try {
      metricsServer = await serveMetrics(metrics, config.metricsAddr.host, config.metricsAddr.port);
      log.info(`serving metrics at http://${metricsServer.address}/metrics`);
    } catch (err) {
      log.error(
        `cannot serve metrics on ${config.metricsAddr.host}:${config.metricsAddr.port}: ${(err as Error).message}`,
      );
      await runtime.close();
      return 1;
    }
  }

  // Read once, before the hello that carries it; a probe that fails only means less is said.
  const probed = await probeImages(
    (spec, sink, signal) => runtime.runAside(spec, sink, signal),
    config.images,
    await loadProbeSource(),
  );
  for (const problem of probed.problems) log.warn(`cannot tell what image ${problem}; GET /v1/agents will show less`);

  const health = new HealthMonitor();
  const connection = new Connection(config, executor, log, () => health.sample(runtime.warm), metrics);
  connection.sandboxes = probed.sandboxes;

  // Removal happens off the request path and can fail (a busy daemon); sweep up
  // whatever is labelled for this agent and no longer running.
  const sweep = setInterval(() => {
    runtime.reap().then(
      (n) => n > 0 && log.debug(`swept ${n} finished sandbox container(s)`),
      (err: unknown) => log.warn(`sweep failed: ${(err as Error).message}`),
    );
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
        log.warn(`${signal} again: stopping now`);
        executor.cancelAll();
        await runtime.close();
        await Promise.all([telemetry.shutdown(), metricsServer?.close()]);
        return resolve(130);
      }
      stopping = true;
      log.info(`${signal}: draining (finishing ${executor.inFlight} execution(s); ${signal} again to stop now)`);
      const drained = executor.drain();
      connection.heartbeat();
      await drained;
      connection.stop();
      await runtime.close();
      await Promise.all([telemetry.shutdown(), metricsServer?.close()]);
      resolve(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    connection.start((err) => {
      log.error(err.message);
      void runtime.close().then(() => resolve(2));
    });
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log.error(`crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
