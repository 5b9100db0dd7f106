"""The encoding of transcripts into the network's inputs, many at once.

This is the one encoding: training, evaluation and both classification engines call
:func:`encode_sequences`, and take the network's input dict from
:meth:`EncodedBatch.model_inputs`. The conventions (tokens, ORF search, window,
features) are those of :mod:`rnaigloo.encoding.tables`.

The work is done in whole-array NumPy passes over groups of transcripts
(:func:`groups`), so that NumPy's per-call cost is not paid for each transcript. The
transcripts of a group are joined into one array; every count is keyed by transcript
(``row * width + code``), and the ORF search keys stops and start codons by ``(row,
frame, position)`` so that one sorted search serves every transcript and frame at once.
It gives, value for value, what the per-transcript reference
(:mod:`rnaigloo.encoding.reference`) gives, and the property tests hold it to it bit for
bit; a change to the encoding is made in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnaigloo.architecture import FEATURES, NUCLEOTIDES, PROTEINS
from rnaigloo.encoding.tables import (
    ATG,
    CODON_AA,
    ENCODING_VERSION,
    ENCODING_VERSIONS,
    KMER_SIZES,
    N_AA_TOKENS,
    N_FEATURES,
    NO_CODON,
    NO_ORF,
    NUC_TOKEN,
    ORF_SEARCH,
    STOP_CODONS,
    TABLE_VERSIONS,
    Orf,
    check_hexamer_table,
    n_features,
)


@dataclass
class EncodedBatch:
    """Model inputs for a batch of transcripts, plus what the output needs of each."""

    nucleotides: np.ndarray  # (B, nuc_len) uint8
    proteins: np.ndarray  # (B, prot_len) uint8
    features: np.ndarray  # (B, n_features(version)) float32
    orfs: list[Orf]
    lengths: np.ndarray  # (B,) int64, transcript lengths

    def model_inputs(self, rows: np.ndarray | slice | None = None) -> dict[str, np.ndarray]:
        """The network's inputs, by input name: the rows ``rows`` (default: all), tokens as int32.

        The one place the input dict is made: classification (both engines), a model's
        own scoring and training's pipeline all take it from here.
        """
        if rows is None:
            rows = slice(None)
        return {
            NUCLEOTIDES: self.nucleotides[rows].astype(np.int32),
            PROTEINS: self.proteins[rows].astype(np.int32),
            FEATURES: self.features[rows],
        }

    def __len__(self) -> int:
        return len(self.orfs)


def encode_sequences(
    sequences: list[str],
    nuc_len: int,
    prot_len: int,
    version: int = ENCODING_VERSION,
    hexamer_table: np.ndarray | None = None,
) -> EncodedBatch:
    """Turn transcripts into model inputs.

    This is the one encoding used by training, evaluation and classification. Any
    sequence is accepted, the empty one included (it encodes as all padding).

    Args:
        sequences: nucleotide sequences (any case, ``U`` or ``T``, IUPAC letters).
        nuc_len: length of the nucleotide window.
        prot_len: number of amino acids given to the protein branch.
        version: the encoding version of the model (one of ``ENCODING_VERSIONS``).
        hexamer_table: the model's hexamer table (4,096 log-ratios), needed by the
            versions in ``TABLE_VERSIONS`` and ignored by the others.

    Returns:
        The batch, in the order of ``sequences``.

    Raises:
        ValueError: an unknown version, or a table missing or malformed.
    """
    if version not in ENCODING_VERSIONS:
        raise ValueError(f"unknown encoding version {version}; known: {ENCODING_VERSIONS}")
    table = check_hexamer_table(hexamer_table, version)
    b = len(sequences)
    nuc = np.zeros((b, nuc_len), dtype=np.uint8)
    prot = np.zeros((b, prot_len), dtype=np.uint8)
    feats = np.zeros((b, n_features(version)), dtype=np.float32)
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=b)
    orfs: list[Orf] = []
    for first, stop in groups(lengths):
        rows = slice(first, stop)
        orfs += _encode_group(sequences[rows], lengths[rows], nuc[rows], prot[rows], feats[rows], version, table)
    return EncodedBatch(nuc, prot, feats, orfs, lengths)


def orf_hexamer_counts(sequences: list[str], version: int) -> np.ndarray:
    """Counts of the 4,096 in-frame hexamers over the longest ORFs of ``sequences``
    (the ORF search of ``version``), as the hexamer score reads them: what a hexamer
    table (:func:`rnaigloo.encoding.tables.hexamer_log_ratios`) is learned from."""
    counts = np.zeros(4096, dtype=np.int64)
    for _, starts, codes, orfs in _group_orfs(sequences, version):
        _, _, pair_codes = _orf_hexamers(*_orf_codons(codes, starts, orfs))
        counts += np.bincount(pair_codes, minlength=4096)
    return counts


def incomplete_orfs(sequences: list[str], version: int) -> np.ndarray:
    """Whether each transcript's longest ORF (the ORF search of ``version``) lacks a start
    codon (a frame open to the 5' end won) or a stop codon (it runs off the 3' end).

    That is what a piece cut from inside a coding sequence looks like; a complete ORF,
    with an ATG and a stop, is False, whether or not an in-frame stop lies upstream of
    its ATG, and so is a transcript without any ORF. Boolean array, in input order.
    """
    if version not in ENCODING_VERSIONS:
        raise ValueError(f"unknown encoding version {version}; known: {ENCODING_VERSIONS}")
    out = np.zeros(len(sequences), dtype=bool)
    for rows, starts, codes, (orf_start, _, _, complete3) in _group_orfs(sequences, version):
        found = orf_start > 0
        has_atg = np.zeros(len(found), dtype=bool)
        has_atg[found] = codes[starts[:-1][found] + orf_start[found] - 1] == ATG
        out[rows] = found & (~has_atg | ~complete3)
    return out


def _group_orfs(sequences: list[str], version: int):
    """For each non-empty group of transcripts (:func:`groups`): its rows (a slice), the
    joined transcripts' starts and codon codes, and their longest ORFs (search of ``version``)."""
    five_prime_open, margin = ORF_SEARCH[version]
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    for first, stop in groups(lengths):
        lens = lengths[first:stop]
        starts, _, codes = _joined(sequences[first:stop], lens)
        yield slice(first, stop), starts, codes, _longest_orfs(codes, starts, lens, five_prime_open, margin)


# Transcripts encoded in one pass: bounds the temporary arrays (a few bytes per base and
# 4,096 counts per transcript for the hexamers), whatever the size of the whole batch.
GROUP_TRANSCRIPTS = 256
GROUP_BASES = 1 << 21


def groups(lengths: np.ndarray) -> list[tuple[int, int]]:
    """``(first, stop)`` row ranges of at most :data:`GROUP_TRANSCRIPTS` transcripts and
    about :data:`GROUP_BASES` bases (a longer transcript is a group of its own)."""
    out, first, bases = [], 0, 0
    for i, n in enumerate(lengths.tolist()):
        if i > first and (i - first >= GROUP_TRANSCRIPTS or bases + n > GROUP_BASES):
            out.append((first, i))
            first, bases = i, 0
        bases += n
    if first < len(lengths):
        out.append((first, len(lengths)))
    return out


def _joined(sequences: list[str], lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The transcripts joined: each one's first position (and the total at the end), tokens, codon codes."""
    starts = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    tokens = NUC_TOKEN[np.frombuffer("".join(sequences).encode("ascii", "replace"), dtype=np.uint8)]
    return starts, tokens, _codes(tokens, starts)


def _encode_group(
    sequences: list[str],
    lengths: np.ndarray,
    nuc: np.ndarray,
    prot: np.ndarray,
    feats: np.ndarray,
    version: int,
    table: np.ndarray | None,
) -> list[Orf]:
    """Fill zeroed rows ``nuc``, ``prot`` and ``feats`` for ``sequences`` (of ``lengths``); their ORFs, in order."""
    b = len(sequences)
    if b == 0:
        return []
    five_prime_open, margin = ORF_SEARCH[version]
    starts, tokens, codes = _joined(sequences, lengths)

    orfs = _longest_orfs(codes, starts, lengths, five_prime_open, margin)
    orf_start, orf_end, complete5, complete3 = orfs
    _windows(tokens, starts, lengths, orf_start, orf_end, nuc)
    _kmer_features(tokens, codes, starts, lengths, feats)
    codons = _orf_codons(codes, starts, orfs)
    _orf_features(codes, starts, lengths, orfs, codons, prot, feats)
    if version in TABLE_VERSIONS:
        _v4_features(tokens, codes, starts, lengths, orfs, codons, table, feats[:, N_FEATURES:])
    return [
        Orf(s, e, f5, f3) if s else NO_ORF
        for s, e, f5, f3 in zip(orf_start.tolist(), orf_end.tolist(), complete5.tolist(), complete3.tolist())
    ]


def _codes(tokens: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Codon code (0..63) at every base of the joined transcripts; 64 where the codon holds
    an N or runs past its transcript's end."""
    total = len(tokens)
    codes = np.full(total, NO_CODON, dtype=np.int16)
    if total >= 3:
        t = tokens.astype(np.int16) - 1
        codes[:-2] = 16 * t[:-2] + 4 * t[1:-1] + t[2:]
        bad = (tokens[:-2] == 5) | (tokens[1:-1] == 5) | (tokens[2:] == 5)
        codes[:-2][bad] = NO_CODON
    codes[_tail(starts, 2)] = NO_CODON
    return codes


def _tail(starts: np.ndarray, k: int) -> np.ndarray:
    """Positions among the last ``k`` bases of each transcript (those that exist)."""
    first, end = starts[:-1], starts[1:]
    pos = (end[:, None] - np.arange(1, k + 1)[None, :]).ravel()
    return pos[pos >= np.repeat(first, k)]


def _row(positions: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The transcript row of each position of the joined transcripts."""
    return np.searchsorted(starts, positions, side="right") - 1


def _longest_orfs(codes, starts, lengths, five_prime_open, margin):
    """Start, end (1-based), 5'- and 3'-completeness of each transcript's longest ORF (0: none)."""
    b = len(lengths)
    stop_keys, width = _stop_keys(codes, starts, lengths)
    atg_start = np.zeros(b, dtype=np.int64)
    atg_end = np.zeros(b, dtype=np.int64)
    atg5 = np.zeros(b, dtype=bool)
    atg3 = np.zeros(b, dtype=bool)
    atg_pos = np.flatnonzero(codes == ATG)
    if atg_pos.size:
        row = _row(atg_pos, starts)
        local = atg_pos - starts[row]
        frame = local % 3
        group = row * 3 + frame
        nxt = np.searchsorted(stop_keys, group * width + local)
        if stop_keys.size:
            found = stop_keys[np.minimum(nxt, stop_keys.size - 1)]
            has_stop = (nxt < stop_keys.size) & (found // width == group)
            before = stop_keys[np.maximum(nxt - 1, 0)]
            upstream = (nxt > 0) & (before // width == group)
            stop_end = found % width + 3
        else:
            has_stop = upstream = np.zeros(atg_pos.size, dtype=bool)
            stop_end = np.zeros(atg_pos.size, dtype=np.int64)
        n = lengths[row]
        ends = np.where(has_stop, stop_end, frame + 3 * ((n - frame) // 3))
        # per transcript: the longest, then the first to start
        order = np.lexsort((local, -(ends - local), row))
        first = order[np.r_[True, row[order][1:] != row[order][:-1]]]
        rows = row[first]
        atg_start[rows] = local[first] + 1
        atg_end[rows] = ends[first]
        atg5[rows] = upstream[first]
        atg3[rows] = has_stop[first]
    if not five_prime_open:
        return atg_start, atg_end, atg5, atg3

    atg_len = np.where(atg_start > 0, atg_end - atg_start + 1, 0)
    open_start, open_end, open3, open_len = _open_frames(lengths, stop_keys, width)
    use_open = (open_len > atg_len) & (open_len >= margin * atg_len)
    return (
        np.where(use_open, open_start, atg_start),
        np.where(use_open, open_end, atg_end),
        np.where(use_open, False, atg5),
        np.where(use_open, open3, atg3),
    )


def _stop_keys(codes, starts, lengths) -> tuple[np.ndarray, int]:
    """The stop codons keyed by ``(row, frame, position)``, sorted, and the key's position width."""
    width = int(lengths.max()) + 1
    stop_pos = np.flatnonzero((codes == STOP_CODONS[0]) | (codes == STOP_CODONS[1]) | (codes == STOP_CODONS[2]))
    stop_row = _row(stop_pos, starts)
    stop_local = stop_pos - starts[stop_row]
    return np.sort((stop_row * 3 + stop_local % 3) * width + stop_local), width


def _open_frames(lengths, stop_keys, width):
    """Start, end, 3'-completeness and length of each row's longest frame open to the 5' end (0: none)."""
    b = len(lengths)
    open_start = np.zeros(b, dtype=np.int64)
    open_end = np.zeros(b, dtype=np.int64)
    open3 = np.zeros(b, dtype=bool)
    open_len = np.zeros(b, dtype=np.int64)
    rows = np.arange(b, dtype=np.int64)
    for frame in range(3):  # ties: the first frame
        group = rows * 3 + frame
        nxt = np.searchsorted(stop_keys, group * width)
        if stop_keys.size:
            found = stop_keys[np.minimum(nxt, stop_keys.size - 1)]
            complete = (nxt < stop_keys.size) & (found // width == group)
        else:
            found = np.zeros(b, dtype=np.int64)
            complete = np.zeros(b, dtype=bool)
        end = np.where(complete, found % width + 3, frame + 3 * ((lengths - frame) // 3))
        sense = end - frame - np.where(complete, 3, 0)  # a frame that is only a stop codon is no ORF
        better = (frame < lengths) & (sense >= 3) & (end - frame > open_len)
        open_start[better] = frame + 1
        open_end[better] = end[better]
        open3[better] = complete[better]
        open_len[better] = (end - frame)[better]
    return open_start, open_end, open3, open_len


def _windows(tokens, starts, lengths, orf_start, orf_end, nuc) -> None:
    """Each transcript's window into the nucleotide input (as :mod:`rnaigloo.encoding.tables` defines it)."""
    nuc_len = nuc.shape[1]
    centre = np.where(orf_start > 0, (orf_start - 1 + orf_end) / 2, lengths / 2)
    shift = np.minimum(np.maximum(np.round(centre - nuc_len / 2), 0), lengths - nuc_len).astype(np.int64)
    shift[lengths <= nuc_len] = 0
    for i, (first, width) in enumerate(zip((starts[:-1] + shift).tolist(), np.minimum(lengths, nuc_len).tolist())):
        nuc[i, :width] = tokens[first : first + width]


def _row_counts(keys: np.ndarray, b: int, width: int) -> np.ndarray:
    """Counts per transcript row, shape ``(b, width)``, of ``keys`` = ``row * width + code``
    (a key of ``b * width`` or more is not counted)."""
    return np.bincount(keys, minlength=b * width)[: b * width].reshape(b, width)


def _put_frequencies(out: np.ndarray, counts: np.ndarray, totals: np.ndarray | None = None) -> None:
    """``out[i] = counts[i] / totals[i]`` (default: the row's sum) for rows with a total
    above 0, in float64 as the per-transcript features divide."""
    if totals is None:
        totals = counts.sum(axis=1)
    some = totals > 0
    out[some] = counts[some] / totals[some, None]


def _put_sparse_counts(out: np.ndarray, keys: np.ndarray, width: int, totals: np.ndarray) -> None:
    """:func:`_put_frequencies` of keyed counts for wide, sparse codes: only the codes seen are divided."""
    seen, counts = np.unique(keys, return_counts=True)
    row = seen // width
    out[row, seen % width] = counts / totals[row]


def _kmer_features(tokens, codes, starts, lengths, feats) -> None:
    """The k-mer frequencies (k = 2, 3, 4) of each row's whole transcript.

    One count over all bases, of the 4-mers; the 3-mers are their prefixes, plus the
    3-mers that no 4-mer continues (at the 3' end or before an N), and the 2-mers
    likewise from the 3-mers. Exact integer counts, as k-mer by k-mer.
    """
    b = len(lengths)
    total = len(tokens)
    bad = tokens == 5
    c4 = np.zeros((b, 256), dtype=np.int64)
    if total >= 4:
        # a codon and the base after it, in the same transcript, without an N
        key = codes[:-3].astype(np.int64)
        key *= 4
        key += tokens[3:]
        key += np.repeat(np.arange(b, dtype=np.int64) * 256 - 1, lengths)[:-3]  # tokens are bases + 1
        key[(codes[:-3] == NO_CODON) | bad[3:]] = b * 256
        ends = starts[1:][lengths >= 3] - 3
        key[ends[ends < total - 3]] = b * 256  # the last codon of a transcript: its next base is the next one's
        c4 = _row_counts(key, b, 256)
    n_pos = np.flatnonzero(bad)
    n_row = _row(n_pos, starts)
    c3 = c4.reshape(b, 64, 4).sum(axis=2)
    g, row = _unfollowed(n_pos, n_row, starts, lengths, 3)
    ok = codes[g] < NO_CODON
    c3 += _row_counts(row[ok] * 64 + codes[g[ok]], b, 64)
    c2 = c3.reshape(b, 16, 4).sum(axis=2)
    g, row = _unfollowed(n_pos, n_row, starts, lengths, 2)
    ok = ~bad[g] & ~bad[g + 1]
    g, row = g[ok], row[ok]
    c2 += _row_counts(row * 16 + 4 * (tokens[g].astype(np.int64) - 1) + tokens[g + 1] - 1, b, 16)
    pos = 5
    for counts in (c2, c3, c4):
        width = counts.shape[1]
        _put_frequencies(feats[:, pos : pos + width], counts)
        pos += width
    assert pos == 5 + sum(4**k for k in KMER_SIZES)


def _unfollowed(n_pos, n_row, starts, lengths, k) -> tuple[np.ndarray, np.ndarray]:
    """Positions and rows of the k-mers that no (k+1)-mer without an N continues: the last
    k-mer of each transcript and those just before an N (the caller drops those holding an N)."""
    last = lengths >= k
    g = np.concatenate([starts[1:][last] - k, n_pos - k])
    row = np.concatenate([np.flatnonzero(last), n_row])
    inside = g >= starts[row]
    return g[inside], row[inside]


def _orf_codons(codes, starts, orfs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The codons of each row's ORF, without its stop, as flat arrays: row, index j in
    the ORF, codon code; and the number of codons per row."""
    orf_start, orf_end, _, complete3 = orfs
    found = orf_start > 0
    # codon j of row r sits at base start - 1 + 3j
    last_base = np.where(complete3, orf_end - 3, orf_end)
    n_codons = np.where(found, np.maximum(last_base - orf_start + 1, 0) // 3, 0)
    row = np.repeat(np.arange(len(orf_start), dtype=np.int64), n_codons)
    j = np.arange(row.size, dtype=np.int64) - np.repeat(np.cumsum(n_codons) - n_codons, n_codons)
    codons = codes[starts[row] + orf_start[row] - 1 + 3 * j].astype(np.int64)
    return row, j, codons, n_codons


def _orf_hexamers(row, j, codons, n_codons) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ORFs' in-frame hexamers, codon j and j + 1 of the same ORF, neither with an N:
    their rows, the first codon's index j, and their codes (0..4095)."""
    known = codons < NO_CODON
    pair = (j[:-1] + 1 == j[1:]) & known[:-1] & known[1:]
    return row[:-1][pair], j[:-1][pair], (codons[:-1] * 64 + codons[1:])[pair]


def _orf_features(codes, starts, lengths, orfs, orf_codons, prot, feats) -> None:
    """The protein input and the ORF features of each row."""
    orf_start, orf_end, complete5, complete3 = orfs
    orf_len = np.where(orf_start > 0, orf_end - orf_start + 1, 0)
    b = len(lengths)
    found = orf_start > 0
    feats[found, 0] = np.log10(orf_len[found]) / 5.0
    feats[found, 1] = orf_len[found] / lengths[found]
    feats[found, 2] = 1.0
    feats[found, 3] = complete5[found]
    feats[found, 4] = complete3[found]
    pos = 5 + sum(4**k for k in KMER_SIZES)

    row, j, codons, n_codons = orf_codons
    amino = CODON_AA[codons]
    shown = j < prot.shape[1]
    prot[row[shown], j[shown]] = amino[shown]

    known = codons < NO_CODON
    _put_frequencies(feats[:, pos : pos + 64], _row_counts(np.where(known, row * 64 + codons, b * 64), b, 64))
    pos += 64
    aa = _row_counts(row * N_AA_TOKENS + amino - 1, b, N_AA_TOKENS)
    _put_frequencies(feats[:, pos : pos + N_AA_TOKENS], aa, n_codons)
    pos += N_AA_TOKENS
    pair_row, _, pair_codes = _orf_hexamers(*orf_codons)
    _put_sparse_counts(feats[:, pos : pos + 4096], pair_row * 4096 + pair_codes, 4096, np.bincount(pair_row, minlength=b))


def _v4_features(tokens, codes, starts, lengths, orfs, orf_codons, table, out) -> None:
    """The ``V4_FEATURES`` of each row into ``out``: lengths, UTR and open-frame shares,
    hexamer score, position statistics (float64 arithmetic, as the reference's)."""
    b = len(lengths)
    orf_start, orf_end, _, _ = orfs
    some = lengths > 0
    found = orf_start > 0
    out[some, 0] = np.log10(lengths[some]) / 5.0
    out[found, 1] = (orf_start[found] - 1) / lengths[found]
    out[found, 2] = (lengths[found] - orf_end[found]) / lengths[found]
    stop_keys, width = _stop_keys(codes, starts, lengths)
    open_len = _open_frames(lengths, stop_keys, width)[3]
    out[some, 3] = open_len[some] / lengths[some]
    # the score: table values are multiples of 1 / HEXAMER_SCALE, so the sums are exact
    pair_row, _, pair_codes = _orf_hexamers(*orf_codons)
    totals = np.bincount(pair_row, minlength=b)
    sums = np.bincount(pair_row, weights=table[pair_codes], minlength=b)
    scored = totals > 0
    out[scored, 4] = sums[scored] / totals[scored]
    # each base's count at the three codon positions of the whole transcript
    row = np.repeat(np.arange(b, dtype=np.int64), lengths)
    frame = (np.arange(len(tokens), dtype=np.int64) - starts[row]) % 3
    base = tokens <= 4
    at = _row_counts(row[base] * 12 + (tokens[base].astype(np.int64) - 1) * 3 + frame[base], b, 12).reshape(b, 4, 3)
    out[:, 5:9] = at.max(axis=2) / (at.min(axis=2) + 1)
    out[some, 9:13] = at[some].sum(axis=2) / lengths[some, None]
