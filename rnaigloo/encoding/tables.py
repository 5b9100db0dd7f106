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
# Versions this rnaigloo can still encode for; they differ only in the ORF search:
# 1 ATG only, 2 a 5'-open frame wins when longer, 3 when OPEN_FRAME_MARGIN times longer.
ENCODING_VERSIONS = (1, 2, 3)
# Version 3: how many times longer than the longest ATG ORF a 5'-open frame must be to win
# (chosen on the validation split, benchmarks/TUNING.md).
OPEN_FRAME_MARGIN = 1.5
# The ORF search of each version: (5'-open frames considered, margin they must win by).
ORF_SEARCH = {1: (False, 1.0), 2: (True, 1.0), 3: (True, OPEN_FRAME_MARGIN)}

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
