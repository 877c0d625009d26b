// Documents: upload a file for retrieval (POST /api/rag/ingest: PDF, DOCX, PPTX, HTML,
// Markdown, text; an image is read by OCR) with progress and the ingest result, and the
// user's documents (GET /api/rag/documents, paged) with delete.
import { h } from "./dom.js";
import { documentList } from "./documents/list.js";
import { ingestPanel } from "./documents/upload.js";

export function mount(section) {
  const list = documentList();
  const ingest = ingestPanel({ onIngested: () => list.load(1) });
  section.append(
    h(
      "div.panels",
      h("h1.view-title", "Documents"),
      h("p.hint", "Documents you upload here are searched when “use my documents” is on in the chat; answers cite them. Only you see your documents."),
      ingest.el,
      list.el,
    ),
  );
  list.load(1);
  let first = true;
  return {
    show() {
      if (first) return void (first = false);
      list.load(); // the chat's attach button may have added some
    },
  };
}
