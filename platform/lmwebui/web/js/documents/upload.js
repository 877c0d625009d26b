// Upload one document for retrieval with progress, then show what ingest made of it.
import { upload } from "../api.js";
import { formatBytes, h, replace } from "../dom.js";
import { errorLine } from "../ui.js";

export const ACCEPT = ".pdf,.docx,.pptx,.html,.htm,.md,.markdown,.txt,.text,.csv,.json,.png,.jpg,.jpeg,.gif,.webp,.bmp,.tif,.tiff";

function resultLine(r) {
  const pages = `${r.pages} page${r.pages === 1 ? "" : "s"}`;
  const chunks = `${r.chunks_created} chunk${r.chunks_created === 1 ? "" : "s"}`;
  const ocr = r.ocr_pages.length ? ` · OCR on page${r.ocr_pages.length === 1 ? "" : "s"} ${r.ocr_pages.join(", ")}` : "";
  return h("p.ok-line", { role: "status" }, `Ingested ${r.filename} (${r.kind}, ${formatBytes(r.size_bytes)}): ${pages}, ${chunks}${ocr}.`);
}

/** The upload form. onIngested(result) refreshes the list. Returns {el}. */
export function ingestPanel({ onIngested }) {
  const file = h("input#document-file", { type: "file", name: "file", accept: ACCEPT, required: true });
  const submit = h("button.primary", { type: "submit" }, "Upload");
  const progress = h("progress#document-progress", { max: 100, value: 0, "aria-label": "Document upload progress", "aria-describedby": "document-progress-text", hidden: true });
  const text = h("span.progress-text#document-progress-text");
  const out = h("div.upload-result", { "aria-live": "polite" });
  const form = h(
    "form.inline-form",
    { "aria-label": "Upload a document" },
    h("label", { for: "document-file" }, "Document"),
    h("p.hint", "PDF, Word, PowerPoint, HTML, Markdown or text; an image or a scan is read by OCR."),
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
      text.textContent = f < 1 ? `${Math.round(f * 100)}% sent` : "Reading, chunking and indexing…";
    };
    try {
      const r = await upload("/api/rag/ingest", data, onProgress);
      replace(out, resultLine(r));
      form.reset();
      onIngested(r);
    } catch (err) {
      replace(out, errorLine(err));
    } finally {
      submit.disabled = false;
      progress.hidden = true;
      text.textContent = "";
    }
  });
  return { el: h("section.panel.ingest", { "aria-labelledby": "ingest-title" }, h("h2#ingest-title", "Add a document"), form) };
}
