// A voice call into a session's LiveKit room with livekit-client (from npm).

import { ApiError } from "./api.js";

export class MicrophoneDenied extends Error {}

export function voiceAvailable() {
  return typeof window.LivekitClient !== "undefined";
}

export async function startCall(grant, { onTranscript, onEnded }) {
  if (!voiceAvailable()) {
    throw new ApiError(0, "voice_unavailable", "Voice calls are not available in this build.");
  }
  if (!grant.livekit) {
    throw new ApiError(0, "voice_unavailable", "Voice is not enabled on this server.");
  }
  const LK = window.LivekitClient;
  const room = new LK.Room();
  room.on(LK.RoomEvent.TrackSubscribed, (track) => {
    if (track.kind === "audio") {
      const el = track.attach();
      el.dataset.voxaAgentAudio = "1";
      document.body.appendChild(el);
    }
  });
  room.on(LK.RoomEvent.TrackUnsubscribed, (track) => track.detach().forEach((el) => el.remove()));
  room.on(LK.RoomEvent.Disconnected, () => onEnded && onEnded());
  room.registerTextStreamHandler("lk.transcription", async (reader, participant) => {
    const text = await reader.readAll();
    if (!text.trim()) return;
    const mine = participant.identity === room.localParticipant.identity;
    onTranscript(mine ? "user" : "assistant", text);
  });
  await room.connect(grant.livekit.url, grant.livekit.token);
  try {
    await room.localParticipant.setMicrophoneEnabled(true);
  } catch (e) {
    await room.disconnect();
    if (e && (e.name === "NotAllowedError" || e.name === "SecurityError")) {
      throw new MicrophoneDenied("Microphone access was denied. Allow it in your browser to call.");
    }
    if (e && (e.name === "NotFoundError" || e.name === "OverconstrainedError")) {
      throw new MicrophoneDenied("No microphone was found. Connect one and try again.");
    }
    throw e;
  }
  return room;
}
