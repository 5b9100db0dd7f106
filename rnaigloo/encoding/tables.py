"""What the encoding is: alphabets, token and codon tables, versions, feature names.

The batch encoder (:mod:`rnaigloo.encoding.encoder`) and the per-transcript reference
(:mod:`rnaigloo.encoding.reference`) both follow the conventions below and take their
tables from here. NumPy only, so anything may import this cheaply.

Conventions used throughout:

* Nucleotide tokens: ``A=1, C=2, G=3, T=4, N=5`` and ``0`` for padding. ``U`` is
  read as ``T``, lowercase as uppercase, and every other letter (IUPAC codes such as
  ``R`` or ``Y``) as ``N``: a letter is never dropped, so positions never shift.
* Amino-acid tokens: the 20 standard residues in ``AA_ALPHABET`` order are ``1..20``;
  ``21`` is ``X``, a codon holding an ``N``; ``0`` is padding.
* Codon codes: ``16 * a + 4 * b + c`` for the bases ``a, b, c`` in ``ACGT`` order
  (0..63); ``NO_CODON`` (64) for a codon holding an ``N``.
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
* Version 4 searches ORFs as version 1 (ATG only) and adds ``V4_FEATURES`` after them
  (:func:`feature_names`): the transcript's length, the ORF's 5' and 3' UTR shares,
  the share of the longest frame open to the 5' end (what a fragment's real frame
  looks like), the ORF's hexamer score and Fickett-style position statistics. The
  hexamer score is the mean, over the ORF's in-frame hexamers, of a log-ratio table
  learned from the model's own training data (coding ORFs against non-coding ones,
  :func:`hexamer_log_ratios`) and stored in its card, so it is species-specific by
  construction. The table's values are multiples of ``1 / HEXAMER_SCALE``: their sums
  are exact in any order, so the batch encoder and the reference agree bit for bit.
* The model sees one window of ``nuc_len`` nucleotides, the same for every branch: the
  whole transcript when it fits, otherwise the window centred on the longest ORF
  (centred on the transcript when it has no ORF), shifted to stay inside it. The
  protein branch sees the N-terminal ``prot_len`` residues of that same ORF.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Raised whenever the encoding or the feature set changes: a model records the version
# it was trained with, and the loader refuses a model of another version.
ENCODING_VERSION = 3
# Versions this rnaigloo can still encode for. 1-3 differ only in the ORF search: 1 ATG
# only, 2 a 5'-open frame wins when longer, 3 when OPEN_FRAME_MARGIN times longer; 4
# searches as 1 and adds V4_FEATURES, with a hexamer table stored in the model.
ENCODING_VERSIONS = (1, 2, 3, 4)
# Version 3: how many times longer than the longest ATG ORF a 5'-open frame must be to win
# (chosen on the validation split, benchmarks/TUNING.md).
OPEN_FRAME_MARGIN = 1.5
# The ORF search of each version: (5'-open frames considered, margin they must win by).
ORF_SEARCH = {1: (False, 1.0), 2: (True, 1.0), 3: (True, OPEN_FRAME_MARGIN), 4: (False, 1.0)}
# Versions whose features end with V4_FEATURES, and need a hexamer table.
TABLE_VERSIONS = (4,)
HEXAMER_SCALE = 1024  # hexamer table values are multiples of 1 / HEXAMER_SCALE

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


# NUC_TOKEN[byte]: the token of an ASCII letter; CODON_AA[code]: the amino-acid token of
# a codon (0 for a stop); CODON_LETTER[code]: its one-letter amino acid.
NUC_TOKEN, CODON_AA, CODON_LETTER = _build_tables()
ATG = 16 * 0 + 4 * 3 + 2
STOP_CODONS = np.array([48, 50, 56])  # TAA, TAG, TGA
NO_CODON = 64

FEATURE_NAMES: tuple[str, ...] = (
    ("orf_log10_length", "orf_coverage", "has_orf", "orf_5prime_complete", "orf_3prime_complete")
    + tuple(f"kmer_{k}_{i}" for k in KMER_SIZES for i in range(4**k))
    + tuple(f"codon_{i}" for i in range(64))
    + tuple(f"aa_{a}" for a in AA_ALPHABET + "X")
    + tuple(f"hexamer_{i}" for i in range(4096))
)
N_FEATURES = len(FEATURE_NAMES)  # versions 1-3

# Version 4's features after FEATURE_NAMES (their values: rnaigloo.encoding.reference).
V4_FEATURES: tuple[str, ...] = (
    "transcript_log10_length",  # log10(length) / 5
    "orf_utr5_share",  # bases before the ORF / length (0 without an ORF)
    "orf_utr3_share",  # bases after the ORF / length (0 without an ORF)
    "open_frame_share",  # the longest frame open to the 5' end, to its first stop / length
    "hexamer_score",  # mean table value over the ORF's in-frame hexamers (0 without any)
) + tuple(f"position_{b}" for b in "ACGT") + tuple(f"content_{b}" for b in "ACGT")
# position_X: max / (min + 1) of the counts of X at the three codon positions (frames
# 1, 2, 3 of the whole transcript), Fickett's position asymmetry; content_X: X / length.


def feature_names(version: int) -> tuple[str, ...]:
    """The hand-made features of encoding ``version``, in order."""
    return FEATURE_NAMES + V4_FEATURES if version in TABLE_VERSIONS else FEATURE_NAMES


def n_features(version: int) -> int:
    """How many hand-made features encoding ``version`` has."""
    return len(feature_names(version))


def hexamer_log_ratios(coding_counts: np.ndarray, noncoding_counts: np.ndarray) -> np.ndarray:
    """The hexamer table: ``log(p_coding / p_noncoding)`` of each of the 4,096 in-frame
    hexamers, from add-one counts, rounded to multiples of ``1 / HEXAMER_SCALE`` (float64)."""
    counts = np.stack([np.asarray(coding_counts, dtype=np.float64), np.asarray(noncoding_counts, dtype=np.float64)])
    if counts.shape != (2, 4096):
        raise ValueError(f"hexamer counts must have 4096 entries per class, found {counts.shape[1:]}")
    freqs = (counts + 1) / (counts + 1).sum(axis=1, keepdims=True)
    return np.round(np.log(freqs[0] / freqs[1]) * HEXAMER_SCALE) / HEXAMER_SCALE


def check_hexamer_table(table, version: int) -> np.ndarray | None:
    """The hexamer table a version needs, as float64 (None for versions without one).

    Raises:
        ValueError: it is missing, of the wrong size, or not multiples of ``1 / HEXAMER_SCALE``.
    """
    if version not in TABLE_VERSIONS:
        return None
    if table is None:
        raise ValueError(f"encoding version {version} needs the model's hexamer table; none was given")
    try:
        values = np.asarray(table, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("the hexamer table must be 4096 numbers") from None
    if values.shape != (4096,) or not np.isfinite(values).all() or np.abs(values).max(initial=0) > 64:
        raise ValueError(f"the hexamer table must be 4096 finite numbers within +-64, found shape {values.shape}")
    if not np.array_equal(np.round(values * HEXAMER_SCALE), values * HEXAMER_SCALE):
        raise ValueError(f"the hexamer table's values must be multiples of 1/{HEXAMER_SCALE}")
    return values


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
