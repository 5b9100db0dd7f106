"""Write the example FASTA files from a fixed seed (no real records are copied).

Coding transcripts are composed as 5' UTR + ATG + codons + stop + 3' UTR, with codons
drawn from a human-like codon usage and UTRs that carry stops in every frame;
non-coding transcripts are random sequence of similar composition, whose longest ORF
is short by chance. Run from the repository root:

    python example_data/make_examples.py
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

SEED = 7
HERE = Path(__file__).resolve().parent
BASES = np.array(list("ACGT"))
STOPS = {"TAA", "TAG", "TGA"}
# Rough human codon preference (higher weight: more frequent), enough to give coding
# sequence a codon bias that random sequence lacks.
PREFERRED = {
    "CTG": 4.0, "GAG": 4.0, "AAG": 3.5, "CAG": 3.5, "GCC": 3.0, "GTG": 3.0, "ATC": 2.5, "AGC": 2.0,
    "ACC": 2.0, "TTC": 2.0, "GGC": 2.5, "CCC": 2.0, "GAC": 2.5, "AAC": 2.0, "TAC": 1.8, "TGC": 1.5,
    "CGG": 1.2, "ATG": 2.2, "TGG": 1.3, "CAC": 1.5, "TCC": 1.8, "GCT": 1.8, "GAA": 2.8, "AAA": 2.4,
}
CODONS = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in STOPS]
WEIGHTS = np.array([PREFERRED.get(c, 1.0) for c in CODONS])
WEIGHTS /= WEIGHTS.sum()


def random_seq(rng: np.random.Generator, n: int, gc: float = 0.45) -> str:
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    return "".join(BASES[rng.choice(4, size=n, p=p)])


def coding(rng: np.random.Generator) -> str:
    utr5 = random_seq(rng, int(rng.integers(40, 300)))
    utr5 = "TAA" + utr5.replace("ATG", "ACG")  # no earlier start codon, an upstream stop
    cds = "ATG" + "".join(rng.choice(CODONS, size=int(rng.integers(100, 700)), p=WEIGHTS)) + str(rng.choice(sorted(STOPS)))
    utr3 = random_seq(rng, int(rng.integers(100, 900)), gc=0.4)
    return utr5 + cds + utr3


def noncoding(rng: np.random.Generator) -> str:
    return random_seq(rng, int(rng.integers(250, 2500)), gc=0.42)


def write(path: Path, records: list[tuple[str, str]]) -> None:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt") as fh:  # type: ignore[operator]
        for name, seq in records:
            fh.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i : i + 60] + "\n")


def main() -> None:
    rng = np.random.default_rng(SEED)
    write(HERE / "train_coding.fa.gz", [(f"synth_mrna_{i:04d} kind=coding", coding(rng)) for i in range(200)])
    write(HERE / "train_noncoding.fa.gz", [(f"synth_lnc_{i:04d} kind=noncoding", noncoding(rng)) for i in range(200)])
    mixed = []
    for i in range(20):
        mixed.append((f"transcript_{2 * i + 1:02d} synthetic mRNA", coding(rng)))
        mixed.append((f"transcript_{2 * i + 2:02d} synthetic lncRNA", noncoding(rng)))
    write(HERE / "transcripts.fa.gz", mixed)


if __name__ == "__main__":
    main()
