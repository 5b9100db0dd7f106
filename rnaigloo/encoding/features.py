"""Encodings and hand-made features of transcripts.

Plain NumPy, never TensorFlow: the NumPy engine, the benchmarks and the tests use it
without paying for a deep-learning import. This is the one encoding: training,
evaluation and both classification engines call :func:`encode_sequences`.

Conventions used throughout:

* Nucleotide tokens: ``A=1, C=2, G=3, T=4, N=5`` and ``0`` for padding. ``U`` is
  read as ``T``, lowercase as uppercase, and every other letter (IUPAC codes such as
  ``R`` or ``Y``) as ``N``: a letter is never dropped, so positions never shift.
* Amino-acid tokens: the 20 standard residues in ``AA_ALPHABET`` order are ``1..20``;
  ``21`` is ``X``, a codon holding an ``N``; ``0`` is padding.
* The longest ORF is searched on the forward strand only. It starts at ``ATG`` and ends
  with the first in-frame stop codon (``TAA``, ``TAG``, ``TGA``), which it includes. An
  ORF with no stop before the 3' end still counts and is 3'-open. Ties go to the ORF
  that starts first. Coordinates are 1-based and inclusive.
* 5'-open frames (encoding versions 2 and 3): a reading frame with no stop codon
  between the transcript's 5' end and its first stop is open to the 5' end, as in a
  fragment or a transcript whose start codon was not assembled. Such a frame is a
  candidate too, from its first whole codon (position 1, 2 or 3, whatever the codon) to
  its first stop (or the 3' end); it is 5'-partial (``five_prime_complete`` false).
  Version 3 reports it only when it is at least ``OPEN_FRAME_MARGIN`` (1.5) times as long
  as the longest ATG ORF: a complete transcript keeps its ATG-initiated CDS even when a
  UTR frame with no stop, or the CDS's own frame read from the 5' end, is a little
  longer, while a fragment, whose real frame runs through it, still gets that frame.
  Version 2 (models of rnaigloo 0.2 before this rule) took the open frame whenever it
  was longer. Version 1 models (rnaigloo 0.1) are encoded with the ATG-only search.
* Hand-made features (``FEATURE_NAMES``) are computed on the whole transcript: ORF
  length, coverage and completeness; k-mer frequencies (k = 2..4); codon usage,
  amino-acid composition and in-frame hexamer (codon-pair) frequencies of the ORF.
* The model sees one window of ``nuc_len`` nucleotides, the same for every branch: the
  whole transcript when it fits, otherwise the window centred on the longest ORF
  (centred on the transcript when it has no ORF), shifted to stay inside it. The
  protein branch sees the N-terminal ``prot_len`` residues of that same ORF.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnaigloo.architecture import FEATURES, NUCLEOTIDES, PROTEINS

# Raised whenever the encoding or the feature set changes: a model records the version
# it was trained with, and the loader refuses a model of another version.
ENCODING_VERSION = 3
# Versions this rnaigloo can still encode for; they differ only in the ORF search:
# 1 ATG only, 2 a 5'-open frame wins when longer, 3 when OPEN_FRAME_MARGIN times longer.
ENCODING_VERSIONS = (1, 2, 3)
# Version 3: how many times longer than the longest ATG ORF a 5'-open frame must be to win
# (chosen on the validation split, benchmarks/TUNING.md).
OPEN_FRAME_MARGIN = 1.5
_ORF_SEARCH = {1: (False, 1.0), 2: (True, 1.0), 3: (True, OPEN_FRAME_MARGIN)}  # (open frames, margin)

NUC_ALPHABET = "ACGTN"
AA_ALPHABET = "ACDEFGHIKLMNPQRSTVWY"
N_NUC_TOKENS = len(NUC_ALPHABET)  # 5, token 0 is padding
N_AA_TOKENS = len(AA_ALPHABET) + 1  # 21 (X included), token 0 is padding
KMER_SIZES = (2, 3, 4)

_STANDARD_CODE = (
    "TTT F TTC F TTA L TTG L TCT S TCC S TCA S TCG S TAT Y TAC Y TAA * TAG * "
    "TGT C TGC C TGA * TGG W CTT L CTC L CTA L CTG L CCT P CCC P CCA P CCG P "
    "CAT H CAC H CAA Q CAG Q CGT R CGC R CGA R CGG R ATT I ATC I ATA I ATG M "
    "ACT T ACC T ACA T ACG T AAT N AAC N AAA K AAG K AGT S AGC S AGA R AGG R "
    "GTT V GTC V GTA V GTG V GCT A GCC A GCA A GCG A GAT D GAC D GAA E GAG E "
    "GGT G GGC G GGA G GGG G"
)


def _build_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nuc = np.full(256, 5, dtype=np.uint8)  # any byte that is not A/C/G/T/U reads as N
    for i, base in enumerate("ACGT", start=1):
        nuc[ord(base)] = nuc[ord(base.lower())] = i
    nuc[ord("U")] = nuc[ord("u")] = 4
    words = _STANDARD_CODE.split()
    codon_aa = np.zeros(65, dtype=np.uint8)  # index 64: codon with an N -> X
    codon_letter = np.array(["X"] * 65)
    for codon, aa in zip(words[0::2], words[1::2]):
        code = 16 * "ACGT".index(codon[0]) + 4 * "ACGT".index(codon[1]) + "ACGT".index(codon[2])
        codon_letter[code] = aa
        codon_aa[code] = 0 if aa == "*" else AA_ALPHABET.index(aa) + 1
    codon_aa[64] = N_AA_TOKENS
    return nuc, codon_aa, codon_letter


_NUC_LUT, _CODON_AA, _CODON_LETTER = _build_tables()
_ATG = 16 * 0 + 4 * 3 + 2
_STOPS = np.array([48, 50, 56])  # TAA, TAG, TGA
_NO_CODON = 64

FEATURE_NAMES: tuple[str, ...] = (
    ("orf_log10_length", "orf_coverage", "has_orf", "orf_5prime_complete", "orf_3prime_complete")
    + tuple(f"kmer_{k}_{i}" for k in KMER_SIZES for i in range(4**k))
    + tuple(f"codon_{i}" for i in range(64))
    + tuple(f"aa_{a}" for a in AA_ALPHABET + "X")
    + tuple(f"hexamer_{i}" for i in range(4096))
)
N_FEATURES = len(FEATURE_NAMES)


@dataclass(frozen=True)
class Orf:
    """The longest forward-strand ORF of a transcript.

    Attributes:
        start: 1-based position of the A of the ATG, or of the first codon of a frame
            open to the 5' end; 0 when there is no ORF.
        end: 1-based position of the last base (the stop codon's last base when the
            ORF is 3'-complete); 0 when there is no ORF.
        five_prime_complete: an in-frame stop codon lies upstream of the ATG, so the
            reading frame cannot extend further 5'.
        three_prime_complete: the ORF ends with a stop codon.
    """

    start: int = 0
    end: int = 0
    five_prime_complete: bool = False
    three_prime_complete: bool = False

    @property
    def length(self) -> int:
        return self.end - self.start + 1 if self.start else 0

    @property
    def found(self) -> bool:
        return self.start > 0


NO_ORF = Orf()


def nucleotide_tokens(seq: str) -> np.ndarray:
    """Tokens (``uint8``, 1..5) of a sequence; see the module notes for the mapping."""
    return _NUC_LUT[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]


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
    codes[bad] = _NO_CODON
    return codes


def longest_orf(
    tokens: np.ndarray,
    codes: np.ndarray | None = None,
    five_prime_open: bool = True,
    margin: float = OPEN_FRAME_MARGIN,
) -> Orf:
    """The longest forward-strand ORF (see the module notes).

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
    stops = np.flatnonzero((codes == _STOPS[0]) | (codes == _STOPS[1]) | (codes == _STOPS[2]))
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
    starts = np.flatnonzero(codes == _ATG)  # ascending, so argmax breaks ties by earliest start
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
    return _CODON_AA[codes[orf.start - 1 : last - 2 : 3]]


def translate_orf(codes: np.ndarray, orf: Orf) -> str:
    """Protein sequence of an ORF (one-letter code, ``X`` for codons with an N)."""
    if not orf.found:
        return ""
    last = orf.end - 3 if orf.three_prime_complete else orf.end
    return "".join(_CODON_LETTER[codes[orf.start - 1 : last - 2 : 3]].tolist())


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
        ok4 = (codes[:-1] < _NO_CODON) & valid[3:]
        c4 = np.bincount((codes[:-1] * 4 + t[3:])[ok4], minlength=256)
    else:
        c4 = np.zeros(256)
    return c2, c3, c4


def window_start(length: int, orf: Orf, nuc_len: int) -> int:
    """0-based start of the model's window (see the module notes)."""
    if length <= nuc_len:
        return 0
    centre = (orf.start - 1 + orf.end) / 2 if orf.found else length / 2
    return int(min(max(round(centre - nuc_len / 2), 0), length - nuc_len))


def transcript_features(
    tokens: np.ndarray, codes: np.ndarray, orf: Orf, protein: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """The hand-made feature vector, in ``FEATURE_NAMES`` order.

    ``out``, if given, must be a zeroed float32 vector of ``N_FEATURES``; it is filled
    and returned.
    """
    if out is None:
        out = np.zeros(N_FEATURES, dtype=np.float32)
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
        orf_codons = orf_codons[orf_codons < _NO_CODON]
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
        pairs = pairs[(codons[:-1] < _NO_CODON) & (codons[1:] < _NO_CODON)]
        if pairs.size:
            out[pos : pos + 4096] = np.bincount(pairs, minlength=4096) / pairs.size
    return out


@dataclass
class EncodedBatch:
    """Model inputs for a batch of transcripts, plus what the output needs of each."""

    nucleotides: np.ndarray  # (B, nuc_len) uint8
    proteins: np.ndarray  # (B, prot_len) uint8
    features: np.ndarray  # (B, N_FEATURES) float32
    orfs: list[Orf]
    lengths: np.ndarray  # (B,) int64, transcript lengths

    def model_inputs(self) -> dict[str, np.ndarray]:
        return {NUCLEOTIDES: self.nucleotides, PROTEINS: self.proteins, FEATURES: self.features}

    def __len__(self) -> int:
        return len(self.orfs)


def encode_sequences(
    sequences: list[str], nuc_len: int, prot_len: int, version: int = ENCODING_VERSION
) -> EncodedBatch:
    """Turn transcripts into model inputs.

    This is the one encoding used by training, evaluation and classification. Any
    sequence is accepted, the empty one included (it encodes as all padding).

    Args:
        sequences: nucleotide sequences (any case, ``U`` or ``T``, IUPAC letters).
        nuc_len: length of the nucleotide window.
        prot_len: number of amino acids given to the protein branch.
        version: the encoding version of the model (one of ``ENCODING_VERSIONS``).

    Returns:
        The batch, in the order of ``sequences``.
    """
    if version not in ENCODING_VERSIONS:
        raise ValueError(f"unknown encoding version {version}; known: {ENCODING_VERSIONS}")
    from rnaigloo.encoding.batch import encode_into, groups

    five_prime_open, margin = _ORF_SEARCH[version]
    b = len(sequences)
    nuc = np.zeros((b, nuc_len), dtype=np.uint8)
    prot = np.zeros((b, prot_len), dtype=np.uint8)
    feats = np.zeros((b, N_FEATURES), dtype=np.float32)
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=b)
    orfs: list[Orf] = []
    for first, stop in groups(lengths):
        rows = slice(first, stop)
        orfs += encode_into(sequences[rows], lengths[rows], nuc[rows], prot[rows], feats[rows], five_prime_open, margin)
    return EncodedBatch(nuc, prot, feats, orfs, lengths)
