// Log in / sign up / account forms shared by the assistant and owner pages.
// The account lives in an HttpOnly session cookie set by the server: this
// script never sees the token; it asks GET /v1/me who is logged in.

import { ApiError, api, showBanner } from "./api.js";

// Pages before the cookie session kept the account token here; drop it.
for (const key of ["voxa:account:owner", "voxa:account:general"]) localStorage.removeItem(key);

const WRONG_KIND = {
  owner: "This account is not a business owner's account. Use the assistant page instead.",
  general: "This is a business owner's account. Use the owner dashboard instead.",
};

// Leave the page's logged-in state: forget this tab's sessions and start over.
function restart() {
  sessionStorage.clear();
  location.reload();
}

export function showLoggedOut(message) {
  document.getElementById("auth").hidden = false;
  document.getElementById("logout").hidden = true;
  const panel = document.getElementById("account-panel");
  if (panel) panel.hidden = true;
  if (message) showBanner(message);
}

function wireAccountPanel() {
  const panel = document.getElementById("account-panel");
  panel.hidden = false;
  document.getElementById("logout-all").addEventListener("click", async () => {
    try {
      await api("/v1/auth/logout-all", { method: "POST" });
      restart();
    } catch (err) {
      showBanner(err.message);
    }
  });
  const form = document.getElementById("password-form");
  const status = document.getElementById("password-status");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    status.textContent = "";
    try {
      // The server revokes every other login and sets a fresh cookie here.
      await api("/v1/auth/password", {
        method: "POST",
        body: {
          current_password: document.getElementById("password-current").value,
          new_password: document.getElementById("password-new").value,
        },
      });
      form.reset();
      status.textContent = "Password changed. You were logged out on every other device.";
      showBanner("");
    } catch (err) {
      showBanner(err.code === "wrong_password" ? "The current password is wrong." : err.message);
    } finally {
      button.disabled = false;
    }
  });
}

export function wireAuth({ kind, signup, onReady }) {
  const auth = document.getElementById("auth");
  const logout = document.getElementById("logout");
  let opened = false;

  const ready = (me) => {
    auth.hidden = true;
    logout.hidden = false;
    showBanner("");
    if (!opened) wireAccountPanel();
    opened = true;
    onReady(me);
  };
  const submit = (form, action) =>
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const me = await action(form);
        if (me.kind !== kind) {
          // Do not stay logged in as an account this page cannot use.
          await api("/v1/auth/logout", { method: "POST" }).catch(() => {});
          showBanner(WRONG_KIND[kind]);
          return;
        }
        ready(me);
      } catch (err) {
        showBanner(err.message);
      } finally {
        button.disabled = false;
      }
    });
  submit(document.getElementById("login-form"), (f) => api("/v1/auth/login", {
    method: "POST",
    body: { email: f.email.value.trim(), password: f.password.value, cookie: true },
  }));
  submit(document.getElementById("signup-form"), signup);
  logout.addEventListener("click", async () => {
    // Even if the server is unreachable, leave; the cookie expires on its own.
    await api("/v1/auth/logout", { method: "POST" }).catch(() => {});
    restart();
  });
  api("/v1/me").then((me) => {
    if (me.kind === kind) ready(me);
    else showLoggedOut(WRONG_KIND[kind]);
  }).catch((err) => {
    showLoggedOut(err instanceof ApiError && err.status === 401 ? "" : err.message);
  });
}
