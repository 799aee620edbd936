import { EDGESWARM_VERSION, MAX_FRAME_BYTES } from "@edgeswarm/shared";
import WebSocket from "ws";
import { type AgentConfig, connectUrl } from "./config.ts";
import type { CheckResult } from "./doctor-checks.ts";
import { HINTS } from "./doctor-checks.ts";

/**
 * The doctor's two checks of the Worker: its URL answers as an edgeswarm
 * Worker (`GET /healthz`), and it accepts the agent token. The second dials
 * `/v1/agents/connect` as the agent does. The Worker checks the token before it
 * upgrades, so an open socket means the token (and `--pool`) are good; the doctor
 * then closes it (1000) without saying agent.hello, so it never joins the pool,
 * is never leased work and never displaces a running agent of the same id.
 */

/** How long each Worker check may take. */
const WORKER_TIMEOUT_MS = 10_000;

/** `GET <url>/healthz` answers `{ ok, version }`. */
export async function workerUrlCheck(config: AgentConfig): Promise<CheckResult> {
  const url = new URL("/healthz", config.url);
  if (url.protocol === "ws:") url.protocol = "http:";
  if (url.protocol === "wss:") url.protocol = "https:";
  const where = config.url.origin === "null" ? config.url.href : config.url.origin;
  const fix = "check --url (EDGESWARM_URL): the Worker's own URL, reachable from this host over HTTPS";
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(WORKER_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return { check: "worker", status: "fail", detail: `${where} does not answer (${why})`, fix };
  }
  const body = (await res.json().catch(() => undefined)) as { ok?: unknown; version?: unknown } | undefined;
  if (!res.ok || body?.ok !== true || typeof body.version !== "string") {
    return {
      check: "worker",
      status: "fail",
      detail: `${where} is not an edgeswarm Worker: GET /healthz answered HTTP ${res.status}`,
      fix,
    };
  }
  const versions = body.version === EDGESWARM_VERSION ? "" : ` (this agent is ${EDGESWARM_VERSION})`;
  return {
    check: "worker",
    status: "ok",
    detail: `${where} answers: edgeswarm ${body.version.slice(0, 40)}${versions}`,
  };
}

/** Dials the agents' WebSocket with the token, and closes it cleanly once it opens. */
export function agentTokenCheck(config: AgentConfig): Promise<CheckResult> {
  const pool = config.pool ? ` for pool '${config.pool}'` : "";
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    const settle = (result: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const ws = new WebSocket(connectUrl(config), {
      headers: { Authorization: `Bearer ${config.token}` },
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: WORKER_TIMEOUT_MS,
    });
    const timer = setTimeout(() => {
      ws.terminate();
      settle({
        check: "token",
        status: "fail",
        detail: `the Worker did not finish the agent connection within ${WORKER_TIMEOUT_MS / 1000} s`,
        fix: "check that nothing between this host and the Worker (a proxy) blocks WebSocket upgrades",
      });
    }, WORKER_TIMEOUT_MS + 5_000);
    let opened = false;
    ws.on("open", () => {
      opened = true;
      ws.close(1000, "edgeswarm-agent doctor");
    });
    ws.on("close", (code, reason) => {
      if (!opened) {
        return settle({
          check: "token",
          status: "fail",
          detail: `the agent connection closed before it opened (${code}${reason.length ? ` ${reason}` : ""})`,
          fix: "check --url (EDGESWARM_URL) and that this host may reach the Worker",
        });
      }
      settle({
        check: "token",
        status: "ok",
        detail: `the Worker accepts the agent token${pool} (connected, then closed with ${code})`,
      });
    });
    ws.on("unexpected-response", (req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.once("end", () => {
        req.destroy();
        const status = res.statusCode ?? 0;
        const said = errorMessage(body);
        const detail = `the Worker refused the agent token: HTTP ${status}${said ? ` (${said})` : ""}`;
        if (status === 403 && config.pool) {
          settle({
            check: "token",
            status: "fail",
            detail,
            fix: `drop --pool (EDGESWARM_POOL), or use a token of pool '${config.pool}'`,
          });
        } else if (status === 401 || status === 403) {
          settle({ check: "token", status: "fail", detail, fix: HINTS.token });
        } else {
          settle({
            check: "token",
            status: "fail",
            detail: `the Worker did not take the agent connection: HTTP ${status}${said ? ` (${said})` : ""}`,
            fix: "check --url: agents dial <url>/v1/agents/connect, which a proxy must pass as a WebSocket",
          });
        }
      });
    });
    ws.on("error", (err) => {
      settle({
        check: "token",
        status: "fail",
        detail: `the agent connection failed: ${err.message}`,
        fix: "check --url (EDGESWARM_URL) and that this host may reach the Worker",
      });
    });
  });
}

/** The `error.message` of the Worker's error body, else the start of the body. */
function errorMessage(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof json.error?.message === "string") return json.error.message.slice(0, 300);
  } catch {
    // not the Worker's error body
  }
  return body.slice(0, 200);
}
