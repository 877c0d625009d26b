// Platform API keys for /v1: create (the secret is shown once, with a copy button), list,
// revoke with confirmation.
import { api } from "../api.js";
import { copyText, h, replace } from "../dom.js";
import { confirmDialog, errorLine, toast } from "../ui.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");

/** The new key, once: a read-only field, Copy, and the warning that it is not shown again. */
function secretBox(created, onDone) {
  const field = h("input#new-api-key.secret", { type: "text", readonly: true, value: created.key, "aria-label": `New API key ${created.name}`, spellcheck: false });
  const copy = h("button.primary", { type: "button" }, "Copy key");
  copy.addEventListener("click", async () => {
    const ok = await copyText(created.key);
    toast(ok ? "Key copied" : "Copy failed: select the key and copy it", ok ? "ok" : "error");
  });
  const done = h("button", { type: "button" }, "Done, I stored it");
  const box = h(
    "div.secret-once",
    { role: "region", "aria-label": "New API key" },
    h("p.warn", { role: "alert" }, "Copy this key now: it is shown only once and cannot be recovered."),
    h("div.secret-row", field, copy),
    h("div.actions", done),
  );
  done.addEventListener("click", () => {
    field.value = "";
    box.remove();
    onDone();
  });
  field.addEventListener("focus", () => field.select());
  return box;
}

export function mountApiKeys(el) {
  const name = h("input#api-key-name", { type: "text", name: "name", required: true, maxlength: 100, placeholder: "e.g. laptop scripts", autocomplete: "off" });
  const create = h("button.primary", { type: "submit" }, "Create key");
  const problem = h("div.form-error");
  const fresh = h("div.secret-slot");
  const table = h("div.api-key-list");
  const form = h(
    "form.settings-form.inline-form#api-key-form",
    { "aria-label": "Create an API key" },
    h("label", { for: "api-key-name" }, "Name"),
    h("div.inline-row", name, create),
    problem,
  );
  el.append(form, fresh, table);

  const render = (keys) => {
    if (!keys.length) return replace(table, h("p.hint", "No API keys yet."));
    const rows = keys.map((k) => {
      const revoke = h("button.danger", { type: "button", "aria-label": `Revoke API key ${k.name}` }, "Revoke");
      revoke.addEventListener("click", async () => {
        if (!(await confirmDialog(`Revoke the API key “${k.name}”? Programs using it stop working at once.`, { confirm: "Revoke" }))) return;
        try {
          await api(`/api/api-keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
          toast(`API key “${k.name}” revoked`, "ok");
          await reload();
        } catch (err) {
          replace(problem, errorLine(err));
        }
      });
      return h(
        "tr",
        h("th", { scope: "row" }, k.name),
        h("td", h("code", `${k.prefix}…`)),
        h("td", when(k.created_at)),
        h("td", when(k.last_used_at)),
        h("td", revoke),
      );
    });
    replace(
      table,
      h(
        "div.table-scroll",
        h("table.api-keys", h("caption.visually-hidden", "Your API keys"), h("thead", h("tr", ["Name", "Key", "Created", "Last used", h("span.visually-hidden", "Actions")].map((t) => h("th", { scope: "col" }, t)))), h("tbody", rows)),
      ),
    );
  };

  async function reload() {
    try {
      render((await api("/api/api-keys")).keys);
    } catch (err) {
      replace(table, errorLine(err));
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    replace(problem);
    create.disabled = true;
    try {
      const created = await api("/api/api-keys", { method: "POST", json: { name: name.value.trim() || "default" } });
      name.value = "";
      replace(fresh, secretBox(created, () => name.focus()));
      fresh.querySelector("input")?.focus();
      await reload();
    } catch (err) {
      replace(problem, errorLine(err));
    } finally {
      create.disabled = false;
    }
  });
  return { reload };
}
