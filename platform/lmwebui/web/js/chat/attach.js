// Attachments in the composer: a document or an image goes to POST /api/rag/ingest (an
// image is read with OCR) with upload progress; the chip then shows the result (pages,
// chunks) or the API's error, and the next messages use the user's documents.
import { describeError, upload } from "../api.js";
import { emit } from "../store.js";
import { formatBytes, h } from "../dom.js";

const ACCEPT = ".pdf,.docx,.pptx,.html,.htm,.md,.markdown,.txt,text/plain,text/markdown,image/*";

export function attachments({ conversationId, onIngested }) {
  const input = h("input#chat-attach-input.visually-hidden", { type: "file", multiple: true, accept: ACCEPT, "aria-label": "Attach a file or image" });
  const button = h("button.attach#chat-attach", { type: "button", "aria-label": "Attach a file or image", title: "Attach a file or image" }, "+");
  const list = h("ul.attachments", { "aria-label": "Attachments" });
  list.hidden = true;
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    for (const file of input.files) ingest(file);
    input.value = "";
  });

  async function ingest(file) {
    list.hidden = false;
    const bar = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
    const line = h("span.attachment-state", "uploading…");
    const remove = h("button.icon", { type: "button", "aria-label": `Dismiss ${file.name}` }, "×");
    const chip = h("li.attachment", { dataset: { state: "uploading" } }, h("span.attachment-name", file.name), bar, line, remove);
    remove.addEventListener("click", () => {
      chip.remove();
      list.hidden = !list.children.length;
    });
    list.append(chip);
    const form = new FormData();
    form.append("file", file);
    const cid = conversationId();
    if (cid) form.append("conversation_id", cid);
    try {
      const res = await upload("/api/rag/ingest", form, (f) => {
        bar.value = f;
        if (f >= 1) line.textContent = "reading and indexing…";
      });
      bar.remove();
      chip.dataset.state = "ready";
      const pages = `${res.pages} page${res.pages === 1 ? "" : "s"}`;
      line.textContent = `${pages}, ${res.chunks_created} chunk${res.chunks_created === 1 ? "" : "s"} · ${formatBytes(res.size_bytes)}`;
      line.setAttribute("role", "status");
      onIngested(res);
      emit("documents-changed", res);
    } catch (err) {
      bar.remove();
      chip.dataset.state = "error";
      line.textContent = describeError(err);
      line.setAttribute("role", "alert");
    }
  }

  return { input, button, list };
}
