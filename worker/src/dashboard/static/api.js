// The /v1 API, with the key from the key prompt. A 401 anywhere sends the
// user back to the prompt with the server's message.

import { currentKey } from "./key.js";

/** An error answer from the API: its status, its stable code and its message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};

/** What to do when the API refuses the key (app.js shows the prompt). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${currentKey() ?? ""}`, ...extra };
}

/** Fails with an ApiError for any answer that is not 2xx; reports a 401. */
export async function check(res) {
  if (res.ok) return res;
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && typeof body.error === "object" && body.error) {
      code = String(body.error.code ?? code);
      message = String(body.error.message ?? message);
    }
  } catch {
    // not JSON: keep the status line
  }
  const err = new ApiError(res.status, code, message);
  if (res.status === 401) onUnauthorized(err);
  throw err;
}

/** GET or POST JSON; `body` makes it a POST. */
export async function api(path, { body, signal } = {}) {
  const init = { headers: authHeaders({ Accept: "application/json" }), signal };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await check(await fetch(path, init));
  return res.json();
}
