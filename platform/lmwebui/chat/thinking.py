"""Reasoning: parse native <think>…</think> output, split reasoning text into steps."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lmwebui.chat.events import ReasoningStep

OPEN, CLOSE = "<think>", "</think>"


@dataclass
class ThinkSplitter:
    """Streams text in; separates what is inside <think> tags from the answer.

    Handles tags split across tokens by holding back a possible partial tag.
    """

    in_think: bool = False
    pending: str = ""

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
        return "".join(answer), "".join(reasoning)

    def flush(self) -> tuple[str, str]:
        rest, self.pending = self.pending, ""
        if self.in_think:
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


def reasoning_step(index: int, content: str, *, native: bool) -> ReasoningStep:
    first_line = content.splitlines()[0] if content else ""
    title = re.sub(r"^\s*(?:\d+[.)]|[-*•]|Step\s+\d+:?)\s*", "", first_line)[:80] or "Thinking"
    return ReasoningStep(
        step_index=index,
        step_type="analysis" if index == 1 else "reasoning",
        title=title,
        content=content,
        metadata={"source": "native" if native else "reasoning_pass", "chars": len(content)},
    )


@dataclass
class StepSplitter:
    """Streams reasoning text in; yields each step once it is complete (the last piece may
    still grow, so it is held back until a blank line or the end)."""

    native: bool
    count: int = 0
    buffer: str = ""

    def feed(self, text: str, final: bool = False) -> list[ReasoningStep]:
        self.buffer += text
        steps = split_steps(self.buffer)
        if not final:
            if not self.buffer.endswith("\n\n"):
                steps = steps[:-1]
            if steps:
                consumed = self.buffer.rfind(steps[-1]) + len(steps[-1])
                self.buffer = self.buffer[consumed:]
        else:
            self.buffer = ""
        out = []
        for step in steps:
            self.count += 1
            out.append(reasoning_step(self.count, step, native=self.native))
        return out


REASONING_PASS_PROMPT = (
    "Before answering, think through the user's last message step by step. "
    "Write short numbered steps of reasoning only; do not give the final answer yet."
)


def answer_prompt(reasoning: str) -> str:
    return (
        "Here are your reasoning notes for the user's last message:\n"
        f"{reasoning.strip()}\n\nUsing them, give the final answer to the user directly."
    )
