"""The "is this a digit?" meter, computed where a drawing is: its numbers as a checkpoint stores
them (ae.novelty measures them once, after training), two shares placed among the 10,000 test
digits', and what the meter says. numpy only: the server computes it without torch, and the
page's meter.js fills the same WORDS by the same rules.

    meter = Meter.of(meta)                        # None for a checkpoint without its numbers
    error_share, code_share = meter.shares(mse, code)
    verdict(error_share, code_share)              # one sentence
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ae.checkpoints import Meta


@dataclass(frozen=True)
class CodeNetwork:
    """The stored network: A (the code's directions), then its layers, in float64 as the page computes."""

    directions: np.ndarray
    layers: list  # [(weight (out, in), bias (out,))]

    @classmethod
    def of(cls, stored: dict) -> CodeNetwork:
        def layer(d):
            w = np.frombuffer(base64.b64decode(d["weight"]), "<f2").astype(np.float64).reshape(d["shape"])
            return w, np.frombuffer(base64.b64decode(d["bias"]), "<f4").astype(np.float64)

        return cls(np.asarray(stored["directions"], np.float64), [layer(d) for d in stored["layers"]])

    def logits(self, z) -> np.ndarray:
        h = np.atleast_2d(np.asarray(z, np.float64)) @ self.directions.T
        for i, (w, b) in enumerate(self.layers):
            h = h @ w.T + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0)
        return h

    def unsure(self, z) -> np.ndarray:
        """1 - the largest of the ten probabilities, summed from the others (no 1 - 0.99999...)."""
        logits = self.logits(z)
        terms = np.exp(logits - logits.max(1, keepdims=True))
        terms[np.arange(len(terms)), logits.argmax(1)] = 0  # the largest, exactly 1, apart
        others = terms.sum(1)
        return others / (1 + others)


def share_better(quantiles, value):
    """The share of real digits that score better than this value (or these values), in [0, 1]:
    linear between the quantiles, the first of equal ones (meter.js's shareBetter, the same rule)."""
    q = np.asarray(quantiles, np.float64)
    v = np.asarray(value, np.float64)
    hi = np.clip(np.searchsorted(q, v, side="left"), 1, len(q) - 1)
    span = q[hi] - q[hi - 1]
    inside = (hi - 1 + np.divide(v - q[hi - 1], span, out=np.zeros_like(v), where=span > 0)) / (len(q) - 1)
    out = np.where(v <= q[0], 0.0, np.where(v >= q[-1], 1.0, inside))
    return float(out) if np.ndim(value) == 0 else out


@dataclass(frozen=True)
class Meter:
    """A checkpoint's "is this a digit?": its stored quantiles and, where stored, its code's network."""

    error_quantiles: np.ndarray
    network: CodeNetwork | None = None
    unsure_quantiles: np.ndarray | None = None

    @classmethod
    def of(cls, meta: Meta) -> Meter | None:
        if not meta.error_quantiles:
            return None
        stored = meta.code_network
        if not stored:
            return cls(np.asarray(meta.error_quantiles, np.float64))
        return cls(np.asarray(meta.error_quantiles, np.float64), CodeNetwork.of(stored), np.asarray(stored["unsure_quantiles"], np.float64))

    def unsure(self, code) -> np.ndarray:
        return self.network.unsure(code)

    def nearest_class(self, codes) -> np.ndarray | None:
        """The digit the code's network finds each code most like; None without a network."""
        return None if self.network is None else self.network.logits(codes).argmax(1)

    def shares(self, error, code) -> tuple:
        """(the share of test digits rebuilt better, the share whose codes the network is surer of,
        or None without a network), for one drawing or for arrays of them."""
        by_error = share_better(self.error_quantiles, error)
        if self.network is None:
            return by_error, None
        by_code = share_better(self.unsure_quantiles, self.unsure(code))
        return by_error, (float(by_code[0]) if np.ndim(error) == 0 else by_code)


def for_the_page(meta: Meta) -> dict | None:
    """The numbers the page's meter computes with (meter.js), the same a Meter holds, and what it
    says (WORDS); None without."""
    return {"error_quantiles": meta.error_quantiles, "network": meta.code_network or None, "words": WORDS} if meta.error_quantiles else None


# What the meter says, in one place: Python's verdict reads these, and the page gets them with the
# meter's numbers (for_the_page) and fills them by the same rules (meter.js).

LINE = 0.975  # a share from here up calls a drawing unusual: each share is a rank among the test
#               digits, so at most 2.5% of them pass it by either score, 5% by both (the union bound)
STRONG = 0.99  # from here: "does not look like anything the model has seen"
FLOOR = 1e-12  # the meters' log scale starts here (a network can be that sure of a digit)
EVERY = 0.9995  # from here: "worse than every real digit", not a percentage
WORDS = {
    "line": LINE,
    "strong": STRONG,
    "every": EVERY,
    "floor": FLOOR,
    "error_score": "Reconstruction error",
    "error_axis": ["smaller error", "larger error"],
    "code_score": "How unsure a network reading the code is of every digit",
    "code_axis": ["sure of one digit", "unsure of every digit"],
    "code_alt": "A histogram of how unsure the code's network is of the test digits, and of your drawing",
    "by_code": "Its code looks less like any one digit's than {than}",
    "by_code_every": "any real digit's",
    "by_code_share": "{share} of real digits' codes",
    "by_error": "Rebuilt worse than {than}",
    "by_error_every": "every real digit",
    "by_error_share": "{share} of real digits",
    "strong_tail": "this does not look like anything the model has seen.",
    "unusual_tail": "an unusual digit, or not a digit at all.",
    "digit": "Rebuilt as well as {error} of real digits{code}: it looks like a digit to this model.",
    "digit_code": ", and its code looks like one digit's as clearly as {code} of theirs",
    "caption": "{score}: yours (orange line) is larger than {share} of the 10,000 test digits' (blue)",
    "caption_empty": "{score}: the 10,000 test digits' (blue) and yours (orange line)",
    "empty": "Draw something: its reconstruction error and its code are placed among the real digits' here.",
}


def percent(share: float) -> str:
    """'62%', or '99.7%' near the top, where a tenth of a percent matters; halves round up (as the page's)."""
    if share >= WORDS["strong"]:
        return f"{math.floor(1000 * share + 0.5) / 10:.1f}%"
    return f"{math.floor(100 * share + 0.5)}%"


def verdict(error_share: float, code_share: float | None = None) -> str:
    """What the shares mean, in one line, naming the score that spoke (meter.js fills the same WORDS)."""
    w = WORDS
    by_code = code_share is not None and code_share > error_share
    top = code_share if by_code else error_share
    if top >= w["line"]:
        kind = "by_code" if by_code else "by_error"
        than = w[f"{kind}_every"] if top >= w["every"] else w[f"{kind}_share"].format(share=percent(top))
        return w[kind].format(than=than) + ": " + (w["strong_tail"] if top >= w["strong"] else w["unusual_tail"])
    code = "" if code_share is None else w["digit_code"].format(code=percent(1 - code_share))
    return w["digit"].format(error=percent(1 - error_share), code=code)


def meter_caption(score: str, share: float | None) -> str:
    """The line under a meter: which score, and where this drawing's falls (meter.js fills the same WORDS)."""
    if share is None:
        return WORDS["caption_empty"].format(score=score)
    return WORDS["caption"].format(score=score, share=percent(share))
