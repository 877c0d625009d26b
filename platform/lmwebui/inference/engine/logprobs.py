"""Log probabilities of a sampled token (OpenAI's ``logprobs`` / ``top_logprobs``).

Computed on the scheduler thread from the decoded row's logits, right after sampling and
only for sequences that asked (``SamplingParams.logprobs``): one log-softmax over the
vocabulary (~1 ms for 262k entries) and, for alternatives, one partial sort.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .datatypes import TokenChoice, TokenLogprob
from .native import NativeContext, NativeModel


def row_logprob(
    ctx: NativeContext, model: NativeModel, row: int, token: int, k: int
) -> TokenLogprob:
    """``token`` sampled from batch row ``row`` of the last decode (read before the next)."""
    return token_logprob(ctx.logits(row, model.n_vocab), token, k, model.piece)


def token_logprob(
    logits: npt.NDArray[np.float32], token: int, k: int, piece: Callable[[int], bytes]
) -> TokenLogprob:
    """``token``'s log probability and the ``k`` likeliest tokens' (best first; ties by
    id). Every value is ``logit - logsumexp(logits)`` of the same row, so the greedy
    token's log probability equals the best alternative's exactly."""
    peak = float(logits.max())
    lse = peak + math.log(float(np.exp(logits - peak).sum(dtype=np.float64)))

    def choice(t: int) -> TokenChoice:
        return TokenChoice(t, piece(t), min(float(logits[t]) - lse, 0.0))

    top: tuple[TokenChoice, ...] = ()
    if k > 0:
        k = min(k, len(logits))
        ids = np.argpartition(logits, -k)[-k:]
        ids = ids[np.lexsort((ids, -logits[ids]))]
        top = tuple(choice(int(t)) for t in ids)
    return TokenLogprob(choice(token), top)
