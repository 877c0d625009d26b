// Auto-scroll that never fights the reader: follow new text only while the reader is at
// the bottom; once they scroll up, a "Jump to latest" button appears instead.
//
// The following is done by a ResizeObserver on the log, which runs after the browser's own
// layout of a frame: growth of any kind (a streamed token, an earlier answer whose
// `content-visibility` placeholder was just replaced by its real height, an image that
// loaded) keeps a reader at the bottom there, without reading layout in the middle of a
// frame.
import { h } from "../dom.js";

const SLACK = 48; // px from the bottom that still counts as "at the bottom"

export function follow(scroller, content) {
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
    // a scroll the page made itself lands at the bottom; only the reader's leaves it
    stick = atBottom();
    if (stick) jump.hidden = true;
  }, { passive: true });
  jump.addEventListener("click", toBottom);
  new ResizeObserver(() => {
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  }).observe(content);
  return {
    jump,
    /** After content grew: offer the jump button to a reader who is not following. */
    grew() {
      if (!stick) jump.hidden = false;
    },
    toBottom,
  };
}
