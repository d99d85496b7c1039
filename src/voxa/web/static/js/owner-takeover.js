// The owner takes a customer's text conversation over from the transcript
// view: "Take over" (the assistant goes quiet), write to the customer, "Hand
// back". A call is taken over by joining it (owner-call.js), so a voice
// session gets no controls here.

import { showBanner } from "./api.js";

const $ = (id) => document.getElementById(id);

// call(path, options): the dashboard's API call; changed(): re-read the
// dashboard. Returns show(session), to call whenever the selection or its
// state may have changed.
export function wireTakeover(call, changed) {
  const root = $("takeover");
  const take = $("takeover-take");
  const back = $("takeover-back");
  const form = $("takeover-form");
  const input = $("takeover-text");
  const status = $("takeover-status");
  let current = null;

  function show(session) {
    current = session || null;
    const open = Boolean(current && current.role === "customer" && current.channel === "text"
      && current.status === "active");
    root.hidden = !open;
    if (!open) return;
    const taken = current.handoff === "taken";
    take.hidden = taken;
    back.hidden = !taken;
    form.hidden = !taken;
    status.textContent = taken
      ? "You hold this conversation: the assistant is quiet until you hand it back."
      : current.handoff === "waiting" ? "The customer asked for a person." : "The assistant is answering.";
  }

  async function act(path, body, after) {
    const session = current;
    if (!session) return;
    try {
      const r = await call(`/v1/sessions/${session.session_id}/${path}`, { method: "POST", body });
      after(session, r);
      showBanner("");
      show(session);
      await changed();
    } catch (e) {
      showBanner(e.message);
    }
  }

  take.addEventListener("click", () => act("takeover", undefined, (s, r) => { s.handoff = r.state; }));
  back.addEventListener("click", () => act("handback", undefined, (s, r) => { s.handoff = r.state; }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    act("owner-messages", { text }, () => { input.value = ""; });
  });
  return show;
}
