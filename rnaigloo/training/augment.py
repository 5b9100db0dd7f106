"""Training augmentation: transcripts changed on the fly so the network cannot lean on artefacts."""

from __future__ import annotations

import numpy as np

from rnaigloo.encoding.features import Orf


def crop_flanks(seq: str, orf: Orf, rng: np.random.Generator) -> str:
    """A copy of ``seq`` with a random share of each flank of its longest ORF cut off.

    The ORF itself is kept whole, so it stays the longest ORF and the label stays
    true; without an ORF the two halves of the transcript are the flanks. Used to
    show the network transcripts with shorter, varied UTRs (partial assemblies,
    species with short UTRs), so that it cannot lean on UTR length.
    """
    n = len(seq)
    if orf.found:
        left, right = orf.start - 1, orf.end
    else:
        left = right = n // 2
    start = int(rng.integers(0, left + 1))
    end = n - int(rng.integers(0, n - right + 1))
    return seq[start:end]

