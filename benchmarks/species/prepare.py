"""Training and test sets from human plus the other species, and the derived test sets.

Usage: python benchmarks/species/prepare.py [--data ../shared/data] [--out benchmarks/work/species]

Needs the human split first (``python benchmarks/accuracy/split.py``). For each species
with both classes (fly, Chlamydomonas, citrus) the near-duplicate clusters of
``species/kmer_clusters.tsv`` are shuffled (seed 20261122, per species and class; a
cluster never mixes classes) and 20 % of them go to the species' test set, the rest to
training. Records keep their ID; their header gets ``gene=CLUSTER species=NAME``, so the
validation split that ``rnaigloo train`` keeps aside (grouped by ``gene=``) is
cluster-disjoint too. Human training records get ``species=human``.

Written under ``--out``:

* ``train_coding.fa.gz``, ``train_noncoding.fa.gz``: human train + the three species'
  training parts (the default model's training data);
* ``loso_SPECIES/train_*.fa.gz``: the same without that species (leave one out);
* ``test/SPECIES_coding.fa.gz`` / ``_noncoding.fa.gz``: each species' test clusters,
  ``test/rat_noncoding.fa.gz``: all rat lncRNAs (no rat record is ever trained on);
* ``test/human_{fragments,trunc5,trunc3}_*.fa.gz``: from the human held-out genes,
  one seeded piece per transcript of at least 300 nt: a random window of 300-1,500 nt,
  or the transcript with a random 20-80 % of its length cut from the 5' or the 3' end
  (at least 200 nt kept); the label is the whole transcript's;
* ``prepare.json``: counts and seeds.

None of the test sets is used for training or tuning.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser

SEED = 20261122
TEST_FRACTION = 0.20
SPECIES = ("fly", "chlamydomonas", "citrus")
FRAGMENT_MIN, FRAGMENT_MAX = 300, 1500
TRUNC_MIN, TRUNC_MAX, TRUNC_KEEP = 0.2, 0.8, 200
ROOT = Path(__file__).resolve().parents[2]


def read(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt") as fh:
        return list(SimpleFastaParser(fh))


def write(path: Path, records: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    with gzip.open(tmp, "wt", compresslevel=3) as fh:
        for h, s in records:
            fh.write(f">{h}\n")
            for i in range(0, len(s), 60):
                fh.write(s[i : i + 60] + "\n")
    tmp.replace(path)


def clusters(path: Path) -> dict[tuple[str, str], str]:
    """(file, id) -> cluster."""
    out = {}
    with open(path) as fh:
        next(fh)
        for line in fh:
            file, rid, cluster = line.rstrip("\n").split("\t")
            out[(file, rid)] = cluster
    return out


def split_species(data: Path, name: str, cl: dict, rng: np.random.Generator) -> dict[str, dict[str, list]]:
    """{'train'|'test': {'coding'|'noncoding': records}} by cluster."""
    parts: dict[str, dict[str, list]] = {"train": {}, "test": {}}
    for cls in ("coding", "noncoding"):
        file = f"{name}_{cls}.fa.gz"
        records = read(data / "species" / file)
        tagged = []
        for h, s in records:
            rid = h.split()[0]
            cluster = cl.get((file, rid))
            if cluster is None:
                raise SystemExit(f"{file}: record {rid} has no cluster in kmer_clusters.tsv")
            tagged.append((f"{rid} gene={cluster} species={name}", s, cluster))
        unique = sorted({c for _, _, c in tagged})
        test = set(rng.choice(unique, size=round(TEST_FRACTION * len(unique)), replace=False).tolist())
        parts["train"][cls] = [(h, s) for h, s, c in tagged if c not in test]
        parts["test"][cls] = [(h, s) for h, s, c in tagged if c in test]
    return parts


def fragment(seq: str, rng: np.random.Generator) -> str:
    n = len(seq)
    w = int(rng.integers(FRAGMENT_MIN, min(FRAGMENT_MAX, n) + 1))
    start = int(rng.integers(0, n - w + 1))
    return seq[start : start + w]


def truncate(seq: str, rng: np.random.Generator, five_prime: bool) -> str:
    n = len(seq)
    cut = min(int(round(rng.uniform(TRUNC_MIN, TRUNC_MAX) * n)), n - TRUNC_KEEP)
    return seq[cut:] if five_prime else seq[: n - cut]


def derived(records: list[tuple[str, str]], kind: str, seed: int) -> list[tuple[str, str]]:
    """One piece of each record of at least FRAGMENT_MIN nt, seeded by (seed, kind, record)."""
    salt = {"fragments": 1, "trunc5": 2, "trunc3": 3}[kind]
    out = []
    for i, (h, s) in enumerate(records):
        if len(s) < FRAGMENT_MIN:
            continue
        rng = np.random.default_rng([seed, salt, i])
        if kind == "fragments":
            piece = fragment(s, rng)
        else:
            piece = truncate(s, rng, five_prime=kind == "trunc5")
        out.append((f"{h.split()[0]}_{kind} length={len(piece)} of={len(s)}", piece))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--split", type=Path, default=ROOT / "benchmarks" / "work" / "split")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "work" / "species")
    args = ap.parse_args()
    if not (args.split / "train_coding.fa.gz").is_file():
        raise SystemExit(f"no human split in {args.split}: run benchmarks/accuracy/split.py first")
    cl = clusters(args.data / "species" / "kmer_clusters.tsv")
    summary: dict = {"seed": SEED, "test_fraction": TEST_FRACTION, "species": {}}
    train: dict[str, dict[str, list]] = defaultdict(dict)
    for i, name in enumerate(SPECIES):
        parts = split_species(args.data, name, cl, np.random.default_rng([SEED, i]))
        for cls in ("coding", "noncoding"):
            train[name][cls] = parts["train"][cls]
            write(args.out / "test" / f"{name}_{cls}.fa.gz", parts["test"][cls])
        summary["species"][name] = {
            part: {cls: len(parts[part][cls]) for cls in ("coding", "noncoding")} for part in ("train", "test")
        }
    rat = [(f"{h.split()[0]} species=rat", s) for h, s in read(args.data / "species" / "rat_noncoding_only.fa.gz")]
    write(args.out / "test" / "rat_noncoding.fa.gz", rat)
    summary["species"]["rat"] = {"test": {"noncoding": len(rat)}}

    human = {cls: [(f"{h} species=human", s) for h, s in read(args.split / f"train_{cls}.fa.gz")] for cls in ("coding", "noncoding")}
    summary["species"]["human"] = {"train": {cls: len(v) for cls, v in human.items()}}
    for left_out in (None, *SPECIES):
        folder = args.out if left_out is None else args.out / f"loso_{left_out}"
        for cls in ("coding", "noncoding"):
            records = list(human[cls])
            for name in SPECIES:
                if name != left_out:
                    records += train[name][cls]
            write(folder / f"train_{cls}.fa.gz", records)
            summary.setdefault("training_sets", {})[f"{folder.name}/train_{cls}"] = len(records)

    for cls in ("coding", "noncoding"):
        test = read(args.split / f"test_{cls}.fa.gz")
        for kind in ("fragments", "trunc5", "trunc3"):
            pieces = derived(test, kind, SEED)
            write(args.out / "test" / f"human_{kind}_{cls}.fa.gz", pieces)
            summary.setdefault("human_derived", {})[f"{kind}_{cls}"] = len(pieces)
    (args.out / "prepare.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
