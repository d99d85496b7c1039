// Log in / sign up forms shared by the assistant and owner pages.

import { api, showBanner } from "./api.js";

export class Account {
  constructor(key) {
    this.key = key;
    this.value = JSON.parse(localStorage.getItem(key) || "null");
  }

  save(account) {
    this.value = account;
    localStorage.setItem(this.key, JSON.stringify(account));
  }

  clear() {
    this.value = null;
    localStorage.removeItem(this.key);
  }
}

export function wireAuth({ account, kind, signup, onReady }) {
  const auth = document.getElementById("auth");
  const logout = document.getElementById("logout");
  const login = document.getElementById("login-form");
  const signupForm = document.getElementById("signup-form");

  const ready = (data) => {
    account.save(data);
    auth.hidden = true;
    logout.hidden = false;
    showBanner("");
    onReady(data);
  };
  const submit = (form, action) =>
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const data = await action(form);
        if (data.kind !== kind) {
          showBanner(kind === "owner"
            ? "This account is not a business owner's account. Use the assistant page instead."
            : "This is a business owner's account. Use the owner dashboard instead.");
          return;
        }
        ready(data);
      } catch (err) {
        showBanner(err.message);
      } finally {
        button.disabled = false;
      }
    });
  submit(login, (f) => api("/v1/auth/login", {
    method: "POST", body: { email: f.email.value.trim(), password: f.password.value },
  }));
  submit(signupForm, signup);
  logout.addEventListener("click", () => {
    account.clear();
    sessionStorage.clear();
    location.reload();
  });
  if (account.value) {
    auth.hidden = true;
    logout.hidden = false;
    onReady(account.value);
  } else {
    auth.hidden = false;
  }
}
