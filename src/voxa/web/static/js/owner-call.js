// The owner joins a customer's voice call from the dashboard: a LiveKit token
// for that room only (POST /v1/sessions/{id}/join-call), the browser's
// microphone, and a "Leave call" button. While the owner is in the room the
// assistant stays silent; when the owner leaves, it answers again.

import { ApiError, api, showBanner } from "./api.js";

// The one call this page is in (an owner talks to one customer at a time).
const call = { room: null, sessionId: null };

function bar() {
  let el = document.getElementById("owner-call");
  if (!el) {
    el = document.createElement("div");
    el.id = "owner-call";
    el.className = "banner info";
    el.hidden = true;
    el.setAttribute("role", "status");
    const text = document.createElement("span");
    text.id = "owner-call-status";
    const leave = document.createElement("button");
    leave.type = "button";
    leave.id = "owner-call-leave";
    leave.className = "call active";
    leave.textContent = "Leave call";
    leave.addEventListener("click", () => leaveCall());
    el.append(text, " ", leave);
    document.getElementById("handoff-list").after(el);
  }
  return el;
}

function show(status, inCall) {
  const el = bar();
  document.getElementById("owner-call-status").textContent = status;
  document.getElementById("owner-call-leave").hidden = !inCall;
  el.hidden = !status;
}

async function connect(grant) {
  const LK = window.LivekitClient;
  const room = new LK.Room();
  room.on(LK.RoomEvent.TrackSubscribed, (track) => {
    if (track.kind === "audio") {
      const el = track.attach();
      el.dataset.voxaCallAudio = "1";
      document.body.appendChild(el);
    }
  });
  room.on(LK.RoomEvent.TrackUnsubscribed, (track) => track.detach().forEach((el) => el.remove()));
  room.on(LK.RoomEvent.Disconnected, () => {
    if (call.room === room) {
      call.room = null;
      call.sessionId = null;
      show("The call has ended.", false);
    }
  });
  await room.connect(grant.url, grant.token);
  try {
    await room.localParticipant.setMicrophoneEnabled(true);
  } catch (e) {
    await room.disconnect();
    if (e && (e.name === "NotAllowedError" || e.name === "SecurityError")) {
      throw new ApiError(0, "microphone_denied", "Microphone access was denied. Allow it in your browser to join the call.");
    }
    if (e && (e.name === "NotFoundError" || e.name === "OverconstrainedError")) {
      throw new ApiError(0, "microphone_missing", "No microphone was found. Connect one and try again.");
    }
    throw e;
  }
  return room;
}

export async function joinCall(sessionId) {
  if (typeof window.LivekitClient === "undefined") {
    showBanner("Voice calls are not available in this build.");
    return;
  }
  if (call.room) await leaveCall();
  show("Joining the call…", false);
  try {
    const grant = await api(`/v1/sessions/${encodeURIComponent(sessionId)}/join-call`, { method: "POST" });
    call.room = await connect(grant);
    call.sessionId = sessionId;
    show(`In the call with session ${sessionId.slice(0, 8)} — the assistant is silent until you leave.`, true);
  } catch (e) {
    call.room = null;
    show("", false);
    showBanner(e.message || "Could not join the call.");
  }
}

export async function leaveCall() {
  const room = call.room;
  call.room = null;
  call.sessionId = null;
  if (room) await room.disconnect();
  show("You left the call; the assistant answers again.", false);
}

// The handoff view's hook: a "Join call" button for a waiting voice session.
export function joinCallButton(sessionId) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "call";
  b.dataset.joinCall = sessionId;
  b.textContent = "Join call";
  b.addEventListener("click", () => joinCall(sessionId));
  return b;
}
