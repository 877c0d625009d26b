// The user's documents, newest first, paged as the API pages them; delete with confirmation.
import { api, apiPage } from "../api.js";
import { formatBytes, h, replace } from "../dom.js";
import { busy, confirmDialog, errorLine, toast } from "../ui.js";

const PER_PAGE = 20;
const POLL_MS = 2000; // while a document is still being indexed

/** Returns {el, load(page?)}. */
export function documentList() {
  const body = h("div.documents-body", h("p.hint", "Loading…"));
  const pager = h("nav.pager", { "aria-label": "Document pages" });
  const count = h("span.hint");
  const el = h("section.panel.documents", { "aria-labelledby": "documents-title" }, h("div.panel-head", h("h2#documents-title", "My documents"), count), body, pager);
  let page = 1;
  let timer = null;

  async function load(wanted = page) {
    clearTimeout(timer);
    try {
      const res = await apiPage("/api/rag/documents", { page: wanted, limit: PER_PAGE });
      if (!res.body.documents.length && wanted > 1) return load(wanted - 1); // emptied the last page
      page = res.page || wanted;
      count.textContent = res.total ? `${res.total} document${res.total === 1 ? "" : "s"}` : "";
      replace(body, res.body.documents.length ? h("ul.document-list", { "aria-label": "My documents" }, res.body.documents.map(item)) : h("p.hint", "No documents yet."));
      renderPager(res.pages || 1);
      if (res.body.documents.some((d) => d.status === "pending") && el.isConnected) timer = setTimeout(() => load(), POLL_MS);
    } catch (err) {
      replace(body, errorLine(err));
    }
  }

  function renderPager(pages) {
    if (pages <= 1) return replace(pager);
    const prev = h("button", { type: "button", disabled: page <= 1, onclick: () => load(page - 1) }, "Previous");
    const next = h("button", { type: "button", disabled: page >= pages, onclick: () => load(page + 1) }, "Next");
    replace(pager, prev, h("span", `Page ${page} of ${pages}`), next);
  }

  function item(d) {
    const del = h("button.danger", { type: "button", "aria-label": `Delete ${d.filename}` }, "Delete");
    del.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete ${d.filename}? It leaves search results at once.`))) return;
      await busy(del, async () => {
        await api(`/api/rag/documents/${encodeURIComponent(d.document_id)}`, { method: "DELETE" });
        toast(`Deleted ${d.filename}`, "ok");
        await load();
      });
    });
    const pages = `${d.pages} page${d.pages === 1 ? "" : "s"}`;
    const chunks = d.status === "pending" ? "indexing…" : `${d.chunks} chunk${d.chunks === 1 ? "" : "s"}`;
    return h(
      "li.document",
      { dataset: { documentId: d.document_id, status: d.status } },
      h("div.model-head", h("strong.filename", d.filename), h("span.badge", d.kind), d.conversation_id ? h("span.badge", "chat attachment") : null, h("span.spacer"), del),
      h("p.hint", `${pages} · ${chunks} · ${formatBytes(d.size_bytes)} · ${new Date(d.created_at).toLocaleString()}`),
    );
  }

  return { el, load };
}
