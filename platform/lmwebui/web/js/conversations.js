// The conversations sidebar: "New chat", search by title (GET /api/conversations?q=),
// the list newest first, paged as the API pages it ("Load more"), open (the URL carries the
// id), delete with confirmation. Refreshes after a turn ("conversations-changed") and when
// the user changes.
import { api, apiPage, describeError } from "./api.js";
import { h, replace } from "./dom.js";
import { emit, on, setConversation, state } from "./store.js";
import { confirmDialog, showError } from "./ui.js";

const PAGE = 20; // the API's default page size
const SEARCH_DELAY_MS = 250;

/** "14:05" today, "Mon 3" this week, else "2026-11-02". */
function shortDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (now - d < 6 * 86400_000) return d.toLocaleDateString([], { weekday: "short", day: "numeric" });
  return d.toISOString().slice(0, 10);
}

/** Go to a new chat: no open conversation, the chat view. */
function newChat() {
  setConversation(null);
  if (location.hash && location.hash !== "#") location.hash = "";
  emit("close-sidebar-on-phone");
}

export function mount(el) {
  const list = { items: [], pagesLoaded: 0, pages: 0, total: 0, q: "", loading: null };

  const newButton = h("button.primary.new-chat", { type: "button", title: "New chat (Ctrl+Shift+O)" }, "+ New chat");
  newButton.addEventListener("click", () => emit("new-chat"));
  const search = h("input#conv-search", {
    type: "search",
    placeholder: "Search by title",
    autocomplete: "off",
    maxlength: 200,
    "aria-controls": "conv-list",
  });
  const ul = h("ul#conv-list.conv-list", { "aria-label": "Conversations, newest first" });
  const status = h("p.conv-status.hint", { role: "status" });
  const errorBox = h("div.conv-error");
  const more = h("button.conv-more", { type: "button", hidden: true }, "Load more");
  replace(
    el,
    h("div.sidebar-head", newButton),
    h("div.conv-search", h("label.visually-hidden", { for: "conv-search" }, "Search conversations"), search),
    h("nav.conv-nav", { "aria-label": "Conversation list" }, ul, status, errorBox, more),
  );

  const row = (c) => {
    const open = h(
      "a.conv-open",
      { href: `?c=${encodeURIComponent(c.id)}`, title: c.title, "aria-current": c.id === state.conversationId ? "page" : null, dataset: { id: c.id } },
      h("span.conv-title", c.title || "Untitled"),
      h("time.conv-date", { datetime: c.updated_at, title: new Date(c.updated_at).toLocaleString() }, shortDate(c.updated_at)),
    );
    open.addEventListener("click", (e) => {
      if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return; // new tab
      e.preventDefault();
      setConversation(c.id);
      if (location.hash && location.hash !== "#") location.hash = "";
      emit("close-sidebar-on-phone");
    });
    const del = h("button.icon.conv-delete", { type: "button", "aria-label": `Delete conversation: ${c.title}`, title: "Delete" }, "×");
    del.addEventListener("click", () => remove(c, del));
    return h("li.conv-item", { dataset: { id: c.id } }, open, del);
  };

  const render = () => {
    replace(ul, list.items.map(row));
    more.hidden = list.pagesLoaded >= list.pages;
    if (list.items.length) status.textContent = list.total > list.items.length ? `${list.items.length} of ${list.total}` : "";
    else status.textContent = list.q ? "No conversation matches this search." : "No conversations yet.";
  };

  const highlight = () => {
    for (const a of ul.querySelectorAll("a.conv-open")) {
      if (a.dataset.id === state.conversationId) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  };

  const fetchPage = (page, signal) => apiPage("/api/conversations", { page, limit: PAGE, q: list.q || undefined }, { signal });

  const addItems = (items) => {
    const seen = new Set(list.items.map((c) => c.id));
    for (const c of items) if (!seen.has(c.id)) list.items.push(c);
  };

  /** Reload the pages shown so far (at least the first): after a turn, a delete, a search. */
  const refresh = async () => {
    list.loading?.abort();
    const ctrl = new AbortController();
    list.loading = ctrl;
    const upTo = Math.max(1, list.pagesLoaded);
    try {
      const pages = [];
      for (let p = 1; p <= upTo; p++) {
        const res = await fetchPage(p, ctrl.signal);
        pages.push(res);
        if (p >= res.pages) break;
      }
      if (ctrl.signal.aborted) return;
      list.items = [];
      pages.forEach((res) => addItems(res.body.conversations));
      const last = pages[pages.length - 1];
      Object.assign(list, { pagesLoaded: pages.length, pages: last.pages, total: last.total });
      replace(errorBox);
      render();
    } catch (err) {
      if (err.name === "AbortError") return;
      replace(errorBox, h("p.error-line", { role: "alert" }, describeError(err)));
    } finally {
      if (list.loading === ctrl) list.loading = null;
    }
  };

  const loadMore = async () => {
    more.disabled = true;
    try {
      const res = await fetchPage(list.pagesLoaded + 1);
      addItems(res.body.conversations);
      Object.assign(list, { pagesLoaded: res.page || list.pagesLoaded + 1, pages: res.pages, total: res.total });
      render();
      ul.querySelector(`li:nth-child(${Math.min(list.items.length, (list.pagesLoaded - 1) * PAGE + 1)}) a`)?.focus();
    } catch (err) {
      showError(err, "Loading conversations");
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", loadMore);

  async function remove(c, button) {
    if (!(await confirmDialog(`Delete the conversation “${c.title}”? This cannot be undone.`))) {
      button.focus();
      return;
    }
    try {
      await api(`/api/conversations/${encodeURIComponent(c.id)}`, { method: "DELETE" });
    } catch (err) {
      showError(err, "Delete");
      return;
    }
    const index = list.items.findIndex((x) => x.id === c.id);
    if (state.conversationId === c.id) emit("new-chat");
    emit("conversations-changed", { deleted: c.id });
    await pending;
    // Keep the keyboard where it was: the next conversation's delete button, else search.
    const next = ul.querySelectorAll("button.conv-delete")[Math.min(index, list.items.length - 1)];
    (next || search).focus();
  }

  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = search.value.trim();
      if (q === list.q) return;
      list.q = q;
      list.pagesLoaded = 0;
      refresh();
    }, SEARCH_DELAY_MS);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && search.value) {
      e.preventDefault(); // clear the search, not stop an answer
      search.value = "";
      search.dispatchEvent(new Event("input"));
    }
  });

  // A sign-out and in again mounts a new sidebar: this one's listeners then go away.
  const offs = [];
  const listen = (type, fn) => offs.push(on(type, (detail) => (el.isConnected ? fn(detail) : offs.forEach((off) => off()))));
  listen("new-chat", newChat);
  listen("conversation", highlight);
  let pending = null; // the refresh after the latest change
  listen("conversations-changed", () => (pending = refresh()));
  listen("user", (user) => {
    if (!user) return;
    list.pagesLoaded = 0;
    refresh();
  });
  return refresh();
}
