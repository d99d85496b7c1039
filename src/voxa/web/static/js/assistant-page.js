// /assistant: general users log in and talk to the general assistant.

import { ApiError, api, showBanner } from "./api.js";
import { showLoggedOut, wireAuth } from "./auth.js";
import { ChatPanel } from "./chat.js";
import { StoredSession } from "./sessions.js";

const stored = new StoredSession("voxa:session:general");

async function startSession() {
  const grant = await api("/v1/sessions", { method: "POST", body: { role: "general", channel: "text" } });
  return stored.save(grant);
}

async function open(acc) {
  document.getElementById("who").textContent = `Signed in as ${acc.name || acc.email}`;
  const root = document.getElementById("chat");
  let grant = null;
  try {
    grant = await stored.resume();
    const fresh = !grant;
    if (fresh) grant = await startSession();
    const panel = new ChatPanel(root, {
      session: () => stored.value,
      freshGrant: async () => (await stored.resume()) || startSession(),
      onGone: async () => {
        const g = await startSession();
        panel.clear();
        if (g.greeting) panel.add("assistant", g.greeting);
      },
      label: "Conversation with your assistant",
    });
    if (fresh) {
      if (grant.greeting) panel.add("assistant", grant.greeting);
    } else {
      await panel.loadHistory();
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      showLoggedOut("Your login has expired. Please log in again.");
      return;
    }
    showBanner(e.message);
  }
}

wireAuth({
  kind: "general",
  signup: (f) => api("/v1/users", {
    method: "POST",
    body: {
      name: f.name.value.trim(), email: f.email.value.trim(), password: f.password.value,
      cookie: true,
    },
  }),
  onReady: open,
});
