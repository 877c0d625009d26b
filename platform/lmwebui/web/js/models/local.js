// Local models (GET /api/gguf/local): what the GGUF header says, a full fit check
// (GET /api/gguf/compatibility/{name}) and delete with confirmation (the default is protected).
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { mib } from "./format.js";
import { busy, confirmDialog, errorLine, toast } from "../ui.js";

function params(n) {
  if (!n) return null;
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B params`;
  return `${Math.round(n / 1e6)}M params`;
}

function describe(m) {
  if (!m.valid) return h("span.error-line", `Unreadable: ${m.error}`);
  const bits = [m.architecture, m.size_label || params(m.parameter_count), m.quantization, m.context_length ? `${m.context_length.toLocaleString()} ctx` : null];
  return bits.filter(Boolean).join(" · ");
}

function source(m) {
  if (m.source?.repo_id) return `from ${m.source.repo_id}`;
  return m.protected ? "bundled" : "uploaded";
}

function compatView(c) {
  const avail = c.backend === "cuda" ? `${mib(c.available_vram_mb)} free GPU memory` : `${mib(c.available_ram_mb)} available RAM`;
  const b = c.breakdown_mb;
  return h(
    `div.compat${c.compatible ? ".ok" : ".bad"}`,
    { role: "status" },
    h("strong", c.compatible ? "Fits" : "Does not fit"),
    ` — needs about ${mib(c.estimated_ram_mb)} (${c.backend === "cuda" ? "GPU" : "CPU"}), ${avail}. `,
    h("span.hint", `Weights ${mib(b.weights)}, KV cache ${mib(b.kv_cache)} for ${c.context_tokens.toLocaleString()} tokens, compute ${mib(b.compute)}, runtime ${mib(b.runtime)}.`),
    c.recommended_quantization ? h("span", ` Best quantization that fits: ${c.recommended_quantization} (${c.recommendation_source}).`) : null,
    h("p.hint", c.message),
  );
}

/** The local models panel. Returns {el, refresh(), names()}. */
export function localPanel() {
  const body = h("div.local-body", h("p.hint", "Loading…"));
  const refreshButton = h("button", { type: "button" }, "Refresh");
  const el = h(
    "section.panel.local-models",
    { "aria-labelledby": "local-title" },
    h("div.panel-head", h("h2#local-title", "Local models"), refreshButton),
    body,
  );
  let names = new Set();

  async function refresh() {
    try {
      const { models } = await api("/api/gguf/local");
      names = new Set(models.map((m) => m.name));
      replace(body, models.length ? table(models) : h("p.hint", "No models yet."));
    } catch (err) {
      replace(body, errorLine(err));
    }
  }

  function table(models) {
    return h(
      "ul.model-list",
      { "aria-label": "Local models" },
      models.map((m) => modelItem(m)),
    );
  }

  function modelItem(m) {
    const compat = h("div.compat-slot");
    const check = h("button", { type: "button", "aria-label": `Check fit of ${m.name}`, disabled: !m.valid }, "Check fit");
    check.addEventListener("click", () =>
      busy(check, async () => {
        try {
          replace(compat, compatView(await api(`/api/gguf/compatibility/${encodeURIComponent(m.name)}`)));
        } catch (err) {
          replace(compat, errorLine(err));
        }
      }),
    );
    const del = h("button.danger", { type: "button", "aria-label": `Delete ${m.name}`, disabled: m.protected, title: m.protected ? "The bundled/default model is protected" : null }, "Delete");
    del.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete the model ${m.name}? Chat replicas unload it first.`))) return;
      await busy(del, async () => {
        await api(`/api/gguf/${encodeURIComponent(m.name)}`, { method: "DELETE" });
        toast(`Deleted ${m.name}`, "ok");
        await refresh();
      });
    });
    return h(
      "li.model",
      { dataset: { model: m.name } },
      h(
        "div.model-head",
        h("strong.filename", m.name),
        m.protected ? h("span.badge", "protected") : null,
        h("span.spacer"),
        check,
        del,
      ),
      h("p.hint", describe(m), " · ", m.human_size, " · ", source(m), " · ", new Date(m.modified).toLocaleString()),
      compat,
    );
  }

  refreshButton.addEventListener("click", () => busy(refreshButton, refresh));
  return { el, refresh, names: () => names };
}
