// Downloads: one row per task with live progress over /ws/gguf/download/{task_id}.
// On mount (and on every show) the page lists the server's tasks and reattaches to each
// running one, so progress survives a reload; a finished task closes its socket.
import { api, describeError, openSocket } from "../api.js";
import { formatDuration, h } from "../dom.js";
import { size } from "./format.js";
import { busy, toast } from "../ui.js";

const ACTIVE = ["queued", "running", "verifying"];
const STATUS_LABEL = {
  queued: "Queued",
  running: "Downloading",
  verifying: "Verifying",
  completed: "Completed",
  error: "Failed",
  cancelled: "Cancelled",
};
const RECENT_FINISHED = 5; // finished tasks kept in view after a reload
const STALL_S = 5; // no new bytes this long: say so instead of the last speed

/**
 * The downloads panel. onCompleted(filename) runs when a task completes (the local list
 * refreshes). Returns {el, refresh(), track(started)}.
 */
export function downloadsPanel({ onCompleted }) {
  const list = h("ul.download-list", { "aria-label": "Downloads" });
  const empty = h("p.hint", "No downloads yet. Resolve a repository above and pick a file.");
  const el = h("section.panel.downloads", { "aria-labelledby": "downloads-title" }, h("h2#downloads-title", "Downloads"), empty, list);
  const rows = new Map(); // task_id -> row

  const syncEmpty = () => (empty.hidden = rows.size > 0);

  function ensureRow(task) {
    let row = rows.get(task.task_id);
    if (!row) {
      row = new DownloadRow(task, { onCompleted });
      rows.set(task.task_id, row);
      list.prepend(row.el);
    }
    syncEmpty();
    return row;
  }

  async function refresh() {
    let tasks;
    try {
      tasks = (await api("/api/gguf/downloads")).tasks;
    } catch (err) {
      toast("Could not list downloads: " + describeError(err), "error");
      return;
    }
    tasks.sort((a, b) => a.created_at - b.created_at); // prepend: newest ends on top
    const finished = tasks.filter((t) => !ACTIVE.includes(t.status));
    const keep = new Set(finished.slice(-RECENT_FINISHED).map((t) => t.task_id));
    for (const task of tasks) {
      if (ACTIVE.includes(task.status) || keep.has(task.task_id) || rows.has(task.task_id)) {
        const row = ensureRow(task);
        row.update(task);
        row.attach();
      }
    }
  }

  /** A download the user just started (POST /api/gguf/download's answer). */
  function track(started) {
    // The task id is the file's: starting a finished (or cancelled) one again reuses its row.
    const fresh = { ...started, status: "queued", downloaded_bytes: 0, percentage: 0 };
    const row = ensureRow(fresh);
    row.update(fresh);
    row.attach();
    row.el.scrollIntoView({ block: "nearest" });
    return row;
  }

  syncEmpty();
  return { el, refresh, track };
}

class DownloadRow {
  constructor(task, { onCompleted }) {
    this.id = task.task_id;
    this.filename = task.filename;
    this.total = task.total_bytes;
    this.status = null;
    this.socket = null;
    this.onCompleted = onCompleted;
    const pid = `progress-${this.id}`;
    this.badge = h("span.status-badge");
    this.progress = h(`progress#${pid}`, { max: 100, value: 0, "aria-label": `Download of ${this.filename}`, "aria-describedby": `${pid}-text` });
    this.text = h(`span.progress-text#${pid}-text`, "Waiting for the server…");
    this.link = h("p.hint.connection", { role: "status", hidden: true });
    this.error = h("p.error-line", { role: "alert", hidden: true });
    this.cancel = h("button.danger", { type: "button", "aria-label": `Cancel download of ${this.filename}`, onclick: () => this.doCancel() }, "Cancel");
    this.el = h(
      "li.download",
      { dataset: { taskId: this.id } },
      h("div.download-head", h("strong.filename", this.filename), this.badge, h("span.spacer"), this.cancel),
      h("div.progress-line", this.progress, this.text),
      this.link,
      this.error,
      h("p.hint.task-id", `Task ${this.id}`),
    );
    this.update(task);
  }

  get active() {
    return ACTIVE.includes(this.status);
  }

  /** A snapshot (GET /downloads) or a socket event (progress/completed/error/cancelled). */
  update(ev) {
    const status = ev.type && ev.type !== "progress" ? { completed: "completed", error: "error", cancelled: "cancelled" }[ev.type] : ev.status;
    if (!status) return;
    const was = this.status;
    this.status = status;
    this.total = ev.total_bytes ?? ev.size_bytes ?? this.total;
    this.badge.textContent = STATUS_LABEL[status] || status;
    this.el.dataset.status = status;
    this.cancel.hidden = !this.active;
    if (this.active) this.error.hidden = true;
    if (status === "completed") {
      this.setProgress(100, `${size(this.total)} · done`);
    } else if (status === "cancelled") {
      this.setProgress(ev.percentage ?? this.progress.value, ev.message || "Download cancelled; the partial file was removed");
    } else if (status === "error") {
      const done = ev.downloaded_bytes ?? 0;
      this.setProgress(this.total ? (100 * done) / this.total : 0, `${size(done)} of ${size(this.total)}`);
      this.error.hidden = false;
      const code = ev.error_code || "INTERNAL_ERROR";
      const resumable = ev.resumable ? " Starting it again resumes the partial file." : "";
      const what = [ev.error, ev.message].filter((x, i, all) => x && all.indexOf(x) === i).join(": ");
      this.error.textContent = `${what || "Download failed"} (${code}).${resumable}`;
    } else {
      this.showProgress(ev);
    }
    if (!this.active) this.detach();
    if (status === "completed" && was && was !== "completed") this.onCompleted(this.filename);
  }

  showProgress(ev) {
    const done = ev.downloaded_bytes ?? 0;
    // The server reports only changes: remember when the bytes last moved (a snapshot says
    // when it was taken), so a stalled transfer does not keep showing its last speed.
    if (!this.last || this.last.downloaded_bytes !== done || this.last.status !== this.status) {
      this.movedAt = ev.updated_at ? Math.min(Date.now(), ev.updated_at * 1000) : Date.now();
    }
    this.last = { ...ev, downloaded_bytes: done, status: this.status };
    this.render();
  }

  render() {
    const ev = this.last;
    const done = ev.downloaded_bytes;
    const pct = ev.percentage ?? (this.total ? (100 * done) / this.total : 0);
    const parts = [`${pct.toFixed(1)}%`, `${size(done)} of ${size(this.total)}`];
    const quiet = (Date.now() - this.movedAt) / 1000;
    if (this.status === "verifying") parts.push("checking the sha256");
    else if (this.status === "queued") parts.push("queued");
    else if (quiet >= STALL_S || !ev.speed_kbps) parts.push(`no data for ${formatDuration(quiet)}`);
    else {
      parts.push(`${size(ev.speed_kbps * 1024)}/s`);
      parts.push(ev.eta_seconds !== null && ev.eta_seconds !== undefined ? `${formatDuration(ev.eta_seconds)} left` : "time left unknown");
    }
    this.setProgress(pct, parts.join(" · "));
  }

  setProgress(pct, text) {
    this.progress.value = Math.max(0, Math.min(100, pct || 0));
    this.text.textContent = text;
  }

  /** Follow the task over its socket (reconnects until the task is finished). */
  attach() {
    if (this.socket || (this.status && !this.active)) return;
    this.socket = openSocket(`/ws/gguf/download/${encodeURIComponent(this.id)}`, {
      onEvent: (ev) => this.onEvent(ev),
      onStatus: (state, info) => this.onLink(state, info),
      shouldReconnect: () => this.active && this.el.isConnected,
    });
    this.ticker = setInterval(() => {
      if (!this.el.isConnected) this.detach();
      else if (this.status === "running" && this.last) this.render();
    }, 1000);
  }

  detach() {
    clearInterval(this.ticker);
    if (this.socket) {
      const s = this.socket;
      this.socket = null;
      s.close();
    }
    this.link.hidden = true;
  }

  onEvent(ev) {
    if (!this.el.isConnected) return this.detach(); // the page was re-rendered (sign-out)
    if (ev.type === "pong") return;
    if (ev.type === "error" && ev.resumable === undefined) {
      // The socket's own error (the task is unknown, a refused frame): not the task's end.
      this.error.hidden = false;
      this.error.textContent = `${ev.detail || ev.error} (${ev.error_code})`;
      if (ev.error_code === "NOT_FOUND") {
        this.status = "error";
        this.cancel.hidden = true;
        this.detach();
      }
      return;
    }
    this.update(ev);
  }

  onLink(state, info) {
    if (state === "reconnecting") {
      this.link.hidden = false;
      this.link.textContent = `Connection lost; reconnecting in ${formatDuration(info.delay / 1000)}…`;
    } else if (state === "open" && info.reconnected) {
      this.link.hidden = false;
      this.link.textContent = "Reconnected.";
    } else if (state === "open") {
      this.link.hidden = true;
    }
  }

  doCancel() {
    this.link.hidden = false;
    this.link.textContent = "Cancelling… (a stalled transfer stops at its read timeout)";
    return busy(this.cancel, async () => {
      const snap = await api(`/api/gguf/download/${encodeURIComponent(this.id)}/cancel`, { method: "POST" });
      this.update(snap);
    });
  }
}
