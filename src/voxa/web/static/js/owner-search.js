// The owner's search over its conversations: messages, summaries and tickets,
// newest first, one page at a time (next / previous). Hits are built with
// textContent only; the searched words are marked by splitting the text into
// text nodes and <mark> elements, never by writing markup.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const el = (tag, text) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
};
const PAGE = 20;
const KINDS = { message: "Message", summary: "Summary", ticket: "Ticket" };

let base = null;
let query = "";
// cursors[i] is the cursor that loads page i (null for the first page)
let cursors = [null];
let page = 0;
let next = null;

// The server matches words of letters and digits; mark the same words.
export function searchWords(q) {
  return (q.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []).filter((w) => w.length > 0);
}

export function highlighted(text, words) {
  const span = el("span");
  if (!words.length) {
    span.textContent = text;
    return span;
  }
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const parts = text.split(new RegExp(`(${escaped.join("|")})`, "giu"));
  parts.forEach((part, i) => {
    if (!part) return;
    span.append(i % 2 === 1 ? el("mark", part) : document.createTextNode(part));
  });
  return span;
}

async function load() {
  const params = new URLSearchParams({ q: query, limit: String(PAGE) });
  if (cursors[page]) params.set("cursor", cursors[page]);
  const answer = await api(`${base}?${params}`);
  const words = searchWords(query);
  const list = $("search-results");
  list.replaceChildren();
  list.start = page * PAGE + 1;
  for (const h of answer.hits) {
    const li = el("li");
    li.dataset.kind = h.kind;
    li.append(el("strong", `${KINDS[h.kind] || h.kind} · ${new Date(h.created_at).toLocaleString()}`),
      " ", highlighted(h.text, words));
    list.append(li);
  }
  next = answer.next_cursor;
  cursors[page + 1] = next;
  $("search-next").hidden = !next;
  $("search-prev").hidden = page === 0;
  $("search-status").textContent = answer.hits.length
    ? `Page ${page + 1}, newest first`
    : page === 0 ? "Nothing found." : "No more results.";
}

function show(e) {
  $("search-status").textContent = e.message;
}

export function wireSearch(slug) {
  base = `/v1/businesses/${slug}/search`;
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    query = $("search-q").value.trim();
    if (!query) return;
    cursors = [null];
    page = 0;
    load().catch(show);
  });
  $("search-next").addEventListener("click", () => {
    if (!next) return;
    page += 1;
    load().catch(show);
  });
  $("search-prev").addEventListener("click", () => {
    if (page === 0) return;
    page -= 1;
    load().catch(show);
  });
}
