"""The web page in Debian's chromium (Playwright) against `lmwebui serve`: page weight,
time to interactive, and what streaming a long answer costs the browser's main thread.

    .venv/bin/python loadtests/bench_page.py --runs 5 --tokens 4000 --history 50

1. **Weight and time to interactive**, signed in, --runs fresh browser contexts (empty
   cache) and a reload of each (warm cache): bytes transferred (gzip, headers included:
   Chrome's encodedDataLength summed over every response) and the time from navigation
   start to the page's ``lmwebui:ready`` mark (js/main.js: signed in, shell and chat view
   mounted).
2. **Streaming**: the answer comes from a scripted OpenAI-compatible upstream (the user's
   provider in Settings) pacing --tokens markdown tokens --delay s apart, so the page, not
   the model, is measured. Case "fresh": a new chat. Case "history": the same answer in a
   conversation already holding --history long answers (the anchors' lag case: a page
   that re-renders the history on every token slows down as it grows). An init script
   records, in the page: every ``token_update`` frame's arrival (a WebSocket subclass's
   first listener), every mutation of the message log (a MutationObserver: its callback
   runs right after the task that changed the DOM) and every long task (> 50 ms,
   PerformanceObserver). A frame's latency is the first log mutation at or after it
   arrived: the time until its text is in the DOM.

Medians over --runs are printed as markdown rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.stats import percentile
from tests.support.live import LiveServer, start_server
from tests.support.upstream import FakeUpstream, fake_upstream
from tests.support.web import CHROMIUM

EMAIL, PASSWORD = "page-bench@example.com", "password123"
PREFS = '{"provider": "openai", "model": null, "openaiModel": "gpt-4o-mini", "sidebar": true}'

INSTRUMENT = """
(() => {
  const b = (window.__bench = { frames: [], mutations: [], longtasks: [] });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const t = performance.now();
        if (typeof e.data === "string" && e.data.includes('"token_update"')) b.frames.push(t);
      });
    }
  };
  const watch = () => {
    const log = document.querySelector("[role=log]");
    if (!log) return requestAnimationFrame(watch);
    new MutationObserver(() => b.mutations.push(performance.now())).observe(log, {
      subtree: true, childList: true, characterData: true,
    });
  };
  addEventListener("DOMContentLoaded", watch);
})();
"""

# The data-state of the n-th assistant answer in the log (None until it exists).
ANSWER_STATE = """(n) => {
  const el = document.querySelectorAll("[role=log] article[aria-label=Assistant]")[n];
  return el ? el.dataset.state : null;
}"""

BLOCKS = [
    "## Section {i}\n\nThis paragraph explains point {i} in some detail, with **bold** words, "
    "`inline code` and a [link](https://example.com/{i}) so the renderer has work to do.\n\n",
    "- first item of list {i}\n- second item with *emphasis*\n- third item\n\n",
    "```python\ndef f_{i}(x):\n    return [y * {i} for y in range(x)]\n```\n\n",
    "| key | value |\n| --- | --- |\n| a{i} | {i} |\n| b{i} | {i}0 |\n\n",
]


def markdown_tokens(n: int) -> list[str]:
    """n word-sized tokens of varied markdown (paragraphs, lists, code, tables)."""
    tokens: list[str] = []
    i = 0
    while len(tokens) < n:
        block = BLOCKS[i % len(BLOCKS)].format(i=i)
        pieces = block.split(" ")
        tokens += [p if k == 0 else " " + p for k, p in enumerate(pieces)]
        i += 1
    return tokens[:n]


def script(tokens: list[str]) -> list[tuple[dict[str, Any], str | None]]:
    first: list[tuple[dict[str, Any], str | None]] = [({"role": "assistant", "content": ""}, None)]
    return first + [({"content": t}, None) for t in tokens] + [({}, "stop")]


@dataclass
class Session:
    server: LiveServer
    cookies: list[dict[str, Any]]
    http: httpx.Client


def open_session(server: LiveServer, upstream: FakeUpstream) -> Session:
    http = httpx.Client(base_url=server.url, timeout=120)
    http.post("/api/auth/register", json={"email": EMAIL, "password": PASSWORD})
    http.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD}).raise_for_status()
    key = {"api_key": "sk-bench", "base_url": upstream.url}
    http.put("/api/providers/openai/key", json=key).raise_for_status()
    host = server.url.split("//")[1].split(":")[0]
    cookies = [
        {"name": c.name, "value": c.value or "", "domain": host, "path": c.path or "/"}
        for c in http.cookies.jar
    ]
    return Session(server, cookies, http)


def new_page(browser: Browser, session: Session) -> tuple[BrowserContext, Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_cookies(session.cookies)  # type: ignore[arg-type]
    ctx.add_init_script(f"localStorage.setItem('lmwebui.prefs.v1', '{PREFS}');")
    ctx.add_init_script(INSTRUMENT)
    return ctx, ctx.new_page()


def load(page: Page, url: str) -> tuple[int, float]:
    """Navigate; (bytes transferred, ms to the ready mark)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: list[float] = []
    cdp.on("Network.loadingFinished", lambda e: sizes.append(e["encodedDataLength"]))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
    page.wait_for_load_state("networkidle")
    ready = page.evaluate("performance.getEntriesByName('lmwebui:ready')[0].startTime")
    cdp.detach()
    return int(sum(sizes)), float(ready)


def weight(browser: Browser, session: Session, runs: int) -> None:
    cold: list[tuple[int, float]] = []
    warm: list[tuple[int, float]] = []
    for _ in range(runs):
        ctx, page = new_page(browser, session)
        cold.append(load(page, session.server.url + "/"))
        warm.append(load(page, session.server.url + "/"))
        ctx.close()
    print("| load | KB transferred (gzip) | ms to interactive | runs |")
    print("| --- | --- | --- | --- |")
    for name, rows in (("cold cache", cold), ("warm cache (reload)", warm)):
        kb = statistics.median(r[0] for r in rows) / 1024
        ms = statistics.median(r[1] for r in rows)
        print(f"| {name} | {kb:.1f} | {ms:.0f} | {len(rows)} |")


def stream_once(browser: Browser, session: Session, url: str, history: int) -> dict[str, float]:
    ctx, page = new_page(browser, session)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
    log = page.get_by_role("log", name="Messages")
    if history:  # (no wait_for_function: the page's CSP forbids evaluating strings)
        log.locator("article").nth(2 * history - 1).wait_for(timeout=120_000)
    page.evaluate("window.__bench.frames = []; window.__bench.mutations = []")
    answers = log.locator("article[aria-label=Assistant]")
    before = answers.count()
    box = page.get_by_role("textbox", name="Message")
    box.fill("Write the long answer")
    box.press("Enter")
    # Polled from here, twice a second, with one querySelectorAll: Playwright's own waiting
    # (locator.wait_for) re-runs its selector engine (ARIA roles over the whole log) on
    # every animation frame in the page, and that garbage (2.4 GB in a 2,000-token run
    # with 50 earlier answers, by CDP's allocation sampling) was most of what the page's
    # main thread spent in GC: the harness, not the page.
    deadline = time.monotonic() + 600
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(ANSWER_STATE, before)
        if state not in (None, "streaming", "stopping"):
            break
        time.sleep(0.5)
    data = page.evaluate("window.__bench")
    ctx.close()
    if state != "done" or not data["frames"]:
        raise RuntimeError(f"the answer ended {state} after {len(data['frames'])} frames")
    frames, mutations = data["frames"], sorted(data["mutations"])
    lat: list[float] = []
    j = 0
    for t in frames:
        while j < len(mutations) and mutations[j] < t:
            j += 1
        if j < len(mutations):
            lat.append(mutations[j] - t)
    start, end = frames[0], frames[-1]
    long = [d for s, d in data["longtasks"] if start <= s <= end]
    return {
        "frames": len(frames),
        "long_tasks": len(long),
        "longest_ms": max(long, default=0.0),
        "p50": percentile(lat, 0.5),
        "p99": percentile(lat, 0.99),
        "max": max(lat, default=float("nan")),
        "seconds": (end - start) / 1000,
    }


def make_history(session: Session, upstream: FakeUpstream, n: int, tokens: int) -> str:
    upstream.chunk_delay = 0.0
    upstream.script = script(markdown_tokens(tokens))
    conv: str | None = None
    for i in range(n):
        body = {"message": f"question {i}", "provider": "openai", "model": "gpt-4o-mini"}
        if conv:
            body["conversation_id"] = conv
        r = session.http.post("/api/chat", json=body)
        r.raise_for_status()
        conv = r.json()["conversation_id"]
    assert conv
    return conv


def streaming(browser: Browser, session: Session, upstream: FakeUpstream, args: Any) -> None:
    cases = [] if args.skip_fresh else [("fresh", session.server.url + "/", 0)]
    if args.history:
        conv = make_history(session, upstream, args.history, args.history_tokens)
        cases.append((f"{args.history} earlier answers", f"{session.server.url}/?c={conv}", 0))
    print()
    print(
        "| case | token frames | long tasks (>50 ms) | longest ms | frame→DOM p50 ms | p99 ms "
        "| max ms | stream s | runs |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, url, _ in cases:
        history = 0 if name == "fresh" else args.history
        rows = []
        for _ in range(args.runs):
            upstream.script = script(markdown_tokens(args.tokens))
            upstream.chunk_delay = args.delay
            rows.append(stream_once(browser, session, url, history))
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        print(
            f"| {name} | {med['frames']:.0f} | {med['long_tasks']:.0f} | {med['longest_ms']:.0f} "
            f"| {med['p50']:.2f} | {med['p99']:.2f} | {med['max']:.1f} | {med['seconds']:.1f} "
            f"| {len(rows)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--delay", type=float, default=0.01, help="seconds between tokens")
    parser.add_argument("--history", type=int, default=50)
    parser.add_argument("--history-tokens", type=int, default=600)
    parser.add_argument("--skip-weight", action="store_true")
    parser.add_argument("--skip-fresh", action="store_true", help="only the history case")
    args = parser.parse_args()
    with fake_upstream() as upstream, tempfile.TemporaryDirectory() as tmp:
        env = {
            "LMWEBUI_CHAT__ALLOWED_PROVIDER_HOSTS": "127.0.0.1",
            "LMWEBUI_RATE_LIMITS__CHAT": "10000/minute",
            "LMWEBUI_RAG__ENABLED": "false",
        }
        server = start_server(Path(tmp) / "data", env=env)
        try:
            session = open_session(server, upstream)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
                if not args.skip_weight:
                    weight(browser, session, args.runs)
                streaming(browser, session, upstream, args)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
