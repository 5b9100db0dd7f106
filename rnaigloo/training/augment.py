"""Training augmentation: transcripts changed on the fly so the network cannot lean on artefacts.

Two kinds, each drawn from the generator the training pipeline seeds by
``(seed, epoch, row)``: :func:`crop_flanks` shortens the UTRs around the longest ORF;
:func:`random_piece` shows what de novo assemblies give, a random window of
300-1,500 nt or the transcript with a random 20-80 % of its length cut from the 5' or
the 3' end (at least 200 nt kept). Pieces of coding transcripts keep at least
:data:`MIN_CODING_OVERLAP` nt of the longest ORF (all of it when it is shorter), so that
a piece labelled coding still holds coding sequence; pieces of non-coding transcripts
are unconstrained. Transcripts shorter than :data:`FRAGMENT_MIN` are left whole.
"""

from __future__ import annotations

import numpy as np

from rnaigloo.encoding.tables import Orf

FRAGMENT_MIN, FRAGMENT_MAX = 300, 1500
TRUNCATE_MIN, TRUNCATE_MAX, TRUNCATE_KEEP = 0.2, 0.8, 200
MIN_CODING_OVERLAP = 150
KINDS = ("window", "5prime", "3prime")


def crop_flanks(seq: str, orf: Orf, rng: np.random.Generator) -> str:
    """A copy of ``seq`` with a random share of each flank of its longest ORF cut off.

    The ORF itself is kept whole, so the label stays true (it stays the longest ATG
    ORF; a crop can open a longer frame at the new 5' end, as assemblies do); without
    an ORF the two halves of the transcript are the flanks. Used to show the network
    transcripts with shorter, varied UTRs (partial assemblies, species with short
    UTRs), so that it cannot lean on UTR length.
    """
    n = len(seq)
    if orf.found:
        left, right = orf.start - 1, orf.end
    else:
        left = right = n // 2
    start = int(rng.integers(0, left + 1))
    end = n - int(rng.integers(0, n - right + 1))
    return seq[start:end]


def random_piece(seq: str, orf: Orf, coding: bool, rng: np.random.Generator) -> str:
    """A window or a 5'/3' truncation of ``seq`` (see the module notes), chosen with equal odds."""
    n = len(seq)
    if n < FRAGMENT_MIN:
        return seq
    kind = KINDS[int(rng.integers(len(KINDS)))]
    # the part of the longest ORF a coding piece must keep: [lo, hi), 0-based
    if coding and orf.found:
        need = min(orf.length, MIN_CODING_OVERLAP)
        lo, hi = orf.start - 1, orf.end
    else:
        need, lo, hi = 0, 0, n
    if kind == "window":
        w = int(rng.integers(FRAGMENT_MIN, min(FRAGMENT_MAX, n) + 1))
        first = max(0, lo + need - w) if need else 0
        last = min(n - w, hi - need) if need else n - w
        start = int(rng.integers(first, max(first, last) + 1))
        return seq[start : start + w]
    cut = min(int(round(rng.uniform(TRUNCATE_MIN, TRUNCATE_MAX) * n)), n - TRUNCATE_KEEP)
    if kind == "5prime":
        if need:
            cut = min(cut, hi - need)
        return seq[max(cut, 0) :]
    if need:
        cut = min(cut, n - (lo + need))
    return seq[: n - max(cut, 0)]
