"""What ``classify`` writes: the TSV table and the protein and CDS FASTA of coding calls.

The table has a header line and one row per input record, in input order; its first
three columns are RNAsamba's (``sequence_name``, ``coding_score``, ``classification``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnaigloo.encoding.translation import codon_codes, nucleotide_tokens, translate_orf

if TYPE_CHECKING:
    from rnaigloo.classify.batches import Prediction

TSV_COLUMNS = (
    "sequence_name",
    "coding_score",
    "classification",
    "orf_start",
    "orf_end",
    "orf_length",
    "orf_5prime",
    "orf_3prime",
)


def clean_name(header: str) -> str:
    """A header made safe for one TSV field: tabs and other control characters -> space."""
    if header.isprintable():
        return header
    return "".join(ch if ch.isprintable() else " " for ch in header)


def tsv_header() -> str:
    """The header line of the table."""
    return "\t".join(TSV_COLUMNS) + "\n"


def tsv_row(pred: Prediction) -> str:
    """The table row of one prediction."""
    orf = pred.orf
    if orf.found:
        orf_fields = (
            str(orf.start),
            str(orf.end),
            str(orf.length),
            "complete" if orf.five_prime_complete else "partial",
            "complete" if orf.three_prime_complete else "partial",
        )
    else:
        orf_fields = ("NA", "NA", "0", "NA", "NA")
    return "\t".join((clean_name(pred.record.header), f"{pred.score:.5f}", "coding" if pred.coding else "noncoding", *orf_fields)) + "\n"


def _fasta_lines(seq: str, width: int = 60) -> str:
    return "".join(seq[i : i + width] + "\n" for i in range(0, len(seq), width))


def protein_entry(pred: Prediction) -> str:
    """FASTA entry of the protein of a coding prediction's ORF."""
    orf = pred.orf
    codes = codon_codes(nucleotide_tokens(pred.record.sequence))
    protein = translate_orf(codes, orf)
    return f">{pred.record.id} orf={orf.start}-{orf.end} length={len(protein)} score={pred.score:.5f}\n" + _fasta_lines(protein)


def cds_entry(pred: Prediction) -> str:
    """FASTA entry of the nucleotide ORF of a coding prediction, as written in the input."""
    orf = pred.orf
    cds = pred.record.sequence[orf.start - 1 : orf.end]
    return f">{pred.record.id} orf={orf.start}-{orf.end} length={len(cds)} score={pred.score:.5f}\n" + _fasta_lines(cds)

