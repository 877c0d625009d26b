// The user's OpenAI-compatible provider: base URL + API key (PUT /api/providers/openai/key).
// The key is never shown back: the page shows only the masked hint the API returns, and
// the key field is emptied once it is saved.
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { confirmDialog, errorLine, toast } from "../ui.js";

const PROVIDER = "openai";

export function mountProvider(el) {
  const current = h("div.provider-current", { "aria-live": "polite" });
  const baseUrl = h("input#provider-base-url", { type: "url", name: "base_url", placeholder: "https://api.openai.com/v1", autocomplete: "off", maxlength: 500, spellcheck: false });
  const key = h("input#provider-key", { type: "password", name: "api_key", autocomplete: "off", required: true, minlength: 8, maxlength: 500, spellcheck: false });
  const save = h("button.primary", { type: "submit" }, "Save provider");
  const problem = h("div.form-error");
  const form = h(
    "form.settings-form#provider-form",
    { "aria-label": "Provider settings" },
    h("label", { for: "provider-base-url" }, "Base URL"),
    baseUrl,
    h("p.hint", "Leave empty for OpenAI itself. Any server that speaks OpenAI's chat completions API works."),
    h("label", { for: "provider-key" }, "API key"),
    key,
    problem,
    h("div.actions", save),
  );
  el.append(current, form);

  const show = (entry) => {
    if (!entry) {
      replace(current, h("p.hint", "No provider set."));
      return;
    }
    const remove = h("button.danger", { type: "button" }, "Remove provider");
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog("Remove this provider and its stored key?", { confirm: "Remove" }))) return;
      try {
        await api(`/api/providers/${PROVIDER}/key`, { method: "DELETE" });
        toast("Provider removed", "ok");
        await reload();
      } catch (err) {
        replace(problem, errorLine(err));
      }
    });
    replace(
      current,
      h(
        "dl.provider-summary",
        h("dt", "Key"),
        h("dd", h("code.key-hint", entry.key), " ", h("span.hint", "(hidden; only its ends are shown)")),
        h("dt", "Base URL"),
        h("dd", entry.base_url ? h("code", entry.base_url) : "OpenAI (default)"),
        h("dt", "Saved"),
        h("dd", new Date(entry.created_at).toLocaleString()),
      ),
      h("div.actions", remove),
    );
    if (!baseUrl.value && entry.base_url) baseUrl.value = entry.base_url;
  };

  async function reload() {
    try {
      const body = await api("/api/providers/keys");
      show(body.keys.find((k) => k.provider === PROVIDER));
    } catch (err) {
      replace(current, errorLine(err));
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    replace(problem);
    save.disabled = true;
    try {
      const json = { api_key: key.value.trim() };
      if (baseUrl.value.trim()) json.base_url = baseUrl.value.trim();
      const saved = await api(`/api/providers/${PROVIDER}/key`, { method: "PUT", json });
      key.value = ""; // never kept on the page
      toast(`Provider saved (key ${saved.key})`, "ok");
      await reload();
    } catch (err) {
      replace(problem, errorLine(err));
    } finally {
      save.disabled = false;
    }
  });
  return { reload };
}
