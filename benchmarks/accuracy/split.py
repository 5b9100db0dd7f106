"""Split the shared human data into train and a gene-disjoint held-out test set.

Usage: python benchmarks/accuracy/split.py [--data ../shared/data] [--out benchmarks/work/split]

Groups: coding records by ``gene_id=`` (one transcript per gene in this data);
Ensembl lncRNAs by ``gene:``; the CPAT/GENCODE lncRNAs (no gene in the header) by
locus: transcripts on the same chromosome and strand whose ``range=`` overlaps are one
group. 10 % of the groups of each class (seed 20261121) go to the test set. The test
set is never used for tuning; the model is trained on the rest (``train_*.fa.gz``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser

SEED = 20261121
TEST_FRACTION = 0.10
_RANGE = re.compile(r"range=(\S+):(\d+)-(\d+) strand=([+-])")


def groups_for(headers: list[str]) -> list[str]:
    keys: list[str | None] = []
    loci = []
    for i, h in enumerate(headers):
        m = re.search(r"\bgene_id=(\S+)", h) or re.search(r"\bgene:(\S+)", h)
        if m:
            keys.append(m.group(0))
            continue
        r = _RANGE.search(h)
        if r:
            loci.append((r.group(1), r.group(4), int(r.group(2)), int(r.group(3)), i))
            keys.append(None)
        else:
            keys.append("id:" + h.split()[0])
    loci.sort()
    cluster, end, last = -1, -1, None
    for chrom, strand, start, stop, i in loci:
        if (chrom, strand) != last or start > end:
            cluster += 1
            end = stop
            last = (chrom, strand)
        else:
            end = max(end, stop)
        keys[i] = f"locus:{cluster}"
    return [k for k in keys]  # type: ignore[misc]


def read(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt") as fh:
        return list(SimpleFastaParser(fh))


def write(path: Path, records: list[tuple[str, str]]) -> None:
    with gzip.open(path, "wt", compresslevel=6) as fh:
        for h, s in records:
            fh.write(f">{h}\n")
            for i in range(0, len(s), 60):
                fh.write(s[i : i + 60] + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parents[2]
    ap.add_argument("--data", type=Path, default=here.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=here / "benchmarks" / "work" / "split")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    summary = {"seed": SEED, "test_fraction": TEST_FRACTION}
    for cls in ("coding", "noncoding"):
        records = read(args.data / f"human_train_{cls}.fa.gz")
        groups = groups_for([h for h, _ in records])
        unique = sorted(set(groups))
        test_groups = set(rng.choice(unique, size=round(TEST_FRACTION * len(unique)), replace=False).tolist())
        test = [r for r, g in zip(records, groups) if g in test_groups]
        train = [r for r, g in zip(records, groups) if g not in test_groups]
        write(args.out / f"train_{cls}.fa.gz", train)
        write(args.out / f"test_{cls}.fa.gz", test)
        summary[cls] = {"records": len(records), "groups": len(unique), "train": len(train), "test": len(test)}
    (args.out / "split.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
