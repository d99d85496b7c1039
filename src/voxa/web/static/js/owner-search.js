// The owner's search over its conversations: messages, summaries and tickets,
// newest first, one page at a time. Hits are shown with textContent only.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const el = (tag, text) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
};

let base = null;
let query = "";
let cursor = null;

async function load(append) {
  const params = new URLSearchParams({ q: query, limit: "20" });
  if (append && cursor) params.set("cursor", cursor);
  const page = await api(`${base}?${params}`);
  const list = $("search-results");
  if (!append) list.replaceChildren();
  for (const h of page.hits) {
    const li = el("li");
    li.append(el("strong", `${h.kind} · ${new Date(h.created_at).toLocaleString()}`), " ",
      el("span", h.text));
    list.append(li);
  }
  cursor = page.next_cursor;
  $("search-more").hidden = !cursor;
  $("search-status").textContent = list.children.length ? "" : "Nothing found.";
}

export function wireSearch(slug) {
  base = `/v1/businesses/${slug}/search`;
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    query = $("search-q").value.trim();
    if (!query) return;
    load(false).catch((e) => { $("search-status").textContent = e.message; });
  });
  $("search-more").addEventListener("click", () => {
    load(true).catch((e) => { $("search-status").textContent = e.message; });
  });
}
