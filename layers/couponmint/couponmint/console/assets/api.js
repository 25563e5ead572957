// The public API, called with the signed-in token. The token lives in this tab's sessionStorage only (gone
// when the tab closes, never in a URL or a cookie) and is sent only as the X-Auth-Token header.

const SESSION_KEY = "couponmint.console.session";

// The page is <base>/console, so the API's root is the folder it sits in (under any stage or base path).
export const apiRoot = new URL(".", document.baseURI);

export function currentSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY));
    return stored && stored.store && stored.token ? stored : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.clear();
}

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const problems = problemsOf(status, body, retryAfter);
    super(problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join(" "));
    this.status = status;
    this.body = body;
    this.problems = problems;
    this.retryAfter = retryAfter;
  }
}

// 422: {"errors":[{"title":"<field>: <problem>"}]} → [{field, message}]; other errors → one loose message.
function problemsOf(status, body, retryAfter) {
  if (body && Array.isArray(body.errors) && body.errors.length) {
    return body.errors.map(({ title }) => {
      const text = String(title ?? "");
      const match = /^([A-Za-z_][\w.]*): (.*)$/s.exec(text);
      return match ? { field: match[1].split(".")[0], message: match[2] } : { field: null, message: text };
    });
  }
  const said = (body && (body.detail || body.error || body.title)) || `The API answered ${status}.`;
  const wait = status === 429 && retryAfter ? ` Try again in ${retryAfter} s.` : "";
  return [{ field: null, message: `${said}${wait}` }];
}

export function storePath(store, path) {
  return new URL(`stores/${encodeURIComponent(store)}/v3/${path}`, apiRoot);
}

// A path the API gave back (a Location header, e.g. /stores/demo/v3/...), rebased on where the API really is.
export function fromLocation(location) {
  const at = location.indexOf("stores/");
  return at < 0 ? null : new URL(location.slice(at), apiRoot);
}

// call("GET", "promotions?limit=1") → {status, body, location}; throws ApiError for any 4xx/5xx.
export async function call(method, path, { body, session = currentSession(), signal } = {}) {
  if (!session) throw new ApiError(401, null);
  const url = path instanceof URL ? path : storePath(session.store, path);
  const headers = { "X-Auth-Token": session.token, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
    signal,
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, parsed, response.headers.get("X-Retry-After"));
  return { status: response.status, body: parsed, location: response.headers.get("Location") };
}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
