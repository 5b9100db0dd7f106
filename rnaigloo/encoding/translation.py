"""One transcript's tokens and codon codes, and the protein of an ORF.

``classify --protein-fasta`` writes the proteins of coding ORFs with these; the
per-transcript reference (:mod:`rnaigloo.encoding.reference`) builds on them. The batch
encoder does the same look-ups over many transcripts at once without them.
"""

from __future__ import annotations

import numpy as np

from rnaigloo.encoding.tables import CODON_LETTER, NO_CODON, NUC_TOKEN, Orf


def nucleotide_tokens(seq: str) -> np.ndarray:
    """Tokens (``uint8``, 1..5) of a sequence; see :mod:`rnaigloo.encoding.tables` for the mapping."""
    return NUC_TOKEN[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]


def codon_codes(tokens: np.ndarray) -> np.ndarray:
    """Code 0..63 of the codon starting at each position (64 where it has an N).

    The result has ``len(tokens) - 2`` entries (none for shorter inputs).
    """
    n = len(tokens)
    if n < 3:
        return np.zeros(0, dtype=np.int16)
    t = tokens.astype(np.int16) - 1
    codes = 16 * t[:-2] + 4 * t[1:-1] + t[2:]
    bad = (tokens[:-2] == 5) | (tokens[1:-1] == 5) | (tokens[2:] == 5)
    codes[bad] = NO_CODON
    return codes


def translate_orf(codes: np.ndarray, orf: Orf) -> str:
    """Protein sequence of an ORF (one-letter code, ``X`` for codons with an N)."""
    if not orf.found:
        return ""
    last = orf.end - 3 if orf.three_prime_complete else orf.end
    return "".join(CODON_LETTER[codes[orf.start - 1 : last - 2 : 3]].tolist())
