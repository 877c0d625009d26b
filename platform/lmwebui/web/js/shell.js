// The signed-in page: sidebar (conversations), top bar (views, theme, help, account) and
// one view at a time (chat, documents, models for admins, settings). The view is in the
// URL's hash (#documents), the open conversation in ?c=, so reloads keep both.
import { signOut } from "./auth.js";
import { h, replace } from "./dom.js";
import { emit, isAdmin, on, setPref, state } from "./store.js";
import { cycleTheme } from "./theme.js";

/** Every view: its hash, its label, whether only admins see it, and its module. */
export const VIEWS = [
  { id: "chat", label: "Chat", load: () => import("./chat/index.js") },
  { id: "documents", label: "Documents", load: () => import("./documents.js") },
  { id: "models", label: "Models", admin: true, load: () => import("./models/index.js") },
  { id: "settings", label: "Settings", load: () => import("./settings.js") },
];

const mounted = new Map(); // view id -> {section, api}

function currentViewId() {
  const wanted = location.hash.replace(/^#\/?/, "") || "chat";
  const view = VIEWS.find((v) => v.id === wanted && (!v.admin || isAdmin()));
  return view ? view.id : "chat";
}

async function showView(main, nav) {
  const id = currentViewId();
  for (const [vid, m] of mounted) {
    m.section.hidden = vid !== id;
    if (vid !== id) m.api?.hide?.();
  }
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.view === id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  let entry = mounted.get(id);
  if (!entry) {
    const section = h(`section.view.view-${id}`, { "aria-label": VIEWS.find((v) => v.id === id).label });
    main.append(section);
    entry = { section, api: null };
    mounted.set(id, entry);
    const module = await VIEWS.find((v) => v.id === id).load();
    entry.api = (await module.mount(section)) || null;
    // The user went elsewhere while it mounted: the later showView shows that view.
    if (currentViewId() !== id) {
      section.hidden = true;
      return;
    }
  }
  entry.section.hidden = false;
  entry.api?.show?.();
  emit("view", id);
}

/** Go to a view ("chat", "documents", …). */
export function goTo(id) {
  location.hash = id === "chat" ? "" : `#${id}`;
  if (id === "chat" && location.hash === "") dispatchEvent(new HashChangeEvent("hashchange"));
}

function themeLabel() {
  return { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" }[state.prefs.theme];
}

export async function renderShell(root, onSignedOut) {
  mounted.clear();
  const sidebar = h("aside#sidebar.sidebar", { "aria-label": "Conversations" });
  const nav = h(
    "nav.views",
    { "aria-label": "Views" },
    VIEWS.filter((v) => !v.admin || isAdmin()).map((v) =>
      h("a", { href: v.id === "chat" ? "#" : `#${v.id}`, dataset: { view: v.id } }, v.label),
    ),
  );
  const sidebarToggle = h(
    "button.icon#toggle-sidebar",
    { type: "button", "aria-label": "Toggle sidebar", "aria-controls": "sidebar", "aria-expanded": String(state.prefs.sidebar), title: "Toggle sidebar (Ctrl+Shift+S)" },
    "☰",
  );
  const themeButton = h("button.icon#theme-toggle", { type: "button", "aria-label": themeLabel(), title: themeLabel() }, "◐");
  const helpButton = h("button.icon#help-button", { type: "button", "aria-label": "Keyboard shortcuts", title: "Keyboard shortcuts (?)" }, "?");
  const logout = h("button#logout", { type: "button" }, "Log out");
  const account = h(
    "div.account",
    h("span.email", { title: state.user.email }, state.user.email),
    isAdmin() ? h("span.badge", "admin") : null,
    logout,
  );
  const main = h("main#view.main-view", { tabindex: "-1" });
  const shell = h(
    "div.shell",
    { dataset: { sidebar: state.prefs.sidebar ? "open" : "closed" } },
    sidebar,
    h("div.scrim", { onclick: () => setSidebar(false) }),
    h("div.main", h("header.topbar", sidebarToggle, nav, h("span.spacer"), themeButton, helpButton, account), main),
  );
  const setSidebar = (open) => {
    setPref("sidebar", open);
    shell.dataset.sidebar = open ? "open" : "closed";
    sidebarToggle.setAttribute("aria-expanded", String(open));
  };
  sidebarToggle.addEventListener("click", () => setSidebar(!state.prefs.sidebar));
  on("toggle-sidebar", () => setSidebar(!state.prefs.sidebar));
  on("close-sidebar-on-phone", () => matchMedia("(max-width: 760px)").matches && setSidebar(false));
  themeButton.addEventListener("click", () => cycleTheme());
  on("prefs", ({ name }) => {
    if (name !== "theme") return; // chosen here or in Settings: the button says which
    themeButton.setAttribute("aria-label", themeLabel());
    themeButton.title = themeLabel();
  });
  helpButton.addEventListener("click", () => emit("show-help"));
  logout.addEventListener("click", async () => {
    await signOut();
    onSignedOut();
  });
  replace(root, shell);
  // The phone layout starts with the sidebar closed.
  if (matchMedia("(max-width: 760px)").matches && state.prefs.sidebar) setSidebar(false);
  const conversations = await import("./conversations.js");
  await conversations.mount(sidebar);
  addEventListener("hashchange", () => showView(main, nav));
  await showView(main, nav);
}
