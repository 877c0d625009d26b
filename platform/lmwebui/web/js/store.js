// Page state shared by the features: the signed-in user, the open conversation, the
// chosen model and the user's toggles (kept in localStorage). Features subscribe with on().

const KEY = "lmwebui.prefs.v1";
const defaults = { theme: "system", model: null, provider: "gguf", deepThinking: false, useRag: false, sidebar: true };

function loadPrefs() {
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(KEY) || "{}") };
  } catch {
    return { ...defaults };
  }
}

const bus = new EventTarget();

export const state = {
  user: null, // {id, email, role}
  conversationId: new URLSearchParams(location.search).get("c"),
  prefs: loadPrefs(),
  models: [], // /v1/models data: {id, provider, ...}
};

export const isAdmin = () => state.user?.role === "admin";

/** Events: "user", "conversation", "prefs", "models", "conversations-changed", "view". */
export function on(type, fn) {
  const listener = (e) => fn(e.detail);
  bus.addEventListener(type, listener);
  return () => bus.removeEventListener(type, listener);
}

export function emit(type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

export function setPref(name, value) {
  state.prefs[name] = value;
  localStorage.setItem(KEY, JSON.stringify(state.prefs));
  emit("prefs", { name, value });
}

export function setUser(user) {
  state.user = user;
  emit("user", user);
}

/** Open a conversation (null: a new chat). The URL carries it, so a reload keeps it. */
export function setConversation(id, { push = true } = {}) {
  if (state.conversationId === id) return;
  state.conversationId = id;
  const url = new URL(location.href);
  if (id) url.searchParams.set("c", id);
  else url.searchParams.delete("c");
  if (push) history.pushState({ c: id }, "", url);
  else history.replaceState({ c: id }, "", url);
  emit("conversation", id);
}

addEventListener("popstate", () => {
  const id = new URLSearchParams(location.search).get("c");
  if (id !== state.conversationId) {
    state.conversationId = id;
    emit("conversation", id);
  }
});
