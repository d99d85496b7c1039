// The conversation panel shared by every page: history, streamed replies,
// and a Call button that talks to the same session by voice.

import { ApiError, api, showBanner, streamMessage } from "./api.js";
import { MicrophoneDenied, startCall, voiceAvailable } from "./voice.js";

let uid = 0;
// While a person from the business is asked for or writing, the page reads the
// transcript this often for their messages (only then: nobody else writes).
const PERSON_POLL_MS = 1500;
const LABELS = { user: "You", assistant: "Assistant", human_agent: "Staff" };

function node(tag, attrs, text) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

export class ChatPanel {
  // session(): the current {session_id, session_token}; freshGrant(): a resumed
  // grant with a fresh LiveKit token; onGone(): the session ended or expired.
  constructor(root, { session, freshGrant, onGone, label = "Conversation" }) {
    this.session = session;
    this.freshGrant = freshGrant;
    this.onGone = onGone;
    this.room = null;
    this.lastId = 0; // the newest stored message this panel shows
    this.personTimer = null;
    const id = `chat-${++uid}`;
    // Built node by node: the label carries a business name (tenant data).
    const section = node("section", { class: "chat", "aria-label": label });
    this.list = node("ol", { class: "messages", "aria-live": "polite", "aria-relevant": "additions" });
    const form = node("form", { class: "composer" });
    const inputLabel = node("label", { for: `${id}-input`, class: "sr-only" }, "Your message");
    this.input = node("textarea", {
      id: `${id}-input`, rows: "2", maxlength: "4000", placeholder: "Type a message and press Enter",
    });
    this.sendButton = node("button", { type: "submit", class: "primary send" }, "Send");
    this.callButton = node("button", { type: "button", class: "call", "aria-pressed": "false" }, "Call");
    form.append(inputLabel, this.input, this.sendButton, this.callButton);
    this.status = node("p", { class: "status", role: "status" });
    section.append(this.list, form, this.status);
    root.replaceChildren(section);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        this.send();
      }
    });
    this.callButton.addEventListener("click", () => (this.room ? this.hangUp() : this.call()));
    if (!voiceAvailable()) {
      this.callButton.disabled = true;
      this.callButton.title = "Voice calls are not available in this build";
    }
  }

  add(role, text, { voice = false } = {}) {
    const li = document.createElement("li");
    li.className = `msg ${role}${voice ? " voice" : ""}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = LABELS[role] || role;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    li.append(who, body);
    this.list.appendChild(li);
    this.list.scrollTop = this.list.scrollHeight;
    return body;
  }

  clear() {
    this.list.replaceChildren();
  }

  async loadHistory() {
    const s = this.session();
    const data = await api(`/v1/sessions/${s.session_id}/messages?limit=200`, { token: s.session_token });
    this.clear();
    for (const m of data.messages) if (m.role in LABELS) this.add(m.role, m.content);
    this.lastId = Math.max(0, ...data.messages.map((m) => m.id));
    const info = await api(`/v1/sessions/${s.session_id}`, { token: s.session_token });
    if (info.handoff === "waiting" || info.handoff === "taken") this.watchPerson();
    return data.messages;
  }

  // Shows the messages of the business's person as they are written, until
  // the conversation is handed back to the assistant (or ends).
  watchPerson() {
    if (this.personTimer) return;
    const tick = async () => {
      const s = this.session();
      if (!s) return this.stopWatching();
      try {
        const data = await api(`/v1/sessions/${s.session_id}/messages?limit=200`, { token: s.session_token });
        for (const m of data.messages) {
          if (m.id > this.lastId && m.role === "human_agent") this.add(m.role, m.content);
        }
        this.lastId = Math.max(this.lastId, ...data.messages.map((m) => m.id));
        const info = await api(`/v1/sessions/${s.session_id}`, { token: s.session_token });
        if (info.status !== "active" || info.handoff === "returned" || !info.handoff) this.stopWatching();
        if (info.handoff === "returned") this.setStatus("The assistant is back.");
      } catch (e) {
        this.stopWatching();
        this.handleError(e);
      }
    };
    this.personTimer = setInterval(tick, PERSON_POLL_MS);
  }

  stopWatching() {
    clearInterval(this.personTimer);
    this.personTimer = null;
  }

  // After a reply that may have asked for a person (the assistant's
  // request_human tool), one read of the session says whether to watch.
  async checkPerson() {
    const s = this.session();
    try {
      const info = await api(`/v1/sessions/${s.session_id}`, { token: s.session_token });
      if (info.handoff === "waiting" || info.handoff === "taken") this.watchPerson();
    } catch {
      // the next message will tell
    }
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  async send() {
    const text = this.input.value.trim();
    if (!text || this.sendButton.disabled) return;
    const s = this.session();
    this.input.value = "";
    this.sendButton.disabled = true;
    this.add("user", text);
    const reply = this.add("assistant", "");
    reply.parentElement.setAttribute("aria-busy", "true");
    this.setStatus("The assistant is replying…");
    try {
      const done = await streamMessage(s.session_id, s.session_token, text, {
        onDelta: (piece) => {
          reply.textContent += piece;
          this.list.scrollTop = this.list.scrollHeight;
        },
      });
      if (done.reply) {
        reply.textContent = done.reply.content;
        this.setStatus("");
      } else {
        // a person from the business holds the conversation: they answer
        reply.parentElement.remove();
        this.setStatus("A person from the business will answer here.");
      }
      this.lastId = Math.max(this.lastId, done.message ? done.message.id : 0, done.reply ? done.reply.id : 0);
      showBanner("");
      if (!this.personTimer) this.checkPerson();
    } catch (e) {
      reply.parentElement.remove();
      this.handleError(e);
    } finally {
      reply.parentElement.removeAttribute("aria-busy");
      this.sendButton.disabled = false;
      this.input.focus();
    }
  }

  handleError(e) {
    this.setStatus("");
    if (e instanceof ApiError && (e.status === 410 || e.status === 404 || e.code === "token_expired")) {
      showBanner("This conversation has ended. Starting a new one…", "info");
      this.onGone && this.onGone();
      return;
    }
    showBanner(e.message || "Something went wrong.");
  }

  async call() {
    this.callButton.disabled = true;
    this.setStatus("Connecting the call…");
    try {
      const grant = await this.freshGrant();
      this.room = await startCall(grant, {
        onTranscript: (role, text) => this.add(role, text, { voice: true }),
        onEnded: () => this.callEnded(),
      });
      this.callButton.textContent = "Hang up";
      this.callButton.classList.add("active");
      this.callButton.setAttribute("aria-pressed", "true");
      this.setStatus("On a call. Speak when you are ready.");
      showBanner("");
    } catch (e) {
      this.room = null;
      this.setStatus("");
      if (e instanceof MicrophoneDenied) showBanner(e.message);
      else this.handleError(e);
    } finally {
      this.callButton.disabled = !voiceAvailable();
    }
  }

  async hangUp() {
    const room = this.room;
    this.room = null;
    if (room) await room.disconnect();
    this.callEnded();
  }

  callEnded() {
    this.room = null;
    this.callButton.textContent = "Call";
    this.callButton.classList.remove("active");
    this.callButton.setAttribute("aria-pressed", "false");
    this.setStatus("Call ended.");
  }
}
