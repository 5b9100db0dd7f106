"""A small synthetic genome with the same transcripts written as GTF and as GFF3.

Two chromosomes of seeded random sequence with soft-masked (lowercase) stretches, and
transcripts on both strands: multi-exon, single-exon, exons listed in descending order
on the minus strand and out of order on the plus strand. The expected sequences are
computed here by plain string slicing, independently of the reader under test.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

# (id, gene, chrom, strand, exons in the order the files list them)
TRANSCRIPTS = [
    ("tx_plus3", "gene_a", "chr1", "+", [(101, 250), (401, 520), (801, 1000)]),
    ("tx_minus2", "gene_b", "chr1", "-", [(2401, 2600), (1501, 1700)]),  # descending, as Ensembl writes - strand
    ("tx_minus3", "gene_b", "chr1", "-", [(2801, 2900), (2401, 2550), (1601, 1700)]),
    ("tx_plus_unsorted", "gene_c", "chr2", "+", [(901, 1200), (201, 400), (501, 700)]),
    ("tx_minus1", "gene_d", "chr2", "-", [(1401, 1999)]),
]

CHROM_LENGTHS = {"chr1": 3200, "chr2": 2000}


def genome_sequences(seed: int = 7) -> dict[str, str]:
    """Chromosome sequences with lowercase (soft-masked) stretches and a few Ns."""
    rng = np.random.default_rng(seed)
    out = {}
    for chrom, n in CHROM_LENGTHS.items():
        seq = list("".join(rng.choice(list("ACGT"), size=n)))
        for start in range(150, n, 600):  # soft-masked repeats, some inside exons
            seq[start : start + 80] = [c.lower() for c in seq[start : start + 80]]
        seq[5:9] = list("NNNN")
        out[chrom] = "".join(seq)
    return out


def revcomp(seq: str) -> str:
    table = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N", "a": "t", "c": "g", "g": "c", "t": "a", "n": "n"}
    return "".join(table[c] for c in reversed(seq))


def expected_sequences(genome: dict[str, str]) -> dict[str, str]:
    """transcript ID -> its sequence: exons in genome order, reverse-complemented on -."""
    out = {}
    for tid, _, chrom, strand, exons in TRANSCRIPTS:
        seq = "".join(genome[chrom][s - 1 : e] for s, e in sorted(exons))
        out[tid] = revcomp(seq) if strand == "-" else seq
    return out


def write_fasta(path: Path, seqs: dict[str, str], width: int = 60, note: str = " synthetic") -> Path:
    with open(path, "w") as fh:
        for name, seq in seqs.items():
            fh.write(f">{name}{note}\n")
            fh.writelines(seq[i : i + width] + "\n" for i in range(0, len(seq), width))
    return path


def gtf_text(transcripts=TRANSCRIPTS) -> str:
    lines = ["#!genome-build synthetic", "#!genome-version 1"]
    for tid, gene, chrom, strand, exons in transcripts:
        lo, hi = min(s for s, _ in exons), max(e for _, e in exons)
        lines.append(f'{chrom}\ttest\ttranscript\t{lo}\t{hi}\t.\t{strand}\t.\tgene_id "{gene}"; transcript_id "{tid}";')
        for i, (s, e) in enumerate(exons, 1):
            lines.append(
                f'{chrom}\ttest\texon\t{s}\t{e}\t.\t{strand}\t.\tgene_id "{gene}"; transcript_id "{tid}"; exon_number "{i}";'
            )
        s, e = min(exons)
        lines.append(f'{chrom}\ttest\tCDS\t{s}\t{e}\t.\t{strand}\t0\tgene_id "{gene}"; transcript_id "{tid}";')
    return "\n".join(lines) + "\n"


def gff3_text(transcripts=TRANSCRIPTS, style: str = "ensembl") -> str:
    """GFF3 in Ensembl's (``transcript:ID``, ``###``) or NCBI's (``rna-ID``, ``exon-ID-N``) style."""
    lines = ["##gff-version 3"] + [f"##sequence-region   {c} 1 {n}" for c, n in CHROM_LENGTHS.items()]
    for tid, gene, chrom, strand, exons in transcripts:
        lo, hi = min(s for s, _ in exons), max(e for _, e in exons)
        if style == "ensembl":
            gid, rid = f"gene:{gene}", f"transcript:{tid}"
        else:
            gid, rid = f"gene-{gene}", f"rna-{tid}"
        lines.append(f"{chrom}\ttest\tgene\t{lo}\t{hi}\t.\t{strand}\t.\tID={gid};Name={gene}")
        lines.append(f"{chrom}\ttest\tmRNA\t{lo}\t{hi}\t.\t{strand}\t.\tID={rid};Parent={gid};transcript_id={tid}")
        for i, (s, e) in enumerate(exons, 1):
            eid = f"exon-{tid}-{i}" if style == "ncbi" else f"{tid}.exon{i}"
            lines.append(f"{chrom}\ttest\texon\t{s}\t{e}\t.\t{strand}\t.\tParent={rid};ID={eid}")
        if style == "ensembl":
            lines.append("###")
        else:
            lines.append("# a comment line")
    return "\n".join(lines) + "\n"


def gff3_id(tid: str, style: str = "ensembl") -> str:
    return f"transcript:{tid}" if style == "ensembl" else f"rna-{tid}"


def write_text(path: Path, text: str, gz: bool = False) -> Path:
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def write_bgzip(path: Path, text: str) -> Path:
    from Bio import bgzf

    with bgzf.BgzfWriter(str(path), "wb") as w:
        w.write(text.encode())
    return path


def _coding_like(rng: np.random.Generator, codons: int) -> str:
    sense = [c for c in (a + b + d for a in "ACGT" for b in "ACGT" for d in "ACGT") if c not in ("TAA", "TAG", "TGA")]
    utr5 = "".join(rng.choice(list("ACGT"), size=int(rng.integers(20, 80))))
    orf = "ATG" + "".join(rng.choice(sense, size=codons)) + "TAA"
    utr3 = "".join(rng.choice(list("ACGT"), size=int(rng.integers(20, 80))))
    return utr5 + orf + utr3


def write_trainable_set(directory: Path, n_coding: int = 24, n_noncoding: int = 24, seed: int = 11) -> dict:
    """A genome with coding transcripts (GTF) and non-coding ones (GFF3), two exons each.

    Transcripts alternate strands; minus-strand exons are listed in descending order.
    Returns the paths and the expected transcript sequences by class.
    """
    rng = np.random.default_rng(seed)
    chrom, coding_gtf, noncoding_gff = [], [], ["##gff-version 3"]
    expected: dict[str, dict[str, str]] = {"coding": {}, "noncoding": {}}
    pos = 0

    def spacer() -> None:
        nonlocal pos
        s = "".join(rng.choice(list("acgt"), size=int(rng.integers(1500, 2500))))  # soft-masked intergenic
        chrom.append(s)
        pos += len(s)

    spacer()
    for i in range(n_coding + n_noncoding):
        is_coding = i < n_coding
        tx = (
            _coding_like(rng, int(rng.integers(80, 200)))
            if is_coding
            else "".join(rng.choice(list("ACGT"), size=int(rng.integers(300, 700))))
        )
        strand = "+" if i % 2 == 0 else "-"
        cut = len(tx) // 2
        genomic_tx = tx if strand == "+" else revcomp(tx)
        intron = "GT" + "".join(rng.choice(list("ACGT"), size=100)) + "AG"
        e1 = (pos + 1, pos + cut)
        e2 = (pos + cut + len(intron) + 1, pos + len(tx) + len(intron))
        chrom.append(genomic_tx[:cut] + intron + genomic_tx[cut:])
        pos += len(tx) + len(intron)
        exons = [e1, e2] if strand == "+" else [e2, e1]
        tid = f"{'mrna' if is_coding else 'lnc'}{i}"
        if is_coding:
            for s, e in exons:
                coding_gtf.append(f'chrS\tsim\texon\t{s}\t{e}\t.\t{strand}\t.\tgene_id "g{i}"; transcript_id "{tid}";')
            expected["coding"][tid] = tx
        else:
            noncoding_gff.append(f"chrS\tsim\tlnc_RNA\t{e1[0]}\t{e2[1]}\t.\t{strand}\t.\tID={tid};Parent=g{i}")
            for s, e in exons:
                noncoding_gff.append(f"chrS\tsim\texon\t{s}\t{e}\t.\t{strand}\t.\tParent={tid}")
            expected["noncoding"][tid] = tx
        spacer()
    genome = "".join(chrom)
    paths = {
        "genome": write_fasta(directory / "genome.fa", {"chrS": genome}),
        "coding_gtf": write_text(directory / "coding.gtf.gz", "\n".join(coding_gtf) + "\n", gz=True),
        "noncoding_gff": write_text(directory / "noncoding.gff3", "\n".join(noncoding_gff) + "\n"),
        # as FASTA, with the gene in the header as annotation input gives it (same validation split)
        "coding_fa": write_fasta(
            directory / "coding.fa", {f"{k} gene_id=g{k[4:]}": v for k, v in expected["coding"].items()}, note=""
        ),
        "noncoding_fa": write_fasta(
            directory / "noncoding.fa", {f"{k} gene_id=g{k[3:]}": v for k, v in expected["noncoding"].items()}, note=""
        ),
    }
    return {**paths, "expected": expected}
