"""Validation-set metrics of models and of their ensemble (the tuning tool).

Usage: python benchmarks/accuracy/validate.py MODEL.keras [MODEL.keras ...] [--seed 42] [--val-fraction 0.1]

Re-creates the validation split that ``rnaigloo train`` made from the training half of
the split (same seed, same fraction), scores it with each model and with the mean of
all, and prints MCC at each model's own threshold and at the ensemble's MCC-optimal
threshold. The held-out test set is not touched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--split", type=Path, default=ROOT / "benchmarks" / "work" / "split")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    args = ap.parse_args()

    from rnaigloo.runtime.tensorflow_start import start_tensorflow

    start_tensorflow()
    from rnaigloo.classify.classifier import Classifier
    from rnaigloo.evaluate.metrics import best_mcc_threshold, compute_metrics
    from rnaigloo.io.fasta import Record
    from rnaigloo.io.labelled import read_labelled
    from rnaigloo.training.data import split_validation

    data = read_labelled([str(args.split / "train_coding.fa.gz")], [str(args.split / "train_noncoding.fa.gz")])
    _, val_idx = split_validation(data.labels, data.groups, args.val_fraction, args.seed)
    y = data.labels[val_idx]
    seqs = [data.sequences[i] for i in val_idx]
    lengths = np.array([len(q) for q in seqs])
    all_scores = []
    for path in args.models:
        clf = Classifier.load([path])
        recs = (Record(f"r{i}", f"r{i}", s, i + 1, "val") for i, s in enumerate(seqs))
        scores = np.array([p.score for p in clf.predict(recs)])
        all_scores.append(scores)
        m = compute_metrics(y, scores, clf.threshold)
        by_length = []
        for lo, hi in ((0, 1000), (1000, 3000), (3000, 10**9)):
            mask = (lengths >= lo) & (lengths < hi)
            by_length.append(compute_metrics(y[mask], scores[mask], clf.threshold)["mcc"])
        print(
            f"{Path(path).stem:>20}: MCC {m['mcc']:.4f} AUROC {m['auroc']:.4f} (threshold {clf.threshold:.3f}); "
            f"MCC <1 kb {by_length[0]:.4f}, 1-3 kb {by_length[1]:.4f}, >3 kb {by_length[2]:.4f}"
        )
    if len(all_scores) > 1:
        mean = np.mean(all_scores, axis=0)
        t, mcc = best_mcc_threshold(y, mean)
        m = compute_metrics(y, mean, t)
        print(f"{'ensemble':>20}: MCC {m['mcc']:.4f} AUROC {m['auroc']:.4f} (threshold {t:.3f}, chosen on this set)")


if __name__ == "__main__":
    main()
