// "Use the API": the /v1 base URL and a few lines for the openai SDK and curl.
import { copyText, h } from "../dom.js";
import { toast } from "../ui.js";

export function usageHint() {
  const base = `${location.origin}/v1`;
  const python = [
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url="${base}", api_key="lmw-…")  # a key from API keys above`,
    "print([m.id for m in client.models.list()])",
    "reply = client.chat.completions.create(",
    '    model="<a model id from the list>",',
    '    messages=[{"role": "user", "content": "Hello!"}],',
    ")",
    "print(reply.choices[0].message.content)",
  ].join("\n");
  const curl = `curl ${base}/models -H "Authorization: Bearer lmw-…"`;
  const copy = h("button", { type: "button", "aria-label": "Copy the base URL" }, "Copy");
  copy.addEventListener("click", async () => toast((await copyText(base)) ? "Base URL copied" : "Copy failed", "ok"));
  return h(
    "div.usage",
    h("p", "This platform speaks OpenAI's API: point any OpenAI client at this base URL with one of your API keys."),
    h("div.inline-row", h("code.base-url#api-base-url", base), copy),
    h("p.hint", "Python (pip install openai):"),
    h("pre.usage-code", { tabindex: "0", "aria-label": "Python example" }, h("code", python)),
    h("p.hint", "curl:"),
    h("pre.usage-code", { tabindex: "0", "aria-label": "curl example" }, h("code", curl)),
  );
}
