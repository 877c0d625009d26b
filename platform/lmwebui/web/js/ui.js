// Shared UI: toasts for errors and notices, a confirmation dialog, busy buttons.
import { describeError } from "./api.js";
import { h } from "./dom.js";

/** A short notice. kind: "info" | "error" | "ok". Errors stay until dismissed. */
export function toast(message, kind = "info", { timeout = 5000 } = {}) {
  const box = document.getElementById("toasts");
  const close = h("button.icon", { type: "button", "aria-label": "Dismiss", onclick: () => el.remove() }, "×");
  const el = h(`div.toast.${kind}`, { role: kind === "error" ? "alert" : "status" }, h("span", message), close);
  box.append(el);
  if (kind !== "error" && timeout) setTimeout(() => el.remove(), timeout);
  return el;
}

/** Show any error (ApiError: detail + error_code, 429: when to retry). */
export function showError(err, prefix = "") {
  console.warn(err);
  return toast((prefix ? prefix + ": " : "") + describeError(err), "error");
}

/** An inline error line for a form or panel (role=alert so screen readers announce it). */
export function errorLine(err) {
  return h("p.error-line", { role: "alert" }, describeError(err));
}

/** Ask before a destructive action; resolves true/false. Uses a native <dialog>. */
export function confirmDialog(message, { confirm = "Delete", danger = true } = {}) {
  return new Promise((resolve) => {
    const yes = h(`button${danger ? ".danger" : ".primary"}`, { type: "submit", value: "yes" }, confirm);
    const dlg = h(
      "dialog.confirm",
      { "aria-label": "Confirm" },
      h("form", { method: "dialog" }, h("p", message), h("div.actions", h("button", { type: "submit", value: "no" }, "Cancel"), yes)),
    );
    dlg.addEventListener("close", () => {
      resolve(dlg.returnValue === "yes");
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
    yes.focus();
  });
}

/** Run an async action with a button disabled and marked busy; errors go to a toast. */
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await fn();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
