// The one API client: every fetch and WebSocket of the page goes through here.
// - cookies carry the session (same origin, HttpOnly); a 401 refreshes the session once
//   (single flight, the refresh cookie) and retries, so what the user typed is never lost;
// - every error becomes an ApiError with the API's `detail` and `error_code`;
// - sockets reconnect with backoff when they drop, and say so.

export class ApiError extends Error {
  constructor(status, code, detail, retryAfter = null) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** A readable line for any error: the API's detail, its code, and when to retry. */
export function describeError(err) {
  if (err instanceof ApiError) {
    let text = `${err.detail} (${err.code})`;
    if (err.status === 429 || err.code === "RATE_LIMITED") {
      text += err.retryAfter ? ` — retry in ${err.retryAfter} s` : " — retry shortly";
    }
    return text;
  }
  if (err && err.name === "AbortError") return "Cancelled";
  if (err instanceof TypeError) return "The server cannot be reached (NETWORK_ERROR)";
  return String((err && err.message) || err);
}

let reauth = null;
let reauthing = null;
/**
 * What to do when the session cannot be refreshed: fn() signs the user in again (a
 * dialog over the page) and resolves true; the request that hit the 401 is then retried.
 */
export function setReauth(fn) {
  reauth = fn;
}
function signInAgain() {
  if (!reauth) return Promise.resolve(false);
  if (!reauthing) reauthing = Promise.resolve(reauth()).finally(() => (reauthing = null));
  return reauthing;
}

async function decodeError(res) {
  const retry = res.headers.get("Retry-After");
  let detail = res.statusText || `HTTP ${res.status}`;
  let code = res.status >= 500 ? "INTERNAL_ERROR" : "HTTP_" + res.status;
  try {
    const body = await res.json();
    if (typeof body.detail === "string") detail = body.detail;
    if (typeof body.error_code === "string") code = body.error_code;
  } catch {
    /* not JSON: keep the status text */
  }
  return new ApiError(res.status, code, detail, retry ? Number(retry) || retry : null);
}

let refreshing = null;
/** Refresh the access cookie once for every caller waiting on a 401. */
export function refreshSession() {
  if (!refreshing) {
    refreshing = fetch("/api/auth/refresh", { method: "POST", credentials: "same-origin" })
      .then((res) => res.ok)
      .catch(() => false)
      .finally(() => setTimeout(() => (refreshing = null), 0));
  }
  return refreshing;
}

function buildUrl(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * fetch JSON from the API. opts: method, json (a body to send as JSON), body (FormData…),
 * query (object), signal, raw (return the Response, for headers), auth (false: no refresh).
 */
export async function api(path, opts = {}) {
  const { method = "GET", json, body, query, signal, raw = false, auth = true } = opts;
  const headers = { Accept: "application/json" };
  let payload = body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  }
  const init = { method, headers, body: payload, credentials: "same-origin", signal };
  let res = await fetch(buildUrl(path, query), init);
  if (res.status === 401 && auth && !path.startsWith("/api/auth/")) {
    if (await refreshSession()) res = await fetch(buildUrl(path, query), init);
    if (res.status === 401 && (await signInAgain())) res = await fetch(buildUrl(path, query), init);
  }
  if (!res.ok) throw await decodeError(res);
  if (raw) return res;
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  return type.includes("json") ? res.json() : res.text();
}

/** A paged list: {body, total, pages, page} from the X-Total-* headers. */
export async function apiPage(path, query, opts = {}) {
  const res = await api(path, { ...opts, query, raw: true });
  const num = (h) => Number(res.headers.get(h) || 0);
  return { body: await res.json(), total: num("X-Total-Count"), pages: num("X-Total-Pages"), page: num("X-Current-Page") };
}

/**
 * Upload with progress (fetch has no upload progress): XHR, same cookies, same errors.
 * onProgress(fraction 0..1). Returns the JSON body.
 */
export function upload(path, formData, onProgress, retried = false) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new TypeError("network"));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    xhr.onload = async () => {
      if (xhr.status === 401 && !retried && (await refreshSession())) {
        upload(path, formData, onProgress, true).then(resolve, reject);
        return;
      }
      const res = new Response(xhr.responseText, {
        status: xhr.status,
        headers: { "Content-Type": xhr.getResponseHeader("Content-Type") || "", "Retry-After": xhr.getResponseHeader("Retry-After") || "" },
      });
      if (!res.ok) reject(await decodeError(res));
      else resolve(xhr.responseText ? JSON.parse(xhr.responseText) : null);
    };
    xhr.send(formData);
  });
}

function socketUrl(path) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

/**
 * A WebSocket that reconnects. handlers: onEvent(obj), onStatus("open"|"reconnecting"|
 * "closed", info), onOpen(socket, reconnected). Returns {send(obj), close(), get open}.
 * `shouldReconnect(closeEvent)` may veto reconnecting (e.g. a finished download).
 */
export function openSocket(path, handlers = {}) {
  const { onEvent, onStatus, onOpen, shouldReconnect = () => true, maxDelay = 8000 } = handlers;
  let ws = null;
  let closedByUs = false;
  let attempt = 0;
  let timer = null;
  let everOpened = false;
  const connect = async (afterRefresh = false) => {
    ws = new WebSocket(socketUrl(path));
    ws.onopen = () => {
      const reconnected = everOpened;
      everOpened = true;
      attempt = 0;
      onStatus && onStatus("open", { reconnected });
      onOpen && onOpen(handle, reconnected);
    };
    ws.onmessage = (e) => {
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      onEvent && onEvent(data);
    };
    ws.onclose = async (e) => {
      if (closedByUs) return onStatus && onStatus("closed", { code: e.code });
      // 4401/1008 after an expired access cookie: refresh once, then reconnect at once.
      if ((e.code === 4401 || e.code === 1008) && !afterRefresh) {
        if ((await refreshSession()) || (await signInAgain())) return connect(true);
      }
      if (!shouldReconnect(e)) return onStatus && onStatus("closed", { code: e.code });
      const delay = Math.min(maxDelay, 500 * 2 ** attempt++);
      onStatus && onStatus("reconnecting", { code: e.code, delay });
      timer = setTimeout(() => connect(), delay);
    };
  };
  const handle = {
    send(obj) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(obj));
      return true;
    },
    close() {
      closedByUs = true;
      clearTimeout(timer);
      if (ws) ws.close(1000);
    },
    get open() {
      return !!ws && ws.readyState === WebSocket.OPEN;
    },
  };
  connect();
  return handle;
}
