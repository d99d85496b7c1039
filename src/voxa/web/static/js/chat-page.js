// /chat/{slug}: the public customer chat of one business.

import { api, showBanner } from "./api.js";
import { ChatPanel } from "./chat.js";
import { StoredSession } from "./sessions.js";

const main = document.querySelector("main");
const slug = main.dataset.slug;
const form = document.getElementById("start-form");
const stored = new StoredSession(`voxa:session:${slug}`);
const customerKey = `voxa:customer:${slug}`;
const askPerson = document.getElementById("ask-person");
let panel = null;

askPerson.addEventListener("click", async () => {
  const s = stored.value;
  if (!s) return;
  askPerson.disabled = true;
  try {
    const r = await api(`/v1/sessions/${s.session_id}/handoff`, { method: "POST", token: s.session_token });
    if (r && r.state === "closed") {
      // Outside opening hours nobody is asked: say when, offer a ticket instead.
      askPerson.disabled = false;
      showBanner(r.message, "info");
      return;
    }
    showBanner("We have asked for a person; someone will join this conversation.", "info");
    if (panel) panel.watchPerson();
  } catch (err) {
    askPerson.disabled = false;
    showBanner(err.message);
  }
});

function openPanel(greeting) {
  form.hidden = true;
  if (!panel) {
    panel = new ChatPanel(document.getElementById("chat"), {
      session: () => stored.value,
      freshGrant: async () => (await stored.resume()) || Promise.reject(new Error("The conversation has ended.")),
      onGone: () => {
        panel.stopWatching();
        stored.clear();
        document.getElementById("chat").replaceChildren();
        panel = null;
        askPerson.hidden = true;
        askPerson.disabled = false;
        form.hidden = false;
      },
      label: `Conversation with ${main.dataset.businessName}`,
    });
  }
  askPerson.hidden = false;
  if (greeting) panel.add("assistant", greeting);
  panel.input.focus();
}

async function start(name, email) {
  const customer = {};
  if (name) customer.name = name;
  if (email) customer.email = email;
  const known = localStorage.getItem(customerKey);
  if (known) customer.customer_id = known;
  let grant;
  try {
    grant = await api("/v1/sessions", {
      method: "POST",
      body: { role: "customer", business: slug, channel: "text", customer },
    });
  } catch (e) {
    if (e.code === "invalid_customer_id") {
      localStorage.removeItem(customerKey);
      return start(name, email);
    }
    throw e;
  }
  if (grant.customer_id) localStorage.setItem(customerKey, grant.customer_id);
  stored.save(grant);
  showBanner("");
  openPanel(grant.greeting);
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    await start(form.name.value.trim(), form.email.value.trim());
  } catch (err) {
    showBanner(err.message);
  } finally {
    button.disabled = false;
  }
});

async function boot() {
  try {
    const resumed = await stored.resume();
    if (resumed) {
      openPanel(null);
      const messages = await panel.loadHistory();
      if (!messages.length) panel.add("assistant", `Welcome back! How can we help?`);
      return;
    }
    if (sessionStorage.getItem(`${stored.key}:seen`)) {
      showBanner("Your previous conversation has ended. Start a new one below.", "info");
    }
  } catch (e) {
    showBanner(e.message);
  }
  sessionStorage.setItem(`${stored.key}:seen`, "1");
  form.hidden = false;
  form.name.focus();
}

boot();
