// Upload a GGUF model (POST /api/gguf/upload, multipart `file`) with progress; the server
// checks the GGUF header, so a non-GGUF file answers its error here.
import { h } from "../dom.js";
import { uploadForm } from "../upload-form.js";

function describe(r) {
  const what = [r.architecture, r.quantization, r.size_label].filter(Boolean).join(" · ");
  return `Uploaded ${r.filename} (${r.human_size})${what ? ": " + what : ""}.`;
}

/** The upload panel. onUploaded(result) refreshes the local list. Returns {el}. */
export function uploadPanel({ onUploaded }) {
  const form = uploadForm({
    id: "gguf-upload",
    label: "GGUF file",
    accept: ".gguf",
    formLabel: "Upload a GGUF model",
    progressLabel: "Model upload progress",
    path: "/api/gguf/upload",
    working: "Checking the GGUF header…",
    describe,
    onDone: onUploaded,
  });
  const el = h("section.panel.upload-model", { "aria-labelledby": "upload-model-title" }, h("h2#upload-model-title", "Upload a model"), form);
  return { el };
}
