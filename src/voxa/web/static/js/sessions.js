// Keeping a session across reloads: the session in sessionStorage (this tab),
// the customer id in localStorage. Accounts live in an HttpOnly cookie.

import { ApiError, api } from "./api.js";

export class StoredSession {
  constructor(key) {
    this.key = key;
    this.value = JSON.parse(sessionStorage.getItem(key) || "null");
  }

  save(grant) {
    this.value = {
      session_id: grant.session_id,
      session_token: grant.session_token,
      room_name: grant.room_name,
    };
    sessionStorage.setItem(this.key, JSON.stringify(this.value));
    return grant;
  }

  clear() {
    this.value = null;
    sessionStorage.removeItem(this.key);
  }

  // Resume within the window; null when the session is gone (start a new one).
  async resume() {
    if (!this.value) return null;
    try {
      const grant = await api(`/v1/sessions/${this.value.session_id}/resume`, {
        method: "POST",
        token: this.value.session_token,
      });
      return this.save(grant);
    } catch (e) {
      if (e instanceof ApiError && [401, 403, 404, 410].includes(e.status)) {
        this.clear();
        return null;
      }
      throw e;
    }
  }
}
