"""Reasoning: parse native <think>…</think> output, split reasoning text into steps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPEN, CLOSE = "<think>", "</think>"


@dataclass
class ThinkSplitter:
    """Streams text in; separates what is inside <think> tags from the answer.

    Handles tags split across tokens by holding back a possible partial tag.
    """

    in_think: bool = False
    pending: str = ""
    reasoning: list[str] = field(default_factory=list)

    def feed(self, text: str) -> tuple[str, str]:
        """Returns (answer_text, reasoning_text) that are certain so far."""
        buf = self.pending + text
        self.pending = ""
        answer: list[str] = []
        reasoning: list[str] = []
        while buf:
            tag = CLOSE if self.in_think else OPEN
            idx = buf.find(tag)
            if idx >= 0:
                (reasoning if self.in_think else answer).append(buf[:idx])
                buf = buf[idx + len(tag) :]
                self.in_think = not self.in_think
                continue
            hold = _partial_suffix(buf, tag)
            (reasoning if self.in_think else answer).append(buf[: len(buf) - hold])
            self.pending = buf[len(buf) - hold :]
            break
        r = "".join(reasoning)
        if r:
            self.reasoning.append(r)
        return "".join(answer), r

    def flush(self) -> tuple[str, str]:
        rest, self.pending = self.pending, ""
        if self.in_think:
            self.reasoning.append(rest)
            return "", rest
        return rest, ""


def _partial_suffix(buf: str, tag: str) -> int:
    for n in range(min(len(tag) - 1, len(buf)), 0, -1):
        if buf.endswith(tag[:n]):
            return n
    return 0


_STEP_SPLIT = re.compile(r"\n\s*\n|\n(?=\s*(?:\d+[.)]|[-*•]|Step\s+\d+)\s)")


def split_steps(text: str) -> list[str]:
    """Reasoning text → steps (blank lines, numbered or bulleted lines)."""
    return [s.strip() for s in _STEP_SPLIT.split(text) if s and s.strip()]


def step_event_fields(index: int, content: str, *, native: bool) -> dict[str, object]:
    first_line = content.splitlines()[0] if content else ""
    title = re.sub(r"^\s*(?:\d+[.)]|[-*•]|Step\s+\d+:?)\s*", "", first_line)[:80] or "Thinking"
    step_type = "analysis" if index == 1 else "reasoning"
    return {
        "step_index": index,
        "step_type": step_type,
        "title": title,
        "content": content,
        "metadata": {"source": "native" if native else "reasoning_pass", "chars": len(content)},
    }


REASONING_PASS_PROMPT = (
    "Before answering, think through the user's last message step by step. "
    "Write short numbered steps of reasoning only; do not give the final answer yet."
)


def answer_prompt(reasoning: str) -> str:
    return (
        "Here are your reasoning notes for the user's last message:\n"
        f"{reasoning.strip()}\n\nUsing them, give the final answer to the user directly."
    )
