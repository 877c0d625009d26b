// Keyboard shortcuts and their help overlay. Features listen for the events emitted here
// ("new-chat", "focus-input", "stop", "toggle-sidebar", "show-help").
import { h } from "./dom.js";
import { emit, on } from "./store.js";

export const SHORTCUTS = [
  { keys: "Ctrl+Shift+O", label: "New chat", event: "new-chat", match: (e) => mod(e) && e.shiftKey && e.code === "KeyO" },
  { keys: "Shift+Esc", label: "Focus the message box", event: "focus-input", match: (e) => e.shiftKey && e.key === "Escape" },
  { keys: "Esc", label: "Stop the answer", event: "stop", match: (e) => !e.shiftKey && e.key === "Escape" },
  { keys: "Ctrl+Shift+S", label: "Show or hide the sidebar", event: "toggle-sidebar", match: (e) => mod(e) && e.shiftKey && e.code === "KeyS" },
  { keys: "Ctrl+/  or  ?", label: "Show these shortcuts", event: "show-help", match: (e) => (mod(e) && e.key === "/") || (e.key === "?" && !typing(e)) },
];
const mod = (e) => e.ctrlKey || e.metaKey;
const typing = (e) => e.target instanceof HTMLElement && (e.target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName));

let overlay = null;

function showHelp() {
  if (overlay?.open) return overlay.close();
  overlay = h(
    "dialog.help",
    { "aria-labelledby": "help-title" },
    h("h2#help-title", "Keyboard shortcuts"),
    h(
      "dl.shortcuts",
      SHORTCUTS.map((s) => [h("dt", h("kbd", s.keys)), h("dd", s.label)]),
      h("dt", h("kbd", "Enter")),
      h("dd", "Send (Shift+Enter: new line)"),
    ),
    h("form", { method: "dialog" }, h("button.primary", { type: "submit" }, "Close")),
  );
  overlay.addEventListener("close", () => overlay.remove());
  document.body.append(overlay);
  overlay.showModal();
}

export function installShortcuts() {
  on("show-help", showHelp);
  addEventListener("keydown", (e) => {
    if (e.isComposing || e.defaultPrevented) return;
    if (document.querySelector("dialog[open]") && e.key === "Escape") return; // the dialog's own Esc
    const hit = SHORTCUTS.find((s) => s.match(e));
    if (!hit) return;
    if (hit.event === "stop" && typing(e) && e.target.tagName !== "TEXTAREA") return;
    e.preventDefault();
    emit(hit.event);
  });
}
