// One file-upload form with progress (the documents and models views): pick a file, send
// it with upload() from api.js, show the percentage sent, then what the server does, then
// the result line or the API's error.
import { upload } from "./api.js";
import { h, replace } from "./dom.js";
import { errorLine } from "./ui.js";

/**
 * opts: id (element id prefix), label, hint (optional), accept, formLabel, progressLabel,
 * path (the POST route), working (text once everything is sent), describe(result) (the
 * success line), onDone(result). Returns the <form>.
 */
export function uploadForm(opts) {
  const { id, label, hint, accept, formLabel, progressLabel, path, working, describe, onDone } = opts;
  const file = h(`input#${id}-file`, { type: "file", name: "file", accept, required: true });
  const submit = h("button.primary", { type: "submit" }, "Upload");
  const progress = h(`progress#${id}-progress`, { max: 100, value: 0, "aria-label": progressLabel, "aria-describedby": `${id}-progress-text`, hidden: true });
  const text = h(`span.progress-text#${id}-progress-text`);
  const out = h("div.upload-result", { "aria-live": "polite" });
  const form = h(
    "form.inline-form",
    { "aria-label": formLabel },
    h("label", { for: `${id}-file` }, label),
    hint ? h("p.hint", hint) : null,
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
      text.textContent = f < 1 ? `${Math.round(f * 100)}% sent` : working;
    };
    try {
      const r = await upload(path, data, onProgress);
      replace(out, h("p.ok-line", { role: "status" }, describe(r)));
      form.reset();
      onDone(r);
    } catch (err) {
      replace(out, errorLine(err));
    } finally {
      submit.disabled = false;
      progress.hidden = true;
      text.textContent = "";
    }
  });
  return form;
}
