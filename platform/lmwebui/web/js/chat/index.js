// The chat view: model picker, the conversation (stored messages rendered once, the
// streaming answer re-rendered at most once per frame), the composer, Stop / Esc,
// regenerate, and the connection's state. Talks to the sidebar only through store events.
import { api, describeError } from "../api.js";
import { h, replace } from "../dom.js";
import { emit, on, setConversation, state } from "../store.js";
import { errorLine } from "../ui.js";
import { composer as makeComposer } from "./composer.js";
import { assistantMessage, userMessage } from "./message.js";
import { modelPicker } from "./models.js";
import { follow } from "./scroll.js";
import { chatSocket } from "./stream.js";
import { thinkingBlock } from "./thinking.js";

function emptyState() {
  return h(
    "div.chat-empty",
    h("h2", "What can I help with?"),
    h("p.hint", "Pick a model above, then type a message. Enter sends, Shift+Enter starts a new line, Esc stops an answer."),
  );
}

export function mount(section) {
  let shown = null; // the conversation on screen (null: a new chat)
  let epoch = 0; // bumps when the screen shows another conversation
  let lastUser = null; // the text of the last user message (regenerate re-sends it)
  let lastAnswer = null; // the last assistant message's controller
  const log = h("div.chat-log", { role: "log", "aria-live": "off", "aria-label": "Messages" });
  const scroller = h("div.chat-scroll", log);
  const scroll = follow(scroller, log);
  const conn = h("span.chat-conn", { role: "status", "aria-live": "polite" });
  const picker = modelPicker();
  const composer = makeComposer({ onSend: (text) => send(text), onStop: () => sock.stop(), conversationId: () => shown });
  let connTimer = 0;
  const sock = chatSocket({
    onConnection(kind, info) {
      clearTimeout(connTimer);
      conn.dataset.kind = kind;
      if (kind === "reconnecting") conn.textContent = `Connection lost — reconnecting in ${Math.round((info?.delay || 0) / 100) / 10} s…`;
      else if (kind === "reconnected") {
        conn.textContent = "Reconnected";
        connTimer = setTimeout(() => (conn.textContent = ""), 5000);
      } else if (kind === "closed") conn.textContent = "Disconnected: reload the page to chat again";
    },
  });

  section.append(
    h(
      "div.chat",
      h("header.chat-bar", picker.el, conn),
      h("div.chat-main", scroller, scroll.jump),
      composer.el,
    ),
  );
  replace(log, emptyState());

  function add(el) {
    log.querySelector(".chat-empty")?.remove();
    log.append(el);
    scroll.grew();
  }

  function setLastAnswer(ctrl) {
    lastAnswer?.canRegenerate(false);
    lastAnswer = ctrl;
    ctrl?.canRegenerate(!sock.busy && lastUser !== null);
  }

  function regenerate() {
    if (sock.busy || lastUser === null || !lastAnswer) return;
    lastAnswer.el.remove();
    lastAnswer = null;
    send(lastUser, { again: true });
  }

  /** Start a turn; false when it could not start (nothing is cleared then). */
  function send(text, { again = false } = {}) {
    if (sock.busy) return false;
    const choice = picker.choice();
    if (choice.error) {
      conn.dataset.kind = "error";
      conn.textContent = choice.error;
      return false;
    }
    if (!again) add(userMessage(text));
    lastUser = text;
    const ctrl = assistantMessage({ model: picker.label(), onRegenerate: regenerate });
    setLastAnswer(null);
    ctrl.setState("streaming");
    add(ctrl.el);
    const thinking = thinkingBlock(ctrl.thinkingSlot);
    const mine = epoch;
    const request = { message: text, conversation_id: shown || undefined, provider: choice.provider, model: choice.model || undefined, ...composer.options() };
    const done = (state, message) => {
      ctrl.setState(state, message);
      thinking.done();
      composer.setRunning(false);
      if (mine !== epoch) return;
      setLastAnswer(ctrl);
      scroll.grew();
    };
    sock.start(request, {
      onText(t) {
        ctrl.stream(t);
        scroll.grew();
      },
      onStep(step) {
        thinking.add(step);
        scroll.grew();
      },
      onStopping: () => ctrl.setState("stopping", "Stopping…"),
      onFinal(ev) {
        ctrl.finish(ev.content ?? "");
        for (const step of ev.reasoning_steps || []) thinking.add(step);
        ctrl.setUsage(ev);
        ctrl.setCitations(ev.citations);
        done("done", "");
        if (mine === epoch && ev.conversation_id && ev.conversation_id !== shown) {
          shown = ev.conversation_id;
          setConversation(ev.conversation_id, { push: false });
        }
        emit("conversations-changed", { id: ev.conversation_id });
      },
      onCancelled(_, t) {
        ctrl.finish(t);
        done("stopped", "Stopped");
      },
      onError(err, t) {
        ctrl.finish(t);
        done("error", describeError(err));
      },
      onInterrupted(_, t) {
        ctrl.finish(t);
        done("interrupted", "Interrupted: the connection dropped before the answer finished");
      },
    });
    composer.setRunning(true);
    return true;
  }

  function renderStored(messages) {
    const nodes = [];
    let answer = null;
    for (const m of messages) {
      if (m.role === "user") {
        nodes.push(userMessage(m.content));
        lastUser = m.content;
      } else if (m.role === "assistant") {
        answer = assistantMessage({ model: m.model || "", onRegenerate: regenerate });
        answer.setStatic(m.content);
        if (m.tokens) answer.setUsage({ completion_tokens: m.tokens });
        nodes.push(answer.el);
      }
    }
    replace(log, nodes.length ? nodes : emptyState());
    setLastAnswer(answer);
    scroll.toBottom();
  }

  async function open(id) {
    sock.stop();
    epoch++;
    shown = id;
    lastUser = null;
    lastAnswer = null;
    if (!id) {
      replace(log, emptyState());
      return;
    }
    const mine = epoch;
    replace(log, h("p.hint.chat-loading", { role: "status" }, "Loading the conversation…"));
    try {
      const { conversation } = await api(`/api/conversations/${encodeURIComponent(id)}`);
      if (mine === epoch) renderStored(conversation.messages || []);
    } catch (err) {
      if (mine !== epoch) return;
      shown = null; // the next message starts a new conversation
      replace(log, errorLine(err));
    }
  }

  const offs = [
    on("conversation", (id) => id !== shown && open(id)),
    on("new-chat", () => {
      setConversation(null);
      open(null);
      composer.focus();
    }),
    on("stop", () => sock.stop()),
    on("focus-input", () => composer.focus()),
  ];
  // Signed out: this view is gone; its socket and listeners must not outlive it.
  const offUser = on("user", (user) => {
    if (user) return;
    for (const off of [...offs, offUser]) off();
    picker.close();
    sock.close();
  });
  open(state.conversationId);

  return {
    show() {
      if (matchMedia("(pointer: fine)").matches) composer.focus();
    },
  };
}
