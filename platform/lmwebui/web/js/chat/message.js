// One message of the chat: a user bubble or an assistant answer (markdown body, thinking
// block, status, usage, citations, copy / regenerate actions).
import { copyText, h, replace } from "../dom.js";
import { createStreamRenderer, renderMarkdown } from "../markdown.js";

/** A user's message: plain text, never markdown (what they typed, as typed). */
export function userMessage(text) {
  return h("article.msg.msg-user", { "aria-label": "You" }, h("div.msg-role", "You"), h("div.msg-text", text));
}

/**
 * An assistant answer. Returns a controller: the element, the streaming body, and
 * setters for the parts that arrive at the end of a turn.
 */
export function assistantMessage({ model = "", onRegenerate = null } = {}) {
  const body = h("div.msg-body.md");
  const thinkingSlot = h("div.msg-thinking-slot");
  const status = h("p.msg-status", { role: "status" });
  status.hidden = true;
  const usage = h("p.msg-usage");
  usage.hidden = true;
  const sources = h("section.msg-sources", { "aria-label": "Sources" });
  sources.hidden = true;
  const copyBtn = h("button.icon.msg-copy", { type: "button", "aria-label": "Copy answer", title: "Copy answer" }, "Copy");
  const regenBtn = h("button.icon.msg-regen", { type: "button", "aria-label": "Regenerate answer", title: "Regenerate answer" }, "Regenerate");
  regenBtn.hidden = true;
  const actions = h("div.msg-actions", copyBtn, regenBtn);
  const el = h(
    "article.msg.msg-assistant",
    { "aria-label": "Assistant", dataset: { state: "done" } },
    h("div.msg-role", "Assistant", model ? h("span.msg-model", model) : null),
    thinkingSlot,
    body,
    status,
    sources,
    usage,
    actions,
  );
  let text = "";
  const renderer = createStreamRenderer(body);
  copyBtn.addEventListener("click", async () => {
    const ok = await copyText(text);
    copyBtn.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (copyBtn.textContent = "Copy"), 1500);
  });
  if (onRegenerate) regenBtn.addEventListener("click", () => onRegenerate());
  return {
    el,
    thinkingSlot,
    get text() {
      return text;
    },
    /** Streaming: the text so far, rendered block by block (call once per frame). */
    stream(next) {
      text = next;
      renderer.update(text);
    },
    /** A stored or final answer: rendered at once. */
    finish(content) {
      text = content;
      renderer.complete(text);
    },
    setStatic(content) {
      text = content;
      replace(body, renderMarkdown(content));
    },
    setState(state, message = "") {
      el.dataset.state = state;
      status.hidden = !message;
      status.className = `msg-status ${state}`;
      status.textContent = message;
      if (state === "error") status.setAttribute("role", "alert");
    },
    setUsage(final) {
      const parts = [];
      // an upstream that reports no usage says 0: show no token counts then
      if (final.completion_tokens) parts.push(`${final.completion_tokens} tokens`);
      if (final.tokens_used) parts.push(`${final.tokens_used} total`);
      if (final.processing_time !== undefined) parts.push(`${Number(final.processing_time).toFixed(2)} s`);
      if (final.completion_tokens && final.processing_time) parts.push(`${(final.completion_tokens / final.processing_time).toFixed(1)} tok/s`);
      usage.textContent = parts.join(" · ");
      usage.setAttribute("aria-label", `Usage: ${parts.join(", ")}`);
      usage.hidden = !parts.length;
    },
    setCitations(citations) {
      if (!citations) return;
      sources.hidden = false;
      if (!citations.length) {
        replace(sources, h("p.hint", "No matching passages in your documents."));
        return;
      }
      replace(
        sources,
        h("h3.sources-title", "Sources"),
        h(
          "ol.sources",
          citations.map((c) =>
            h(
              "li.source",
              { value: c.index },
              h("span.source-name", c.filename),
              c.page ? h("span.source-page", `page ${c.page}`) : null,
              c.snippet ? h("blockquote.source-snippet", c.snippet) : null,
            ),
          ),
        ),
      );
    },
    canRegenerate(yes) {
      regenBtn.hidden = !yes || !onRegenerate;
    },
  };
}
