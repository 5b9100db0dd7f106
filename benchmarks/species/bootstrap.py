"""How sure are the held-out gaps to 0.1? A paired bootstrap of MCC differences.

Usage (from the repository root, after ``benchmarks/accuracy/split.py`` and
``prepare.py``)::

    python benchmarks/species/bootstrap.py [--resamples 2000] [--seed 20261207]

Each model calls the human held-out genes (all, by length bin, and the small-ORF subset)
at its own threshold. The transcripts of a set are resampled with replacement, the same
draw for every model, and the MCC difference to 0.1 (``models/human.keras``) is computed
on each draw: its 95 % percentile interval and the share of draws where the model is at
least as good as 0.1. Transcripts are drawn one by one (isoforms of a gene are drawn
apart), so the intervals are if anything too narrow. Writes ``bootstrap.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from run import BINS, held_out_sets, score_model  # noqa: E402 - sibling script

REFERENCE = ("0.1 (`human`)", ROOT / "models" / "human.keras")
MODELS = (
    ("pair (`default`)", ROOT / "models" / "default.pair.json"),
    ("`complete`", ROOT / "models" / "complete.keras"),
    ("0.2 (`multispecies`)", ROOT / "models" / "multispecies.keras"),
)
SETS = ("human held-out", "human held-out small-ORF")


def mcc_batch(y: np.ndarray, calls: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """MCC of ``calls`` against ``y`` on each row of resample indices ``idx`` (draws x n)."""
    yt, cp = y[idx].astype(float), calls[idx].astype(float)
    tp = (yt * cp).sum(1)
    fp = ((1 - yt) * cp).sum(1)
    fn = (yt * (1 - cp)).sum(1)
    tn = ((1 - yt) * (1 - cp)).sum(1)
    den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return np.where(den > 0, (tp * tn - fp * fn) / np.where(den > 0, den, 1), 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--split", type=Path, default=ROOT / "benchmarks" / "work" / "split")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "species")
    args = ap.parse_args()

    sets = [ts for ts in held_out_sets(args.split, args.work) if ts.name in SETS]
    calls = {}
    for label, path in (REFERENCE, *MODELS):
        for ts in sets:
            scores, threshold, _ = score_model(str(path), ts.seqs)
            calls[(label, ts.name)] = scores >= threshold
    rng = np.random.default_rng(args.seed)
    results: dict = {}
    for ts in sets:
        bins = BINS if ts.name == "human held-out" else BINS[:1]
        for bin_, lo, hi in bins:
            mask = (ts.lengths >= lo) & (ts.lengths < hi)
            y = ts.labels[mask].astype(int)
            idx = rng.integers(0, len(y), size=(args.resamples, len(y)))
            ref = mcc_batch(y, calls[(REFERENCE[0], ts.name)][mask], idx)
            whole = np.arange(len(y))[None]
            ref_point = float(mcc_batch(y, calls[(REFERENCE[0], ts.name)][mask], whole)[0])
            row = {"n": int(len(y)), "coding": int(y.sum()), "reference": ref_point, "models": {}}
            for label, _ in MODELS:
                own = calls[(label, ts.name)][mask]
                diff = mcc_batch(y, own, idx) - ref
                point = float(mcc_batch(y, own, whole)[0])
                row["models"][label] = {
                    "mcc": point,
                    "difference": point - ref_point,
                    "ci95": [float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))],
                    "share_at_least_reference": float((diff >= 0).mean()),
                }
            results[f"{ts.name} / {bin_}"] = row
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"
    payload = {"machine": machine, "resamples": args.resamples, "seed": args.seed, "reference": REFERENCE[0], "results": results}
    out = HERE / "bootstrap"
    out.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        "# Held-out MCC differences to 0.1, paired bootstrap\n",
        f"{args.resamples} resamples of transcripts (seed {args.seed}), the same draws for every model; "
        "each model at its own threshold. Cell: MCC difference to 0.1 [95 % interval] (share of draws at "
        f"or above 0.1). Machine: {machine}.\n",
        "| set | n (coding) | 0.1 | " + " | ".join(label for label, _ in MODELS) + " |",
        "|---" * (len(MODELS) + 3) + "|",
    ]
    for key, row in results.items():
        cells = []
        for label, _ in MODELS:
            m = row["models"][label]
            lo, hi = m["ci95"]
            cells.append(f"{m['difference']:+.3f} [{lo:+.3f}, {hi:+.3f}] ({m['share_at_least_reference']:.2f})")
        lines.append(f"| {key} | {row['n']} ({row['coding']}) | {row['reference']:.3f} | " + " | ".join(cells) + " |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
