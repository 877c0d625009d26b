"""Incremental token-bytes -> text assembly with UTF-8 safety and stop strings."""

from __future__ import annotations

import codecs


class TextAssembler:
    """Turns a stream of token byte pieces into text chunks.

    * UTF-8 safe: bytes of a character split over several tokens are held back until the
      character is complete (an incremental decoder; invalid bytes become U+FFFD).
    * Stop strings: the output is cut right before the first occurrence of any stop string,
      and a suffix that could still grow into a stop string is held back, so no partial stop
      string ever reaches the caller.
    """

    def __init__(self, stop: tuple[str, ...] = ()) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = tuple(s for s in stop if s)
        self._pending = ""  # decoded text not yet emitted (only used with stop strings)
        self.stopped = False

    def push(self, data: bytes) -> str:
        """Feed one token's bytes; returns the text that is safe to emit now.

        After a stop string was found ``stopped`` is True and nothing more is emitted.
        """
        if self.stopped:
            return ""
        text = self._decoder.decode(data)
        if not self._stops:
            return text
        self._pending += text
        return self._scan(final=False)

    def flush(self) -> str:
        """End of generation: emit whatever is held back."""
        if self.stopped:
            return ""
        tail = self._decoder.decode(b"", final=True)
        if not self._stops:
            return tail
        self._pending += tail
        return self._scan(final=True)

    def _scan(self, *, final: bool) -> str:
        pending = self._pending
        cut = -1
        for s in self._stops:
            i = pending.find(s)
            if i != -1 and (cut == -1 or i < cut):
                cut = i
        if cut != -1:
            self.stopped = True
            self._pending = ""
            return pending[:cut]
        keep = 0 if final else self._holdback(pending)
        emit_upto = len(pending) - keep
        self._pending = pending[emit_upto:]
        return pending[:emit_upto]

    def _holdback(self, text: str) -> int:
        """Length of the longest suffix of ``text`` that is a proper prefix of a stop string."""
        best = 0
        for s in self._stops:
            for k in range(min(len(s) - 1, len(text)), best, -1):
                if text.endswith(s[:k]):
                    best = k
                    break
        return best
