// Resolve a Hub repository or URL (POST /api/gguf/resolve): its GGUF files with sizes,
// quantization and a first fit check against the server's memory; a Download button each.
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { mib, size } from "./format.js";
import { busy, errorLine } from "../ui.js";

let hardware = null; // /api/system/info's hardware, fetched once

async function serverMemory() {
  if (!hardware) {
    try {
      hardware = (await api("/api/system/info")).hardware || {};
    } catch {
      hardware = {};
    }
  }
  return hardware;
}

function memoryLine(hw) {
  const ram = hw.system_ram_mb ? `${mib(hw.system_ram_mb)} RAM` : "RAM unknown";
  const gpu = hw.vram_mb ? `${mib(hw.vram_mb)} GPU memory` : "no GPU (CPU replicas)";
  return `Server: ${ram}, ${gpu}.`;
}

/** A first look: do the weights alone fit the GPU or RAM? (Check fit after download has the full estimate.) */
function fitOf(size, hw) {
  if (!size) return { ok: null, text: "size unknown" };
  const mb = size / 1024 ** 2;
  if (hw.vram_mb && mb <= hw.vram_mb) return { ok: true, text: "weights fit the GPU" };
  if (hw.system_ram_mb && mb <= hw.system_ram_mb) return { ok: true, text: hw.vram_mb ? "weights fit RAM (not the GPU)" : "weights fit RAM" };
  if (!hw.system_ram_mb) return { ok: null, text: "memory unknown" };
  return { ok: false, text: "larger than the server's memory" };
}

/**
 * The resolve panel. startDownload(file) starts one; localNames() says which files are
 * already here. Returns {el}.
 */
export function resolvePanel({ startDownload, localNames }) {
  const input = h("input#resolve-input", {
    name: "reference",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "owner/repo, owner/repo:file.gguf or a hub URL",
  });
  const submit = h("button.primary", { type: "submit" }, "Resolve");
  const out = h("div.resolve-result", { "aria-live": "polite" });
  const form = h(
    "form.inline-form",
    { "aria-label": "Resolve a model" },
    h("label", { for: "resolve-input" }, "Hub repository or URL"),
    h("div.row", input, submit),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    replace(out, h("p.hint", { role: "status" }, "Resolving…"));
    busy(submit, async () => {
      try {
        const [result, hw] = await Promise.all([api("/api/gguf/resolve", { method: "POST", json: { input: text } }), serverMemory()]);
        replace(out, renderResult(result, hw, startDownload, localNames()));
      } catch (err) {
        replace(out, errorLine(err));
      }
    });
  });
  const el = h("section.panel.resolve", { "aria-labelledby": "resolve-title" }, h("h2#resolve-title", "Get a model from the Hub"), form, out);
  return { el };
}

function renderResult(result, hw, startDownload, local) {
  const commit = result.commit ? ` (${result.commit.slice(0, 10)})` : "";
  const files = result.files.length ? result.files : [result];
  const rows = files.map((f) => fileRow(f, hw, startDownload, local, f.path === result.path));
  return h(
    "div",
    h("h3", `${result.repo_id} @ ${result.revision}${commit}`),
    h("p.hint", memoryLine(hw), " The full estimate (KV cache, compute) is under Local models → Check fit once downloaded."),
    h(
      "div.table-wrap",
      h(
        "table.files",
        h("caption.visually-hidden", `GGUF files of ${result.repo_id}`),
        h("thead", h("tr", h("th", { scope: "col" }, "File"), h("th", { scope: "col" }, "Quant"), h("th", { scope: "col" }, "Size"), h("th", { scope: "col" }, "Fit"), h("th", { scope: "col" }, h("span.visually-hidden", "Actions")))),
        h("tbody", rows),
      ),
    ),
  );
}

function fileRow(f, hw, startDownload, local, chosen) {
  const fit = fitOf(f.size_bytes, hw);
  const split = f.split ? ` (part ${f.split.part} of ${f.split.of})` : "";
  const button = h("button.primary", { type: "button", "aria-label": `Download ${f.filename}` }, "Download");
  const status = h("span.hint");
  button.addEventListener("click", () => busy(button, () => startDownload(f).then((started) => (status.textContent = started?.joined ? " already downloading: joined" : ""))));
  const here = local.has(f.filename);
  return h(
    "tr",
    { dataset: { file: f.filename } },
    h("td.name", h("span", f.path), split, chosen ? h("span.badge", "suggested") : null, here ? h("span.badge", "downloaded") : null),
    h("td", f.quantization || "—"),
    h("td.size", f.human_size || size(f.size_bytes)),
    h(`td.fit${fit.ok === true ? ".ok" : fit.ok === false ? ".bad" : ""}`, fit.text),
    h("td.actions", button, status),
  );
}
