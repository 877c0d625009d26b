// Placeholder: this feature is being built (issue 15).
import { h } from "../dom.js";

export function mount(el) {
  el.append(h("p.hint", "Coming soon."));
}
