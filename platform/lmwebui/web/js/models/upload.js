// Upload a GGUF model (POST /api/gguf/upload, multipart `file`) with progress; the server
// checks the GGUF header, so a non-GGUF file answers its error here.
import { upload } from "../api.js";
import { h, replace } from "../dom.js";
import { errorLine } from "../ui.js";

/** The upload panel. onUploaded(result) refreshes the local list. Returns {el}. */
export function uploadPanel({ onUploaded }) {
  const file = h("input#gguf-file", { type: "file", name: "file", accept: ".gguf", required: true });
  const submit = h("button.primary", { type: "submit" }, "Upload");
  const progress = h("progress#gguf-upload-progress", { max: 100, value: 0, "aria-label": "Model upload progress", "aria-describedby": "gguf-upload-text", hidden: true });
  const text = h("span.progress-text#gguf-upload-text");
  const out = h("div.upload-result", { "aria-live": "polite" });
  const form = h(
    "form.inline-form",
    { "aria-label": "Upload a GGUF model" },
    h("label", { for: "gguf-file" }, "GGUF file"),
    h("div.row", file, submit),
    h("div.progress-line", progress, text),
    out,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    const data = new FormData();
    data.append("file", chosen);
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    replace(out);
    const onProgress = (f) => {
      progress.value = Math.round(f * 100);
      text.textContent = f < 1 ? `${Math.round(f * 100)}% sent` : "Checking the GGUF header…";
    };
    try {
      const r = await upload("/api/gguf/upload", data, onProgress);
      const what = [r.architecture, r.quantization, r.size_label].filter(Boolean).join(" · ");
      replace(out, h("p.ok-line", { role: "status" }, `Uploaded ${r.filename} (${r.human_size})${what ? ": " + what : ""}.`));
      form.reset();
      onUploaded(r);
    } catch (err) {
      replace(out, errorLine(err));
    } finally {
      submit.disabled = false;
      progress.hidden = true;
      text.textContent = "";
    }
  });
  const el = h("section.panel.upload-model", { "aria-labelledby": "upload-model-title" }, h("h2#upload-model-title", "Upload a model"), form);
  return { el };
}
