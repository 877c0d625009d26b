// Theme choice: follow the system, light or dark (kept in the user's prefs).
import { h } from "../dom.js";
import { on, setPref, state } from "../store.js";

const CHOICES = [
  ["system", "System"],
  ["light", "Light"],
  ["dark", "Dark"],
];

export function mountAppearance(el) {
  const radios = CHOICES.map(([value, label]) => {
    const input = h(`input#theme-${value}`, { type: "radio", name: "theme", value, checked: state.prefs.theme === value });
    input.addEventListener("change", () => input.checked && setPref("theme", value));
    return { value, el: h("label.choice", { for: `theme-${value}` }, input, h("span", label)), input };
  });
  el.append(h("fieldset.theme-choice", h("legend", "Theme"), radios.map((r) => r.el)));
  // The top bar's theme button changes it too: keep the radios in step.
  on("prefs", ({ name, value }) => {
    if (name === "theme") radios.forEach((r) => (r.input.checked = r.value === value));
  });
}
