// The outcomes of finished sessions: summary, disposition and the contact the
// customer gave, filtered by outcome. Shown with textContent only.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const el = (tag, text) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
};

export const OUTCOME_LABELS = {
  resolved: "Resolved",
  ticket_opened: "Ticket opened",
  handed_to_person: "Handed to a person",
  abandoned: "Abandoned",
};

let base = null;

async function render() {
  const outcome = $("outcome-filter").value;
  const params = new URLSearchParams({ limit: "100" });
  if (outcome) params.set("outcome", outcome);
  const { sessions } = await api(`${base}?${params}`);
  const ended = sessions.filter((s) => s.outcome);
  const body = $("outcomes").querySelector("tbody");
  body.replaceChildren();
  $("outcomes-empty").hidden = ended.length > 0;
  for (const s of ended) {
    const tr = el("tr");
    tr.dataset.sessionId = s.session_id;
    const badge = el("span", OUTCOME_LABELS[s.outcome] || s.outcome);
    badge.className = `badge outcome-${s.outcome}`;
    const cell = el("td");
    cell.append(badge);
    const contact = [s.contact_name, s.contact_email].filter(Boolean).join(", ");
    tr.append(cell, el("td", s.outcome_summary || ""), el("td", contact),
      el("td", new Date(s.ended_at || s.started_at).toLocaleString()));
    body.append(tr);
  }
  $("outcomes-status").textContent = outcome
    ? `${ended.length} session${ended.length === 1 ? "" : "s"}: ${OUTCOME_LABELS[outcome]}`
    : `${ended.length} finished session${ended.length === 1 ? "" : "s"}`;
}

export function wireOutcomes(slug) {
  base = `/v1/businesses/${slug}/sessions`;
  const update = () => render().catch((e) => { $("outcomes-status").textContent = e.message; });
  $("outcome-filter").addEventListener("change", update);
  $("outcomes-refresh").addEventListener("click", update);
  update();
}
