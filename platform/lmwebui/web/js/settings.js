// Settings: appearance (theme), the user's OpenAI-compatible provider, platform API keys
// for /v1, and how to use the API. Each part is its own module under settings/.
import { h, replace } from "./dom.js";
import { mountApiKeys } from "./settings/api-keys.js";
import { mountAppearance } from "./settings/appearance.js";
import { mountProvider } from "./settings/provider.js";
import { usageHint } from "./settings/usage.js";

const part = (id, title, intro) => {
  const body = h("div.settings-body");
  const el = h(`section.settings-part#${id}`, { "aria-labelledby": `${id}-title` }, h(`h2#${id}-title`, title), intro ? h("p.hint", intro) : null, body);
  return { el, body };
};

export async function mount(section) {
  const appearance = part("settings-appearance", "Appearance");
  const provider = part(
    "settings-provider",
    "OpenAI-compatible provider",
    "Chat with an OpenAI-compatible service (OpenAI or your own server) through this platform. The key is stored encrypted and never shown again.",
  );
  const keys = part(
    "settings-api-keys",
    "API keys",
    "Keys for programs that use this platform's OpenAI-compatible API (/v1). Each key acts as you.",
  );
  const usage = part("settings-usage", "Use the API");
  replace(section, h("div.settings", h("h1.settings-title", "Settings"), appearance.el, provider.el, keys.el, usage.el));
  mountAppearance(appearance.body);
  usage.body.append(usageHint());
  const reloads = [mountProvider(provider.body), mountApiKeys(keys.body)];
  await Promise.all(reloads.map((r) => r.reload()));
  return {
    show() {
      reloads.forEach((r) => r.reload());
    },
  };
}
