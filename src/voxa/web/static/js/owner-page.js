// /owner: business owners sign up / log in; the dashboard of their business,
// refreshed every few seconds so it updates live while customers chat.

import { ApiError, api, showBanner } from "./api.js";
import { showLoggedOut, wireAuth } from "./auth.js";
import { ChatPanel } from "./chat.js";
import { watchHandoffs } from "./owner-handoff.js";
import { wireKnowledge } from "./owner-knowledge.js";
import { OUTCOME_LABELS, wireOutcomes } from "./owner-outcomes.js";
import { wireSearch } from "./owner-search.js";
import { wireTakeover } from "./owner-takeover.js";
import { wireWebhooks } from "./owner-webhooks.js";
import { StoredSession } from "./sessions.js";

const REFRESH_MS = 3000;
let slug = null;
let selected = null;
let timer = null;
let showTakeover = () => {};
const sessionsById = new Map();
const SPEAKERS = { user: "Customer", assistant: "Assistant", human_agent: "Staff" };

const $ = (id) => document.getElementById(id);
const fmt = (iso) => new Date(iso).toLocaleString();
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};

async function call(path, options = {}) {
  try {
    return await api(path, options);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      clearInterval(timer);
      $("dashboard").hidden = true;
      showLoggedOut("Your login has expired. Please log in again.");
    }
    throw e;
  }
}

function renderStats(s) {
  const dl = $("stats");
  dl.replaceChildren();
  for (const [label, value] of [
    ["Sessions", s.total_sessions],
    ["Active now", s.active_sessions],
    ["Avg. messages / session", s.avg_messages_per_session],
    ["Messages", s.total_messages],
  ]) {
    const d = el("div");
    d.append(el("dt", label), el("dd", String(value)));
    dl.append(d);
  }
  const chart = $("hours-chart");
  const max = Math.max(1, ...s.sessions_by_hour.map((h) => h.sessions));
  chart.replaceChildren();
  const labels = $("hours-labels");
  labels.replaceChildren();
  for (const h of s.sessions_by_hour) {
    const bar = el("div", undefined, "bar");
    bar.style.height = `${(100 * h.sessions) / max}%`;
    bar.title = `${h.hour}:00 — ${h.sessions} session${h.sessions === 1 ? "" : "s"}`;
    chart.append(bar);
    labels.append(el("span", h.hour % 6 === 0 ? String(h.hour) : ""));
  }
  const busiest = s.busiest_hours.map((h) => `${h.hour}:00 (${h.sessions})`).join(", ") || "none yet";
  chart.setAttribute("aria-label", `Sessions by hour of day. Busiest: ${busiest}`);
}

function renderSessions(list) {
  const body = $("sessions").querySelector("tbody");
  body.replaceChildren();
  sessionsById.clear();
  for (const s of list) {
    sessionsById.set(s.session_id, s);
    const tr = el("tr");
    tr.dataset.sessionId = s.session_id;
    if (s.session_id === selected) tr.className = "selected";
    const status = el("td");
    status.append(el("span", s.status, `badge ${s.status}`));
    const who = s.role === "customer" ? "Customer" : s.role === "owner" ? "You (owner)" : s.role;
    const open = el("td");
    const button = el("button", "Read");
    button.type = "button";
    button.setAttribute("aria-label", `Read the transcript of the session started ${fmt(s.started_at)}`);
    button.addEventListener("click", () => selectSession(s.session_id));
    open.append(button);
    const outcome = el("td", s.outcome ? OUTCOME_LABELS[s.outcome] || s.outcome : "");
    if (s.outcome_summary) outcome.title = s.outcome_summary;
    const contact = [s.contact_name, s.contact_email].filter(Boolean).join(", ");
    tr.append(status, outcome, el("td", `${who}${contact ? ` — ${contact}` : ""}${s.channel !== "text" ? " (voice)" : ""}`),
      el("td", fmt(s.started_at)), el("td", String(s.message_count)), open);
    body.append(tr);
  }
}

async function renderTranscript() {
  if (!selected) return;
  const data = await call(`/v1/sessions/${selected}/messages?limit=200`);
  const list = $("transcript");
  list.replaceChildren();
  $("transcript-empty").hidden = data.messages.length > 0;
  if (!data.messages.length) $("transcript-empty").textContent = "No messages yet.";
  for (const m of data.messages) {
    if (!(m.role in SPEAKERS)) continue;
    const li = el("li", undefined, `msg ${m.role}`);
    li.append(el("span", SPEAKERS[m.role], "who"), el("span", m.content));
    if (typeof m.audio_url === "string" && m.audio_url.startsWith("/v1/sessions/")) {
      // a call's turn: its recording, fetched with the page's own cookie
      const audio = el("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = m.audio_url;
      audio.setAttribute("aria-label", `Recording of this ${m.role === "user" ? "customer" : "assistant"} turn`);
      li.append(audio);
    }
    list.append(li);
  }
  showTakeover(sessionsById.get(selected));
}

async function selectSession(id) {
  selected = id;
  for (const tr of $("sessions").querySelectorAll("tr[data-session-id]")) {
    tr.classList.toggle("selected", tr.dataset.sessionId === id);
  }
  await renderTranscript();
}

function renderTickets(list) {
  const body = $("tickets").querySelector("tbody");
  body.replaceChildren();
  $("tickets-empty").hidden = list.length > 0;
  for (const t of list) {
    const tr = el("tr");
    const select = el("select");
    select.setAttribute("aria-label", `Status of ticket: ${t.subject}`);
    for (const s of ["open", "pending", "closed"]) {
      const o = el("option", s);
      o.value = s;
      o.selected = s === t.status;
      select.append(o);
    }
    select.addEventListener("change", async () => {
      try {
        await call(`/v1/businesses/${slug}/tickets/${t.id}`, { method: "PATCH", body: { status: select.value } });
        showBanner("");
      } catch (e) {
        showBanner(e.message);
      }
    });
    const statusCell = el("td");
    statusCell.append(select);
    tr.append(el("td", t.subject), el("td", t.body), el("td", t.priority), el("td", fmt(t.created_at)), statusCell);
    body.append(tr);
  }
}

async function refresh() {
  try {
    const [stats, sessions, tickets] = await Promise.all([
      call(`/v1/businesses/${slug}/stats`),
      call(`/v1/businesses/${slug}/sessions?limit=50`),
      call(`/v1/businesses/${slug}/tickets`),
    ]);
    renderStats(stats);
    renderSessions(sessions.sessions);
    const focused = document.activeElement;
    if (!(focused && focused.tagName === "SELECT" && $("tickets").contains(focused))) renderTickets(tickets.tickets);
    await renderTranscript();
    showBanner("");
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) showBanner(e.message);
  }
}

async function loadSettings() {
  const [agent, voices, business] = await Promise.all([
    call(`/v1/businesses/${slug}/agent`), api("/v1/voices"), call(`/v1/businesses/${slug}/settings`),
  ]);
  $("allowed-origins").value = business.allowed_origins.join("\n");
  $("agent-greeting").value = agent.greeting.customer || "";
  $("agent-greeting").placeholder = agent.defaults.greeting.customer;
  $("agent-instructions").value = agent.instructions.customer || "";
  $("agent-instructions").placeholder = agent.defaults.instructions.customer;
  const select = $("agent-voice");
  select.replaceChildren();
  for (const v of voices) {
    const o = el("option", `${v.name} (${v.engine}, ${v.language})`);
    o.value = v.id;
    o.selected = v.id === (agent.default_voice || voices[0].id);
    select.append(o);
  }
}

function wireSettings() {
  $("agent-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await call(`/v1/businesses/${slug}/agent`, {
        method: "PATCH",
        body: {
          greeting: { customer: $("agent-greeting").value },
          instructions: { customer: $("agent-instructions").value },
          default_voice: $("agent-voice").value,
        },
      });
      $("agent-status").textContent = "Saved. New conversations use these settings.";
    } catch (err) {
      $("agent-status").textContent = "";
      showBanner(err.message);
    }
  });
  $("origins-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const origins = $("allowed-origins").value.split(/\s+/).filter(Boolean);
    try {
      const saved = await call(`/v1/businesses/${slug}/settings`, {
        method: "PATCH", body: { allowed_origins: origins },
      });
      $("allowed-origins").value = saved.allowed_origins.join("\n");
      $("origins-status").textContent = saved.allowed_origins.length
        ? "Saved. The widget works on these websites."
        : "Saved. The widget is not allowed on any website.";
      showBanner("");
    } catch (err) {
      $("origins-status").textContent = "";
      showBanner(err.message);
    }
  });
  const snippet = `<script src="${location.origin}/widget.js" data-business="${slug}" async></script>`;
  $("widget-snippet").textContent = snippet;
  $("copy-snippet").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      $("copy-snippet").textContent = "Copied";
    } catch {
      showBanner("Copying is blocked here; select the snippet and copy it by hand.");
    }
  });
  const link = $("chat-link");
  link.href = `/chat/${slug}`;
  link.textContent = `${location.origin}/chat/${slug}`;
}

function wireManager() {
  const stored = new StoredSession(`voxa:session:owner:${slug}`);
  const start = async () => stored.save(await call("/v1/sessions", { method: "POST", body: { role: "owner", channel: "text" } }));
  const panel = new ChatPanel($("manager-chat"), {
    session: () => stored.value,
    freshGrant: async () => (await stored.resume()) || start(),
    onGone: async () => {
      panel.clear();
      await start();
    },
    label: "Conversation with your manager assistant",
  });
  // The session is started on the first message, so browsing the dashboard
  // does not create empty sessions.
  const send = panel.send.bind(panel);
  panel.send = async () => {
    if (!stored.value && !(await stored.resume())) await start();
    return send();
  };
  stored.resume().then((g) => g && panel.loadHistory()).catch(() => {});
}

async function open(acc) {
  slug = acc.business && acc.business.slug;
  if (!slug) {
    showBanner("This account has no business.");
    return;
  }
  $("business-title").textContent = `${acc.business.name} — dashboard`;
  $("dashboard").hidden = false;
  wireSettings();
  wireManager();
  showTakeover = wireTakeover(call, refresh);
  watchHandoffs(slug, (id) => selectSession(id).catch((e) => showBanner(e.message)));
  wireKnowledge(slug);
  wireSearch(slug);
  wireOutcomes(slug);
  wireWebhooks(slug);
  await Promise.all([refresh(), loadSettings()]).catch((e) => showBanner(e.message));
  timer = setInterval(refresh, REFRESH_MS);
}

wireAuth({
  kind: "owner",
  signup: (f) => api("/v1/businesses", {
    method: "POST",
    body: {
      name: f.business.value.trim(), slug: f.slug.value.trim(),
      owner: { name: f.name.value.trim(), email: f.email.value.trim(), password: f.password.value },
      cookie: true,
    },
  }),
  onReady: open,
});
