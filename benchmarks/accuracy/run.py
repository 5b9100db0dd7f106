"""Held-out accuracy of rnaigloo next to CPC2 and a longest-ORF baseline, in one run.

Usage (from the repository root, after ``pip install ".[bench]"``):

    python benchmarks/accuracy/split.py          # once: the gene-disjoint split
    python benchmarks/accuracy/run.py [-m MODEL.keras ...] [--out benchmarks/accuracy/results]

All tools score the same held-out test set (``benchmarks/work/split/test_*.fa.gz``,
never used for training or tuning). Reported: accuracy, F1, MCC and AUROC, overall and
by transcript length (< 1 kb, 1-3 kb, > 3 kb). The ORF baseline calls a transcript
coding when its longest ORF is at least 300 nt (its AUROC ranks by ORF length).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from Bio.SeqIO.FastaIO import SimpleFastaParser
from cpc2 import score_cpc2  # noqa: E402 - benchmarks/cpc2.py, shared by the benchmark scripts
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef, roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
BINS = (("all", 0, float("inf")), ("< 1 kb", 0, 1000), ("1-3 kb", 1000, 3000), ("> 3 kb", 3000, float("inf")))


def read_split(split: Path) -> tuple[list[str], list[str], np.ndarray]:
    ids, seqs, labels = [], [], []
    for label, cls in ((1, "coding"), (0, "noncoding")):
        with gzip.open(split / f"test_{cls}.fa.gz", "rt") as fh:
            for header, seq in SimpleFastaParser(fh):
                ids.append(header.split()[0])
                seqs.append(seq)
                labels.append(label)
    return ids, seqs, np.array(labels)


def score_rnaigloo(models: list[str], ids: list[str], seqs: list[str]) -> tuple[np.ndarray, float, float]:
    from rnaigloo.runtime.tensorflow_start import start_tensorflow

    start_tensorflow()
    from rnaigloo.classify.classifier import Classifier
    from rnaigloo.io.fasta import Record

    clf = Classifier.load(models or None)
    records = (Record(h, h, s, i + 1, "test") for i, (h, s) in enumerate(zip(ids, seqs)))
    t = time.time()
    scores = np.array([p.score for p in clf.predict(records, batch_size=256)])
    return scores, clf.threshold, time.time() - t


def orf_lengths(seqs: list[str]) -> np.ndarray:
    from rnaigloo.encoding.reference import longest_orf
    from rnaigloo.encoding.translation import nucleotide_tokens

    return np.array([longest_orf(nucleotide_tokens(s)).length for s in seqs])


def metrics(y: np.ndarray, calls: np.ndarray, scores: np.ndarray) -> dict[str, float | int | None]:
    both = len(np.unique(y)) == 2
    return {
        "n": len(y),
        "coding": int(y.sum()),
        "accuracy": float(accuracy_score(y, calls)),
        "f1": float(f1_score(y, calls, zero_division=0)),
        "mcc": float(matthews_corrcoef(y, calls)),
        "auroc": float(roc_auc_score(y, scores)) if both else None,
    }


def update_card(model: str | None, y: np.ndarray, scores: np.ndarray, threshold: float, lengths: np.ndarray) -> None:
    """Add the held-out metrics (all of rnaigloo's, by length bin) to the model's card."""
    from rnaigloo.evaluate.metrics import compute_metrics
    from rnaigloo.io.files import write_json_atomic
    from rnaigloo.network.card import read_card
    from rnaigloo.network.pair import read_pair
    from rnaigloo.network.paths import card_path, default_model_path, is_pair_path

    path = Path(model) if model else default_model_path()
    card = read_pair(path).data if is_pair_path(path) else read_card(path)
    by_length = {}
    for label, lo, hi in BINS:
        mask = (lengths >= lo) & (lengths < hi)
        by_length[label] = compute_metrics(y[mask], scores[mask], threshold)
    card["held_out_metrics"] = {
        "description": "Held-out test set: 10% of the genes of ../shared/data (benchmarks/accuracy/split.py, "
        "seed 20261121), gene-disjoint from training and never used for tuning; "
        "reproduced by benchmarks/accuracy/run.py.",
        "by_length": by_length,
    }
    write_json_atomic(path if is_pair_path(path) else card_path(path), card)


def main() -> None:
    ap = argparse.ArgumentParser(description="Held-out accuracy: rnaigloo vs CPC2 vs longest ORF.")
    ap.add_argument("-m", "--model", action="append", default=[], help="model(s) to test [bundled]")
    ap.add_argument("--split", type=Path, default=ROOT / "benchmarks" / "work" / "split")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "accuracy" / "results")
    ap.add_argument(
        "--update-card",
        action="store_true",
        help="write rnaigloo's held-out metrics into the (single) model's card as held_out_metrics",
    )
    args = ap.parse_args()
    if not (args.split / "test_coding.fa.gz").is_file():
        sys.exit(f"no test split in {args.split}: run benchmarks/accuracy/split.py first")

    ids, seqs, y = read_split(args.split)
    lengths = np.array([len(s) for s in seqs])
    tools: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    timing: dict[str, float] = {}
    scores, threshold, secs = score_rnaigloo(args.model, ids, seqs)
    tools["rnaigloo"] = (scores >= threshold, scores)
    timing["rnaigloo"] = secs
    cpc2 = score_cpc2(ids, seqs)
    if cpc2 is not None:
        tools["CPC2"] = (cpc2[1], cpc2[0])
        timing["CPC2"] = cpc2[2]
    orf = orf_lengths(seqs)
    tools["longest ORF >= 300 nt"] = (orf >= 300, orf.astype(float))

    results: dict[str, dict[str, dict]] = {}
    for name, (calls, sc) in tools.items():
        results[name] = {}
        for label, lo, hi in BINS:
            mask = (lengths >= lo) & (lengths < hi)
            results[name][label] = metrics(y[mask], np.asarray(calls)[mask].astype(int), sc[mask])

    lines = [
        f"Held-out test set: {len(y)} transcripts ({int(y.sum())} coding, {int(len(y) - y.sum())} non-coding), "
        "gene-disjoint from training (benchmarks/accuracy/split.py).",
        "",
        "| tool | length | n | accuracy | F1 | MCC | AUROC |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, by_bin in results.items():
        for label, m in by_bin.items():
            auroc = f"{m['auroc']:.4f}" if m["auroc"] is not None else "NA"
            lines.append(
                f"| {name} | {label} | {m['n']} | {m['accuracy']:.4f} | {m['f1']:.4f} | {m['mcc']:.4f} | {auroc} |"
            )
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"
    payload = {
        "models": args.model or ["bundled"],
        "threshold": threshold,
        "machine": machine,
        "scoring_seconds": timing,
        "results": results,
    }
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    if args.update_card:
        update_card(args.model[0] if args.model else None, y, scores, threshold, lengths)
    args.out.with_suffix(".md").write_text(
        f"# Held-out accuracy\n\nModel(s): {', '.join(payload['models'])}; machine: {machine}.\n\n{table}"
    )


if __name__ == "__main__":
    main()
