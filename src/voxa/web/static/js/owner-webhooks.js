// The owner's webhooks: endpoints that hear about the business's events, and
// each endpoint's deliveries (status, attempts) with a re-send. Everything the
// server returns is shown with textContent only.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const el = (tag, text) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
};
const fmt = (iso) => new Date(iso).toLocaleString();
const button = (text, label, onClick) => {
  const b = el("button", text);
  b.type = "button";
  if (label) b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
};

const REFRESH_MS = 3000;
let base = null;
let shown = null; // the endpoint whose deliveries are listed
let timer = null; // refreshes the listed deliveries while the list is open

function say(id, message) {
  $(id).textContent = message;
}

async function renderDeliveries() {
  const body = $("wh-deliveries").querySelector("tbody");
  if (!shown) {
    $("wh-deliveries-box").hidden = true;
    clearInterval(timer);
    timer = null;
    return;
  }
  const { deliveries } = await api(`${base}/${shown.id}/deliveries?limit=50`);
  $("wh-deliveries-box").hidden = false;
  $("wh-deliveries-h").textContent = `Deliveries to ${shown.url}`;
  $("wh-deliveries-empty").hidden = deliveries.length > 0;
  body.replaceChildren();
  for (const d of deliveries) {
    const tr = el("tr");
    tr.dataset.deliveryId = d.id;
    const badge = el("span", d.status);
    badge.className = `badge ${d.status}`;
    const status = el("td");
    status.append(badge);
    const result = d.last_status_code ? `HTTP ${d.last_status_code}` : d.last_error || "";
    const act = el("td");
    if (d.status === "succeeded" || d.status === "failed") {
      act.append(button("Re-send", `Re-send the ${d.event_type} delivery of ${fmt(d.created_at)}`,
        async () => {
          try {
            await api(`${base}/${shown.id}/deliveries/${d.id}/resend`, { method: "POST" });
            say("wh-deliveries-status", `Re-sending the ${d.event_type} delivery (same webhook-id).`);
            await renderDeliveries();
          } catch (e) {
            say("wh-deliveries-status", e.message);
          }
        }));
    }
    tr.append(el("td", d.event_type), status, el("td", String(d.attempts)), el("td", result),
      el("td", fmt(d.updated_at)), el("td", d.message_id), act);
    body.append(tr);
  }
}

async function showDeliveries(endpoint) {
  shown = endpoint;
  say("wh-deliveries-status", "");
  if (!timer) {
    timer = setInterval(() => {
      renderDeliveries().catch((e) => say("wh-deliveries-status", e.message));
    }, REFRESH_MS);
  }
  try {
    await renderDeliveries();
  } catch (e) {
    say("wh-deliveries-status", e.message);
  }
}

async function renderEndpoints() {
  const { webhooks } = await api(base);
  const list = $("wh-list");
  list.replaceChildren();
  $("wh-empty").hidden = webhooks.length > 0;
  if (shown && !webhooks.some((w) => w.id === shown.id)) shown = null;
  for (const w of webhooks) {
    const li = el("li");
    li.dataset.webhookId = w.id;
    const what = el("span", `${w.url} — ${w.events.join(", ")}${w.description ? ` (${w.description})` : ""}`);
    const deliveries = button("Deliveries", `Deliveries to ${w.url}`, () => showDeliveries(w));
    const remove = button("Delete", `Delete the endpoint ${w.url}`, async () => {
      try {
        await api(`${base}/${w.id}`, { method: "DELETE" });
        say("wh-status", `Deleted ${w.url}.`);
        await renderEndpoints();
        await renderDeliveries();
      } catch (e) {
        say("wh-status", e.message);
      }
    });
    li.append(what, " ", deliveries, " ", remove);
    list.append(li);
  }
}

export function wireWebhooks(slug) {
  base = `/v1/businesses/${slug}/webhooks`;
  $("wh-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const events = [...document.querySelectorAll("#wh-events input:checked")].map((i) => i.value);
    if (!events.length) {
      say("wh-status", "Choose at least one event.");
      return;
    }
    try {
      const made = await api(base, {
        method: "POST",
        body: { url: $("wh-url").value.trim(), events, description: $("wh-description").value.trim() },
      });
      $("wh-form").reset();
      say("wh-status", `Registered ${made.url}. Its signing secret is shown only now:`);
      $("wh-secret").textContent = made.secret;
      $("wh-secret-box").hidden = false;
      await renderEndpoints();
    } catch (e) {
      $("wh-secret-box").hidden = true;
      say("wh-status", e.message);
    }
  });
  $("wh-refresh").addEventListener("click", () => {
    renderDeliveries().catch((e) => say("wh-deliveries-status", e.message));
  });
  renderEndpoints().catch((e) => say("wh-status", e.message));
}
