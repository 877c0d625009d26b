"""The one client file-name sanitiser and the one byte formatter."""

from __future__ import annotations

from lmwebui.filenames import clean_filename, human_size


def test_clean_filename_keeps_a_readable_base_name() -> None:
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\Users\\me\\Résumé  final.pdf") == "Résumé final.pdf"
    assert clean_filename("a\x00b\x1f.txt") == "ab.txt"
    assert clean_filename(" ..hidden. ") == "hidden"
    assert clean_filename("x" * 300 + ".txt") == "x" * 255
    for empty in (None, "", "/", "..", "dir/"):
        assert clean_filename(empty) == "upload"
    assert clean_filename("", default="") == ""


def test_human_size_uses_decimal_units() -> None:
    assert human_size(512) == "512 B"
    assert human_size(10_000) == "10.0 KB"
    assert human_size(4_200_000_000) == "4.2 GB"
    assert human_size(3 * 10**15) == "3000.0 TB"
