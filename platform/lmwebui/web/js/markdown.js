// The one markdown renderer of the page: marked (GFM) → DOMPurify → highlight.js, with a
// copy button on every code block. Model output is untrusted: everything is sanitised
// (no scripts, frames, forms, event handlers or inline styles; links only http(s)/mailto;
// images only from this origin or data: URLs, others are dropped), and it reaches the
// page only as sanitised DOM nodes, never as an HTML string.
//
// renderMarkdown(text) renders once (history); createStreamRenderer(el) re-renders a
// streaming message block by block: top-level blocks whose source did not change keep
// their nodes, so each frame only parses and sanitises the tail that grew.
import DOMPurify from "../vendor/dompurify-3.5.0/purify.es.js";
import hljs from "../vendor/highlightjs-11.12.0/highlight.min.js";
import { Marked } from "../vendor/marked-18.3.0/marked.esm.js";
import { copyText, h } from "./dom.js";

const marked = new Marked({ gfm: true, breaks: false, async: false });

const PURIFY = {
  USE_PROFILES: { html: true }, // no SVG or MathML
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "option", "iframe", "frame", "frameset", "object", "embed", "link", "meta", "base", "dialog", "template", "audio", "video", "source", "picture"],
  FORBID_ATTR: ["style", "srcset", "action", "formaction", "background", "ping", "target"],
  ALLOW_DATA_ATTR: false,
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|data:image\/|#|\/|\.{0,2}\/|[^:]*$)/i,
  RETURN_DOM_FRAGMENT: true,
};

const SAFE_LINK = new Set(["http:", "https:", "mailto:"]);

function resolve(url) {
  try {
    return new URL(url, location.href);
  } catch {
    return null;
  }
}

/** After DOMPurify: links only http(s)/mailto (opened in a new tab), images only ours. */
function tightenUrls(root) {
  for (const a of root.querySelectorAll("a")) {
    const url = a.hasAttribute("href") ? resolve(a.getAttribute("href")) : null;
    if (!url || !SAFE_LINK.has(url.protocol)) {
      a.removeAttribute("href");
      continue;
    }
    if (url.origin !== location.origin) {
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer nofollow");
    }
  }
  for (const img of root.querySelectorAll("img")) {
    const src = img.getAttribute("src") || "";
    const url = resolve(src);
    const ok = /^data:image\//i.test(src) || (url && url.origin === location.origin && url.protocol.startsWith("http"));
    if (!ok) img.replaceWith(document.createTextNode(img.getAttribute("alt") || ""));
    else img.setAttribute("loading", "lazy");
  }
}

/** Markdown → a sanitised DocumentFragment (no code decoration yet). */
function toFragment(tokens, links) {
  const list = [...tokens];
  list.links = links;
  const html = marked.parser(list);
  const frag = DOMPurify.sanitize(html, PURIFY);
  tightenUrls(frag);
  return frag;
}

/** Highlight code blocks with a named language and give each a copy button. */
export function decorateCode(root) {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.parentElement?.classList.contains("code-block")) continue;
    const code = pre.querySelector("code");
    const source = (code || pre).textContent.replace(/\n$/, "");
    const lang = code ? [...code.classList].find((c) => c.startsWith("language-"))?.slice(9) : "";
    if (code && lang && hljs.getLanguage(lang)) {
      code.textContent = source;
      hljs.highlightElement(code);
    }
    const button = h("button.copy-code", { type: "button", "aria-label": "Copy code", title: "Copy code" }, "Copy");
    button.addEventListener("click", async () => {
      const ok = await copyText(source);
      button.textContent = ok ? "Copied" : "Copy failed";
      setTimeout(() => (button.textContent = "Copy"), 1500);
    });
    const head = h("div.code-head", h("span.code-lang", lang || "text"), button);
    const wrap = h("div.code-block");
    pre.replaceWith(wrap);
    wrap.append(head, pre);
  }
}

/** Render markdown once into a sanitised fragment (code highlighted, copy buttons). */
export function renderMarkdown(text) {
  const tokens = marked.lexer(text || "");
  const frag = toFragment(tokens, tokens.links);
  const holder = document.createElement("div");
  holder.append(frag);
  decorateCode(holder);
  const out = document.createDocumentFragment();
  out.append(...holder.childNodes);
  return out;
}

/**
 * A renderer for one streaming message: update(text) re-lexes only from the start of the
 * last block (earlier blocks are settled: lexing the whole answer on every frame costs
 * O(length) per token) and re-renders only the blocks whose source changed (usually the
 * last one). complete(text) ends the stream: a text that differs from the streamed one
 * (the server's final answer) is rendered whole; the same text keeps its nodes.
 */
export function createStreamRenderer(el) {
  let blocks = []; // {raw, node}
  let settled = ""; // the source of every block but the last
  let shown = ""; // the text the blocks show
  const reset = () => {
    whole = false;
    shown = "";
    blocks = [];
    settled = "";
    el.replaceChildren();
  };
  let whole = false; // the lexer's raw did not cover the source: lex the whole text each time
  return {
    update(text) {
      text = text || "";
      if (!text.startsWith(settled)) reset(); // not a continuation: start over
      const base = whole ? 0 : Math.max(0, blocks.length - 1);
      const tokens = marked.lexer(whole ? text : text.slice(settled.length));
      let same = 0;
      while (same < tokens.length && base + same < blocks.length && blocks[base + same].raw === tokens[same].raw) same++;
      for (const b of blocks.splice(base + same)) b.node.remove(); // in place: no copy per frame
      for (const token of tokens.slice(same)) {
        const node = h("div.md-block");
        if (token.type !== "space") {
          node.append(toFragment([token], tokens.links));
          decorateCode(node);
        }
        el.append(node);
        blocks.push({ raw: token.raw, node });
      }
      shown = text;
      // the blocks before `base` were settled already: add only what settled this frame
      settled = whole ? "" : settled + blocks.slice(base, -1).map((b) => b.raw).join("");
      if (!text.startsWith(settled)) {
        whole = true;
        settled = "";
      }
    },
    complete(text) {
      if ((text || "") === shown && blocks.length) return;
      reset();
      el.append(renderMarkdown(text || ""));
      shown = text || "";
    },
    reset,
  };
}
