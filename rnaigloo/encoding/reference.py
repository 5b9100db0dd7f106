"""The encoding one transcript at a time: the reference the batch encoder is held to.

Nothing in the classify or training path calls these functions; production encodes
through :func:`rnaigloo.encoding.encoder.encode_sequences`, which does the same work over
many transcripts at once in whole-array passes. These functions are written for
reading, one transcript and one rule at a time, and are kept for two uses:

* the property tests (``tests/test_features_properties.py``) hold the batch encoder to
  them bit for bit on arbitrary sequences: tokens, ORFs, window, protein and every
  feature (:func:`longest_orf`, :func:`window_start`, :func:`orf_protein_tokens`,
  :func:`transcript_features`); ``tests/test_features.py`` checks them against values
  worked out by hand;
* the benchmarks take a transcript's longest ORF from :func:`longest_orf`: the ORF-length
  baseline of the accuracy and species benchmarks, and the small-ORF set of the bisect
  runs.

A change to the encoding is made here and in :mod:`rnaigloo.encoding.encoder` alike
(the property tests fail until both agree). The conventions are those of
:mod:`rnaigloo.encoding.tables`.
"""

from __future__ import annotations

import numpy as np

from rnaigloo.encoding.tables import (
    ATG,
    CODON_AA,
    KMER_SIZES,
    N_AA_TOKENS,
    NO_CODON,
    NO_ORF,
    OPEN_FRAME_MARGIN,
    STOP_CODONS,
    TABLE_VERSIONS,
    Orf,
    check_hexamer_table,
    n_features,
)
from rnaigloo.encoding.translation import codon_codes


def longest_orf(
    tokens: np.ndarray,
    codes: np.ndarray | None = None,
    five_prime_open: bool = True,
    margin: float = OPEN_FRAME_MARGIN,
) -> Orf:
    """The longest forward-strand ORF (see :mod:`rnaigloo.encoding.tables`).

    Args:
        tokens: nucleotide tokens.
        codes: their codon codes (:func:`codon_codes`), computed when not given.
        five_prime_open: also consider frames open to the 5' end (encoding versions 2
            and 3); False gives the ATG-only search of version 1.
        margin: a 5'-open frame is reported only when it is longer than the longest ATG
            ORF and at least ``margin`` times as long (3: ``OPEN_FRAME_MARGIN``; 2: 1.0).
    """
    if codes is None:
        codes = codon_codes(tokens)
    stops = np.flatnonzero((codes == STOP_CODONS[0]) | (codes == STOP_CODONS[1]) | (codes == STOP_CODONS[2]))
    best = _longest_atg_orf(len(tokens), codes, stops)
    if five_prime_open:
        open_frame = _longest_open_frame(len(tokens), stops)
        if open_frame.length > best.length and open_frame.length >= margin * best.length:
            return open_frame
    return best


def _longest_open_frame(n: int, stops: np.ndarray) -> Orf:
    """The longest frame read from the 5' end to its first stop (or the 3' end); ties: frame 1 first."""
    best = NO_ORF
    for frame in range(min(3, n)):
        in_frame = stops[stops % 3 == frame]
        if in_frame.size:
            end, complete = int(in_frame[0]) + 3, True
        else:
            end, complete = frame + 3 * ((n - frame) // 3), False
        sense = end - frame - (3 if complete else 0)  # a frame that is only a stop codon is no ORF
        if sense >= 3 and end - frame > best.length:
            best = Orf(start=frame + 1, end=end, five_prime_complete=False, three_prime_complete=complete)
    return best


def _longest_atg_orf(n: int, codes: np.ndarray, stops: np.ndarray) -> Orf:
    """The longest ATG-initiated ORF (the version 1 search)."""
    starts = np.flatnonzero(codes == ATG)  # ascending, so argmax breaks ties by earliest start
    if starts.size == 0:
        return NO_ORF
    # One search for all three frames: positions keyed by (frame, position).
    stop_keys = np.sort((stops % 3) * n + stops)
    start_frames = starts % 3
    nxt = np.searchsorted(stop_keys, start_frames * n + starts)
    if stop_keys.size:
        found = stop_keys[np.minimum(nxt, stop_keys.size - 1)]
        has_stop = (nxt < stop_keys.size) & (found // n == start_frames)
        stop_ends = found % n + 3
        before = stop_keys[np.maximum(nxt - 1, 0)]
        upstream = (nxt > 0) & (before // n == start_frames)
    else:
        has_stop = upstream = np.zeros(starts.size, dtype=bool)
        stop_ends = np.zeros(starts.size, dtype=np.int64)
    last_full = start_frames + 3 * ((n - start_frames) // 3)  # end of the last whole codon
    ends = np.where(has_stop, stop_ends, last_full)
    i = int(np.argmax(ends - starts))
    return Orf(
        start=int(starts[i]) + 1,
        end=int(ends[i]),
        five_prime_complete=bool(upstream[i]),
        three_prime_complete=bool(has_stop[i]),
    )


def orf_protein_tokens(codes: np.ndarray, orf: Orf) -> np.ndarray:
    """Amino-acid tokens of an ORF's translation, without the stop codon."""
    if not orf.found:
        return np.zeros(0, dtype=np.uint8)
    last = orf.end - 3 if orf.three_prime_complete else orf.end
    return CODON_AA[codes[orf.start - 1 : last - 2 : 3]]


def kmer_frequencies(tokens: np.ndarray, k: int) -> np.ndarray:
    """Frequencies of the 4**k k-mers (``float32``, summing to 1, or all 0).

    k-mers holding an N are left out; indices follow ``ACGT`` order, so for k = 2 the
    entries are AA, AC, AG, AT, CA, ... TT.
    """
    n = len(tokens)
    out = np.zeros(4**k, dtype=np.float32)
    if n < k:
        return out
    t = tokens.astype(np.int32) - 1
    valid = tokens != 5
    idx = np.zeros(n - k + 1, dtype=np.int32)
    ok = np.ones(n - k + 1, dtype=bool)
    for j in range(k):
        idx = idx * 4 + t[j : n - k + 1 + j]
        ok &= valid[j : n - k + 1 + j]
    counts = np.bincount(idx[ok], minlength=4**k)
    total = counts.sum()
    if total:
        out[:] = counts / total
    return out


def _kmer_counts(tokens: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of 2-, 3- and 4-mers without N, reusing the codon codes (3-mers)."""
    n = len(tokens)
    t = tokens.astype(np.int16) - 1
    valid = tokens != 5
    c2 = np.bincount((4 * t[:-1] + t[1:])[valid[:-1] & valid[1:]], minlength=16) if n >= 2 else np.zeros(16)
    c3 = np.bincount(codes, minlength=65)[:64] if n >= 3 else np.zeros(64)
    if n >= 4:
        ok4 = (codes[:-1] < NO_CODON) & valid[3:]
        c4 = np.bincount((codes[:-1] * 4 + t[3:])[ok4], minlength=256)
    else:
        c4 = np.zeros(256)
    return c2, c3, c4


def window_start(length: int, orf: Orf, nuc_len: int) -> int:
    """0-based start of the model's window (see :mod:`rnaigloo.encoding.tables`)."""
    if length <= nuc_len:
        return 0
    centre = (orf.start - 1 + orf.end) / 2 if orf.found else length / 2
    return int(min(max(round(centre - nuc_len / 2), 0), length - nuc_len))


def transcript_features(
    tokens: np.ndarray,
    codes: np.ndarray,
    orf: Orf,
    protein: np.ndarray,
    out: np.ndarray | None = None,
    version: int = 1,
    hexamer_table: np.ndarray | None = None,
) -> np.ndarray:
    """The hand-made feature vector of encoding ``version``, in :func:`feature_names` order.

    ``out``, if given, must be a zeroed float32 vector of :func:`n_features` entries; it
    is filled and returned. Version 4 needs the model's ``hexamer_table``.
    """
    table = check_hexamer_table(hexamer_table, version)
    if out is None:
        out = np.zeros(n_features(version), dtype=np.float32)
    n = len(tokens)
    if orf.found:
        out[0] = np.log10(orf.length) / 5.0
        out[1] = orf.length / n
        out[2] = 1.0
        out[3] = float(orf.five_prime_complete)
        out[4] = float(orf.three_prime_complete)
    pos = 5
    for k, counts in zip(KMER_SIZES, _kmer_counts(tokens, codes)):
        total = counts.sum()
        if total:
            out[pos : pos + 4**k] = counts / total
        pos += 4**k
    if orf.found:
        last = orf.end - 3 if orf.three_prime_complete else orf.end
        orf_codons = codes[orf.start - 1 : last - 2 : 3]
        orf_codons = orf_codons[orf_codons < NO_CODON]
        if orf_codons.size:
            out[pos : pos + 64] = np.bincount(orf_codons, minlength=64) / orf_codons.size
    pos += 64
    if protein.size:
        out[pos : pos + N_AA_TOKENS] = np.bincount(protein - 1, minlength=N_AA_TOKENS)[:N_AA_TOKENS] / protein.size
    pos += N_AA_TOKENS
    if orf.found:
        # in-frame hexamers (codon pairs) of the ORF: a dense layer over these
        # frequencies can express CPAT's hexamer log-likelihood score
        codons = codes[orf.start - 1 : (orf.end - 3 if orf.three_prime_complete else orf.end) - 2 : 3].astype(np.int32)
        pairs = codons[:-1] * 64 + codons[1:]
        pairs = pairs[(codons[:-1] < NO_CODON) & (codons[1:] < NO_CODON)]
        if pairs.size:
            out[pos : pos + 4096] = np.bincount(pairs, minlength=4096) / pairs.size
    pos += 4096
    if version in TABLE_VERSIONS:
        _v4_features(tokens, codes, orf, table, out[pos:])
    return out


def _v4_features(tokens: np.ndarray, codes: np.ndarray, orf: Orf, table: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` with the ``V4_FEATURES`` of a transcript and its (ATG) ORF."""
    n = len(tokens)
    if n:
        out[0] = np.log10(n) / 5.0
    if orf.found:
        out[1] = (orf.start - 1) / n
        out[2] = (n - orf.end) / n
        last = orf.end - 3 if orf.three_prime_complete else orf.end
        codons = codes[orf.start - 1 : last - 2 : 3].astype(np.int64)
        ok = (codons[:-1] < NO_CODON) & (codons[1:] < NO_CODON)
        pairs = (codons[:-1] * 64 + codons[1:])[ok]
        if pairs.size:
            out[4] = table[pairs].sum() / pairs.size
    stops = np.flatnonzero((codes == STOP_CODONS[0]) | (codes == STOP_CODONS[1]) | (codes == STOP_CODONS[2]))
    if n:
        out[3] = _longest_open_frame(n, stops).length / n
    for i, base in enumerate((1, 2, 3, 4)):
        at = [int((tokens[frame::3] == base).sum()) for frame in range(3)]
        out[5 + i] = max(at) / (min(at) + 1)
        out[9 + i] = sum(at) / n if n else 0.0
