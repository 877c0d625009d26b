// Light and dark: follow the system unless the user picked one (kept in prefs).
import { on, setPref, state } from "./store.js";

const media = matchMedia("(prefers-color-scheme: dark)");

export function resolvedTheme() {
  const pref = state.prefs.theme;
  return pref === "system" ? (media.matches ? "dark" : "light") : pref;
}

function apply() {
  const theme = resolvedTheme();
  document.documentElement.dataset.theme = theme;
  const light = document.getElementById("hljs-light");
  const dark = document.getElementById("hljs-dark");
  if (light && dark) {
    light.disabled = theme === "dark";
    dark.disabled = theme !== "dark";
  }
}

/** Cycle system → light → dark → system. Returns the new preference. */
export function cycleTheme() {
  const order = ["system", "light", "dark"];
  const next = order[(order.indexOf(state.prefs.theme) + 1) % order.length];
  setPref("theme", next);
  return next;
}

export function initTheme() {
  apply();
  media.addEventListener("change", apply);
  on("prefs", ({ name }) => name === "theme" && apply());
}
