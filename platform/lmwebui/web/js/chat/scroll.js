// Auto-scroll that never fights the reader: follow new text only while the reader is at
// the bottom; once they scroll up, a "Jump to latest" button appears instead.
import { h } from "../dom.js";

const SLACK = 48; // px from the bottom that still counts as "at the bottom"

export function follow(scroller) {
  let stick = true;
  const jump = h("button.jump-latest", { type: "button", "aria-label": "Jump to latest" }, "↓ Jump to latest");
  jump.hidden = true;
  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= SLACK;
  const toBottom = () => {
    scroller.scrollTop = scroller.scrollHeight;
    stick = true;
    jump.hidden = true;
  };
  scroller.addEventListener("scroll", () => {
    stick = atBottom();
    if (stick) jump.hidden = true;
  }, { passive: true });
  jump.addEventListener("click", toBottom);
  return {
    jump,
    /** After content grew: follow it, or offer the jump button. */
    grew() {
      if (stick) toBottom();
      else jump.hidden = false;
    },
    toBottom,
  };
}
