// The model picker: every model GET /v1/models lists (local GGUF, vLLM, upstream), grouped
// by provider, plus the user's own OpenAI-compatible provider (Settings) with a model name
// typed in. The choice is kept in prefs (provider, model, openaiModel).
import { api, describeError } from "../api.js";
import { h, replace } from "../dom.js";
import { on, setPref, state } from "../store.js";

const GROUPS = { gguf: "Local (GGUF)", vllm: "vLLM", openai: "OpenAI (server)" };
const OWN = "own:openai";

export function modelPicker() {
  const select = h("select#chat-model", { "aria-label": "Model" });
  const nameInput = h("input#chat-provider-model", {
    type: "text",
    placeholder: "model name, e.g. gpt-4o-mini",
    "aria-label": "Provider model name",
    autocomplete: "off",
    spellcheck: false,
    value: state.prefs.openaiModel || "",
  });
  const note = h("span.model-note.hint");
  const el = h("div.model-picker", h("label.visually-hidden", { for: "chat-model" }, "Model"), select, nameInput, note);

  const showOwn = () => {
    const own = select.value === OWN;
    nameInput.hidden = !own;
  };
  select.addEventListener("change", () => {
    if (select.value === OWN) {
      setPref("provider", "openai");
      setPref("model", null);
    } else {
      const [provider, ...rest] = select.value.split("|");
      setPref("provider", provider);
      setPref("model", rest.join("|"));
    }
    showOwn();
  });
  nameInput.addEventListener("input", () => setPref("openaiModel", nameInput.value.trim()));

  async function load() {
    note.textContent = "";
    let models = [];
    try {
      models = (await api("/v1/models")).data || [];
    } catch (err) {
      note.textContent = `Models: ${describeError(err)}`;
    }
    state.models = models;
    const groups = new Map();
    for (const m of models) {
      const p = m.provider || "gguf";
      if (!groups.has(p)) groups.set(p, []);
      groups.get(p).push(m);
    }
    const options = [...groups].map(([p, list]) =>
      h("optgroup", { label: GROUPS[p] || p }, list.map((m) => h("option", { value: `${p}|${m.id}` }, m.id))),
    );
    options.push(h("optgroup", { label: "Your provider (Settings)" }, h("option", { value: OWN }, "OpenAI-compatible…")));
    if (!models.length) options.unshift(h("option", { value: "gguf|" }, "Default model"));
    replace(select, options);
    pick();
  }

  function pick() {
    const { provider, model } = state.prefs;
    const wanted = provider === "openai" && !model ? OWN : `${provider}|${model ?? ""}`;
    const values = [...select.options].map((o) => o.value);
    if (values.includes(wanted)) select.value = wanted;
    else if (provider === "openai" && !model) select.value = OWN;
    else {
      select.value = values[0];
      select.dispatchEvent(new Event("change"));
    }
    showOwn();
  }

  const off = on("models", () => load()); // the models view downloaded or deleted one
  load();

  return {
    el,
    close: off,
    /** {provider, model} for start_stream, or an error message. */
    choice() {
      if (select.value === OWN) {
        const model = nameInput.value.trim();
        if (!model) return { error: "Type the provider's model name next to the model list" };
        return { provider: "openai", model };
      }
      const [provider, ...rest] = select.value.split("|");
      const model = rest.join("|");
      return { provider: provider || "gguf", model: model || null };
    },
    label() {
      return select.value === OWN ? nameInput.value.trim() : select.selectedOptions[0]?.textContent || "";
    },
  };
}
