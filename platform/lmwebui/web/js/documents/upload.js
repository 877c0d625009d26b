// Upload one document for retrieval with progress, then show what ingest made of it.
import { formatBytes, h } from "../dom.js";
import { uploadForm } from "../upload-form.js";

export const ACCEPT = ".pdf,.docx,.pptx,.html,.htm,.md,.markdown,.txt,.text,.csv,.json,.png,.jpg,.jpeg,.gif,.webp,.bmp,.tif,.tiff";

function describe(r) {
  const pages = `${r.pages} page${r.pages === 1 ? "" : "s"}`;
  const chunks = `${r.chunks_created} chunk${r.chunks_created === 1 ? "" : "s"}`;
  const ocr = r.ocr_pages.length ? ` · OCR on page${r.ocr_pages.length === 1 ? "" : "s"} ${r.ocr_pages.join(", ")}` : "";
  return `Ingested ${r.filename} (${r.kind}, ${formatBytes(r.size_bytes)}): ${pages}, ${chunks}${ocr}.`;
}

/** The upload form. onIngested(result) refreshes the list. Returns {el}. */
export function ingestPanel({ onIngested }) {
  const form = uploadForm({
    id: "document",
    label: "Document",
    hint: "PDF, Word, PowerPoint, HTML, Markdown or text; an image or a scan is read by OCR.",
    accept: ACCEPT,
    formLabel: "Upload a document",
    progressLabel: "Document upload progress",
    path: "/api/rag/ingest",
    working: "Reading, chunking and indexing…",
    describe,
    onDone: onIngested,
  });
  return { el: h("section.panel.ingest", { "aria-labelledby": "ingest-title" }, h("h2#ingest-title", "Add a document"), form) };
}
