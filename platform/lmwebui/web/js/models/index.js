// Models (admins): resolve a Hub repository, download with live progress that survives a
// reload, cancel, upload a GGUF, list / check / delete local models.
import { api } from "../api.js";
import { h } from "../dom.js";
import { toast } from "../ui.js";
import { downloadsPanel } from "./downloads.js";
import { localPanel } from "./local.js";
import { resolvePanel } from "./resolve.js";
import { uploadPanel } from "./upload.js";

export function mount(section) {
  const local = localPanel();
  const downloads = downloadsPanel({
    onCompleted: (filename) => {
      toast(`Downloaded ${filename}`, "ok");
      local.refresh();
    },
  });
  const startDownload = async (file) => {
    const started = await api("/api/gguf/download", { method: "POST", json: { file_url: file.url, filename: file.filename } });
    downloads.track(started);
    return started;
  };
  const resolve = resolvePanel({ startDownload, localNames: () => local.names() });
  const upload = uploadPanel({ onUploaded: () => local.refresh() });
  section.append(
    h(
      "div.panels",
      h("h1.view-title", "Models"),
      resolve.el,
      downloads.el,
      local.el,
      upload.el,
    ),
  );
  const refresh = () => Promise.all([downloads.refresh(), local.refresh()]);
  refresh();
  let first = true;
  return {
    // Coming back to the view: downloads started elsewhere (another tab) appear too.
    show() {
      if (first) return void (first = false);
      refresh();
    },
  };
}
