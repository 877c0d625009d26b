"""TextAssembler: UTF-8 safety and stop strings (pure Python, no model)."""

from __future__ import annotations

from lmwebui.inference.engine.text import TextAssembler


def feed(asm: TextAssembler, pieces: list[bytes]) -> list[str]:
    return [asm.push(p) for p in pieces]


def test_multibyte_character_split_over_tokens() -> None:
    data = "héllo €".encode()
    asm = TextAssembler()
    out = feed(asm, [bytes([b]) for b in data])
    assert "".join(out) + asm.flush() == "héllo €"
    assert all("\ufffd" not in piece for piece in out)
    assert out[1] == "" and out[2] == "é"  # first byte of "é" is held back


def test_stop_string_across_tokens_is_not_leaked() -> None:
    asm = TextAssembler(("</end>",))
    out = feed(asm, [b"Hello <", b"/en", b"d> tail"])
    assert out == ["Hello ", "", ""]
    assert asm.stopped
    assert asm.push(b"more") == "" and asm.flush() == ""


def test_partial_stop_prefix_is_released_when_it_does_not_match() -> None:
    asm = TextAssembler(("STOP",))
    assert asm.push(b"a ST") == "a "
    assert asm.push(b"OOP") == "STOOP"
    assert asm.push(b" ST") == " "
    assert asm.flush() == "ST"  # end of generation: held-back text is real output
    assert not asm.stopped


def test_earliest_of_several_stop_strings_wins() -> None:
    asm = TextAssembler(("world", "lo w"))
    assert asm.push(b"hello world") == "hel"
    assert asm.stopped


def test_incomplete_utf8_at_end_is_replaced() -> None:
    asm = TextAssembler()
    assert asm.push("€".encode()[:2]) == ""
    assert asm.flush() == "\ufffd"
