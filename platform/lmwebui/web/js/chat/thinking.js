// The "Thinking" block of a deep-thinking answer: reasoning_step events as a collapsible
// <details>. It stays open (and readable) when the answer starts; the reader folds it.
import { h } from "../dom.js";

export function thinkingBlock(slot) {
  let details = null;
  let list = null;
  let count = 0;
  let summary = null;
  const seen = new Set();
  const ensure = () => {
    if (details) return;
    summary = h("summary", "Thinking…");
    list = h("ol.thinking-steps");
    details = h("details.thinking", { open: true }, summary, list);
    slot.append(details);
  };
  return {
    /** One reasoning_step event (or a step of final_answer.reasoning_steps). */
    add(step) {
      const key = step.step_index ?? count + 1;
      if (seen.has(key)) return;
      seen.add(key);
      ensure();
      count++;
      list.append(
        h(
          "li.thinking-step",
          { value: key },
          step.title ? h("strong.thinking-title", step.title) : null,
          h("div.thinking-text", step.content || ""),
        ),
      );
      summary.textContent = `Thinking… (${count} step${count === 1 ? "" : "s"})`;
    },
    /** The answer is complete: the summary says how many steps there were. */
    done() {
      if (summary) summary.textContent = `Thinking (${count} step${count === 1 ? "" : "s"})`;
    },
  };
}
