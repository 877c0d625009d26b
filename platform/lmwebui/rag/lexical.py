"""Text for the BM25 index. Milvus's standard analyzer splits on spaces and punctuation,
which leaves Chinese/Japanese runs as one token: those runs are indexed (and queried) as
overlapping character bigrams, the classic CJK full-text approach."""

from __future__ import annotations

import re

# English function words: they match everywhere and drown BM25's signal. Spelled out (Milvus
# Lite has no built-in "_english_" list); the analyzer drops them from documents and queries.
_STOP = """a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours yourself yourselves"""
STOP_WORDS = frozenset(_STOP.split())

_CJK_RUN = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _bigrams(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def lexical_text(text: str) -> str:
    return _CJK_RUN.sub(_bigrams, text)


def has_terms(text: str) -> bool:
    """True when the text has a word that is not a stop word (BM25 has something to match)."""
    return any(w not in STOP_WORDS for w in re.findall(r"\w+", text.lower()))
