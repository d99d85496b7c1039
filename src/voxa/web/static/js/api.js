// Thin JSON API client. Every error becomes an ApiError with the server's
// {"error": {code, message}} or a clear "unreachable" error.
//
// Logged-in pages authenticate with the HttpOnly session cookie (script never
// sees the account token); unsafe requests echo the readable CSRF cookie in
// X-CSRF-Token. Session holders (customers, open chats) send their
// per-session token as a bearer token instead.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const UNREACHABLE = "Cannot reach the server. Check your connection and try again.";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

function csrfToken() {
  // "__Host-" when served over https (see voxa/api/cookies.py)
  for (const name of ["__Host-voxa_csrf", "voxa_csrf"]) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
    if (hit) return hit.slice(name.length + 1);
  }
  return null;
}

function headers(token, json, method) {
  const h = {};
  if (json) h["content-type"] = "application/json";
  if (token) h.authorization = `Bearer ${token}`;
  const csrf = SAFE.has(method) ? null : csrfToken();
  if (csrf) h["x-csrf-token"] = csrf;
  return h;
}

export async function api(path, { method = "GET", body, token } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: headers(token, body !== undefined, method),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "unreachable", UNREACHABLE);
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || "error", err.message || res.statusText);
  }
  return data;
}

// POST a message and read the server-sent events of the reply as they arrive.
export async function streamMessage(sessionId, token, text, { onMessage, onDelta } = {}) {
  let res;
  try {
    res = await fetch(`/v1/sessions/${sessionId}/messages/stream`, {
      method: "POST",
      credentials: "same-origin",
      headers: headers(token, true, "POST"),
      body: JSON.stringify({ text, client_message_id: crypto.randomUUID() }),
    });
  } catch {
    throw new ApiError(0, "unreachable", UNREACHABLE);
  }
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || "error", err.message || res.statusText);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let done = null;
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null");
      if (event === "message" && onMessage) onMessage(data);
      else if (event === "delta" && onDelta) onDelta(data.text);
      else if (event === "done") done = data;
      else if (event === "error") throw new ApiError(500, data.error.code, data.error.message);
    }
  }
  if (!done) throw new ApiError(0, "interrupted", "The reply was interrupted; it will appear when you reload.");
  return done;
}

export function showBanner(message, kind = "error") {
  const el = document.getElementById("banner");
  if (!el) return;
  el.textContent = message;
  el.className = kind === "error" ? "banner" : "banner info";
  el.hidden = !message;
}
