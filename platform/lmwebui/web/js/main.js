// Entry point: theme first (no flash), then who is signed in, then the page.
import { api, setReauth } from "./api.js";
import { renderSignIn, signInAgain } from "./auth.js";
import { renderShell } from "./shell.js";
import { installShortcuts } from "./shortcuts.js";
import { setUser, state } from "./store.js";
import { initTheme } from "./theme.js";

const root = document.getElementById("app");

async function start() {
  let user = null;
  try {
    user = await api("/api/auth/me", { auth: false });
  } catch {
    try {
      // An expired access cookie with a live refresh cookie: refresh, then ask again.
      const res = await fetch("/api/auth/refresh", { method: "POST", credentials: "same-origin" });
      if (res.ok) user = (await res.json()).user;
    } catch {
      /* signed out */
    }
  }
  if (user) return enter(user);
  renderSignIn(root, enter);
  performance.mark("lmwebui:sign-in-ready");
}

async function enter(user) {
  setUser(user);
  await renderShell(root, () => {
    setUser(null);
    renderSignIn(root, enter);
  });
  document.body.dataset.ready = "true";
  performance.mark("lmwebui:ready"); // time to interactive (loadtests/bench_page.py)
}

setReauth(async () => {
  const before = state.user?.id;
  const user = await signInAgain();
  if (before !== undefined && user.id !== before) {
    location.reload(); // another account: start over rather than mix two users' data
    return false;
  }
  setUser(user);
  return true;
});

initTheme();
installShortcuts();
start();
