// The owner's live alerts: customers waiting for a person, pushed by the
// server (Server-Sent Events on /v1/businesses/{slug}/events), not polled.

import { joinCallButton } from "./owner-call.js";

const $ = (id) => document.getElementById(id);

function render(waiting, onPick) {
  const badge = $("handoff-badge");
  badge.textContent = String(waiting.length);
  badge.hidden = waiting.length === 0;
  $("handoff-none").hidden = waiting.length > 0;
  const list = $("handoff-list");
  list.replaceChildren();
  for (const w of waiting) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "linkish";
    b.dataset.sessionId = w.session_id;
    b.textContent = `${w.channel} session ${w.session_id.slice(0, 8)} — since ${new Date(w.requested_at).toLocaleTimeString()}`;
    b.addEventListener("click", () => onPick(w.session_id));
    li.append(b);
    if (w.channel !== "text") li.append(" ", joinCallButton(w.session_id));
    if (w.reason) {
      const r = document.createElement("span");
      r.className = "muted";
      r.textContent = ` ${w.reason}`;
      li.append(r);
    }
    list.append(li);
  }
}

// Opens the stream; returns a function that closes it. EventSource reconnects
// by itself after a network error or when the server ends a long stream.
export function watchHandoffs(slug, onPick) {
  const source = new EventSource(`/v1/businesses/${encodeURIComponent(slug)}/events`,
    { withCredentials: true });
  source.addEventListener("handoff", (ev) => {
    try {
      render(JSON.parse(ev.data).waiting || [], onPick);
    } catch {
      render([], onPick);
    }
  });
  return () => source.close();
}
