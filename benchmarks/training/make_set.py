"""Write the training-speed benchmark set: 7,000 coding + 7,000 non-coding human transcripts.

Usage: python benchmarks/training/make_set.py [--data ../shared/data] [--out benchmarks/work/training]

A seeded sample (seed 20261122) of the shared human training FASTA, about the size of one
species' training set (~14,000 transcripts).
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser

SEED = 20261122
PER_CLASS = 7000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="benchmarks/work/training")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for name in ("coding", "noncoding"):
        with gzip.open(Path(args.data) / f"human_train_{name}.fa.gz", "rt") as fh:
            records = list(SimpleFastaParser(fh))
        keep = np.sort(rng.choice(len(records), PER_CLASS, replace=False))
        with gzip.open(out / f"{name}.fa.gz", "wt") as fh:
            for i in keep:
                header, seq = records[i]
                fh.write(f">{header}\n{seq}\n")
        print(f"{out / (name + '.fa.gz')}: {len(keep)} of {len(records)}")


if __name__ == "__main__":
    main()
