// The owner's knowledge base: FAQ entries and documents the customer assistant
// answers from. Document text is shown with textContent only, never as markup.

import { api, showBanner } from "./api.js";

const $ = (id) => document.getElementById(id);
const el = (tag, text) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
};

let base = null;
let editing = null;

function base64Of(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function showFields() {
  const faq = $("kb-kind").value === "faq";
  const pdf = $("kb-kind").value === "pdf";
  $("kb-faq-fields").hidden = !faq;
  $("kb-doc-fields").hidden = faq;
  $("kb-content").hidden = pdf;
  $("kb-content-label").hidden = pdf;
  $("kb-file").hidden = !pdf;
  $("kb-file-label").hidden = !pdf;
}

function resetForm() {
  editing = null;
  $("kb-form").reset();
  $("kb-submit").textContent = "Add to knowledge";
  showFields();
}

async function body() {
  const kind = $("kb-kind").value;
  if (kind === "faq") {
    return { kind, question: $("kb-question").value.trim(), answer: $("kb-answer").value.trim() };
  }
  const title = $("kb-title").value.trim();
  if (kind === "pdf") {
    const file = $("kb-file").files[0];
    if (!file) throw new Error("Choose a PDF file.");
    return { kind, title, content: base64Of(await file.arrayBuffer()) };
  }
  return { kind, title, content: $("kb-content").value };
}

async function edit(id) {
  const doc = await api(`${base}/${id}`);
  editing = id;
  $("kb-kind").value = doc.kind === "pdf" ? "text" : doc.kind;
  $("kb-title").value = doc.title;
  $("kb-content").value = doc.source;
  if (doc.kind === "faq") {
    const [q, ...a] = doc.source.replace(/^Q: /, "").split("\nA: ");
    $("kb-question").value = q;
    $("kb-answer").value = a.join("\nA: ");
  }
  $("kb-submit").textContent = "Save changes";
  showFields();
}

async function render() {
  const { documents } = await api(base);
  const list = $("kb-list");
  list.replaceChildren();
  $("kb-empty").hidden = documents.length > 0;
  for (const d of documents) {
    const li = el("li");
    const name = el("span", `${d.title} (${d.kind})`);
    const change = el("button", "Edit");
    change.type = "button";
    change.addEventListener("click", () => edit(d.id).catch((e) => showBanner(e.message)));
    const remove = el("button", "Delete");
    remove.type = "button";
    remove.addEventListener("click", async () => {
      try {
        await api(`${base}/${d.id}`, { method: "DELETE" });
        await render();
      } catch (e) {
        showBanner(e.message);
      }
    });
    li.append(name, " ", change, " ", remove);
    list.append(li);
  }
}

export function wireKnowledge(slug) {
  base = `/v1/businesses/${slug}/knowledge`;
  $("kb-kind").addEventListener("change", showFields);
  $("kb-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const status = $("kb-status");
    try {
      const payload = await body();
      const saved = editing
        ? await api(`${base}/${editing}`, { method: "PUT", body: payload })
        : await api(base, { method: "POST", body: payload });
      status.textContent = `Saved “${saved.title}” (${saved.passages} passages).`;
      resetForm();
      await render();
    } catch (e) {
      status.textContent = e.message;
    }
  });
  showFields();
  render().catch((e) => showBanner(e.message));
}
