// The message box and its controls: Enter sends, Shift+Enter is a new line, nothing is
// sent while an input method is composing; the box grows with its text. Toggles for deep
// thinking and "use my documents", an answer-length option, attachments, Send / Stop.
import { h } from "../dom.js";
import { setPref, state } from "../store.js";
import { attachments } from "./attach.js";

function toggle(id, label, pref, title) {
  const input = h(`input#${id}`, { type: "checkbox", checked: !!state.prefs[pref] });
  input.addEventListener("change", () => setPref(pref, input.checked));
  return { input, el: h("label.chip-toggle", { for: id, title }, input, h("span", label)) };
}

/** handlers: onSend(text) → true when it was sent; onStop(). */
export function composer({ onSend, onStop, conversationId }) {
  const box = h("textarea#chat-input", {
    rows: 1,
    placeholder: "Send a message…",
    title: "Enter sends, Shift+Enter starts a new line",
    "aria-label": "Message",
    enterkeyhint: "send",
  });
  const send = h("button.primary#chat-send", { type: "submit", "aria-label": "Send" }, "Send");
  const stop = h("button.danger#chat-stop", { type: "button", "aria-label": "Stop", title: "Stop (Esc)" }, "■ Stop");
  stop.hidden = true;
  const thinking = toggle("chat-deep-thinking", "Deep thinking", "deepThinking", "Stream the model's reasoning first");
  const rag = toggle("chat-use-rag", "Use my documents", "useRag", "Ground the answer in your documents");
  const maxTokens = h("input#chat-max-tokens", {
    type: "number",
    min: 1,
    step: 1,
    inputmode: "numeric",
    placeholder: "default",
    value: state.prefs.maxTokens || "",
  });
  maxTokens.addEventListener("change", () => {
    const n = parseInt(maxTokens.value, 10);
    setPref("maxTokens", n > 0 ? n : null);
  });
  const options = h(
    "details.chat-options",
    h("summary", "Options"),
    h("label.option", { for: "chat-max-tokens" }, "Max answer tokens", maxTokens),
  );
  const files = attachments({
    conversationId,
    onIngested: () => {
      rag.input.checked = true;
      setPref("useRag", true);
    },
  });

  const grow = () => {
    if (!box.value) return void (box.style.height = ""); // back to one row
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight + 2, Math.round(innerHeight * 0.4))}px`;
  };
  box.addEventListener("input", grow);

  let running = false;
  const submit = () => {
    if (running) return;
    const text = box.value;
    if (!text.trim()) return;
    if (onSend(text)) {
      box.value = "";
      grow();
    }
  };
  box.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    e.preventDefault();
    submit();
  });
  const form = h(
    "form.composer",
    { "aria-label": "Send a message" },
    files.list,
    h("div.composer-row", files.button, box, send, stop),
    h("div.composer-tools", thinking.el, rag.el, options, files.input),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  stop.addEventListener("click", () => onStop());

  return {
    el: form,
    focus: () => box.focus(),
    setRunning(yes) {
      running = yes;
      send.hidden = yes;
      stop.hidden = !yes;
      form.dataset.running = String(yes);
    },
    /** The start_stream options the toggles say. */
    options() {
      return { deep_thinking_mode: thinking.input.checked, use_rag: rag.input.checked, max_tokens: state.prefs.maxTokens || undefined };
    },
    get value() {
      return box.value;
    },
  };
}
