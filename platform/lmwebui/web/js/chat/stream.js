// The chat socket (/ws/chat through api.js's openSocket, which reconnects) and one turn at
// a time on it. Tokens are handed to the page at most once per animation frame (the first
// at once), so the streaming message is re-rendered at most once per frame.
import { ApiError, openSocket } from "../api.js";

/** An error event (or a local failure) as an ApiError, so describeError reads it. */
export function eventError(ev) {
  return new ApiError(0, ev.error_code || "STREAM_ERROR", ev.detail || ev.message || "The stream failed", ev.retry_after ?? null);
}

/**
 * onConnection(kind): "reconnecting" (with {delay}), "reconnected", "closed".
 * Returns {start(request, handlers) → turn, get busy, close()}.
 */
export function chatSocket({ onConnection }) {
  let turn = null;
  let queued = null; // a start_stream waiting for the socket to open
  const sock = openSocket("/ws/chat", {
    onEvent: (ev) => turn?.handle(ev),
    onOpen: (handle) => {
      if (queued && handle.send(queued)) queued = null;
    },
    onStatus: (status, info) => {
      if (status === "reconnecting") {
        if (turn && !queued) turn.interrupt(); // a start not sent yet goes out on reopen
        onConnection("reconnecting", info);
      } else if (status === "open" && info.reconnected) onConnection("reconnected", info);
      else if (status === "closed") {
        if (turn) turn.interrupt();
        onConnection("closed", info);
      }
    },
  });

  function start(request, handlers) {
    const t = createTurn(handlers, () => {
      if (turn === t) turn = null;
      if (queued) queued = null;
    });
    t.cancelFrame = (frame) => sock.send(frame);
    turn = t;
    const frame = { action: "start_stream", data: request };
    if (!sock.send(frame)) queued = frame;
    return t;
  }

  return {
    start,
    get busy() {
      return !!turn;
    },
    /** Stop the running turn (Stop, Esc, a new chat, another conversation). */
    stop() {
      turn?.cancel();
    },
    close() {
      sock.close();
    },
  };
}

/**
 * Draws the streaming text at most once per animation frame, with a leading edge: the
 * first token after a quiet frame is drawn at once (a token is in the DOM within a
 * millisecond or two, not up to a frame later); tokens arriving after that draw, in the
 * same frame, wait for the next frame's callback and are drawn together.
 */
function frameThrottle(draw) {
  let raf = 0; // a frame callback is pending: this frame has drawn already
  let dirty = false; // text arrived after this frame's draw
  const tick = () => {
    raf = 0;
    if (dirty) {
      dirty = false;
      draw();
      raf = requestAnimationFrame(tick);
    }
  };
  return {
    request() {
      if (raf) dirty = true;
      else {
        draw();
        raf = requestAnimationFrame(tick);
      }
    },
    cancel() {
      if (raf) cancelAnimationFrame(raf);
      raf = 0;
      dirty = false;
    },
  };
}

function createTurn(handlers, onEnd) {
  let text = "";
  let sessionId = null;
  let ended = false;
  let stopping = false;
  const frames = frameThrottle(() => handlers.onText(text));
  const flush = () => {
    frames.cancel();
    handlers.onText(text);
  };
  const end = (fn, arg) => {
    if (ended) return;
    ended = true;
    frames.cancel();
    onEnd();
    fn(arg, text);
  };
  const t = {
    cancelFrame: null,
    get sessionId() {
      return sessionId;
    },
    handle(ev) {
      if (ended) return;
      if (ev.session_id) sessionId = ev.session_id;
      switch (ev.type) {
        case "reasoning_step":
          handlers.onStep(ev);
          break;
        case "token_update":
          text += ev.token || "";
          frames.request();
          break;
        case "final_answer":
          end(handlers.onFinal, ev);
          break;
        case "cancelled":
          flush();
          end(handlers.onCancelled);
          break;
        case "error":
          flush();
          end(handlers.onError, eventError(ev));
          break;
        default:
          break; // pong and future event types
      }
    },
    /** Ask the server to stop (it cancels generation on the replica). */
    cancel() {
      if (ended || stopping) return;
      stopping = true;
      handlers.onStopping?.();
      const sent = t.cancelFrame({ action: "cancel_session", data: sessionId ? { session_id: sessionId } : {} });
      if (!sent) {
        flush();
        end(handlers.onCancelled);
      }
    },
    /** The socket dropped under this turn: it cannot continue. */
    interrupt() {
      if (ended) return;
      flush();
      end(handlers.onInterrupted);
    },
  };
  return t;
}
