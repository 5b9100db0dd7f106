"""Would a threshold of their own for transcripts under 1 kb win back 0.1's short mRNAs?

Usage (from the repository root, after ``benchmarks/accuracy/split.py`` and
``prepare.py``)::

    python benchmarks/species/short_threshold.py [--model models/default.pair.json]

The model's score is the pair's (each network's threshold moved to 0.5). For each
threshold of a grid, the MCC of the transcripts under 1 kb called at that threshold
(longer transcripts keep 0.5):

* **choice**: the validation rows ``rnaigloo train`` kept aside (``run.py``'s
  ``validation_sets``): human under 1 kb, and the small-ORF subset of all species; the
  threshold is the grid point with the best human-under-1-kb MCC, 0.5 on a tie;
* **held-out**: the human held-out split under 1 kb and its small-ORF subset, scored
  once for the chosen threshold and 0.5 (the grid's other points are listed too, marked
  as not used for any choice).

Writes ``short_threshold.{md,json}``.
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
from run import held_out_sets, score_model, validation_sets  # noqa: E402 - sibling script

GRID = (0.30, 0.35, 0.40, 0.45, 0.50)
SHORT = 1000


def mcc_at(y: np.ndarray, scores: np.ndarray, short: np.ndarray, threshold: float) -> dict:
    """MCC, sensitivity and specificity with the short rows called at ``threshold``, the rest at 0.5."""
    from sklearn.metrics import matthews_corrcoef

    calls = np.where(short, scores >= threshold, scores >= 0.5)
    return {
        "mcc": float(matthews_corrcoef(y, calls)),
        "sensitivity": float(calls[y == 1].mean()),
        "specificity": float(1 - calls[y == 0].mean()),
        "n": int(len(y)),
        "coding": int(y.sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "default.pair.json"))
    ap.add_argument("--train-dir", type=Path, default=ROOT / "benchmarks" / "work" / "species")
    ap.add_argument("--split", type=Path, default=ROOT / "benchmarks" / "work" / "split")
    ap.add_argument("--out", type=Path, default=HERE / "short_threshold")
    args = ap.parse_args()

    wanted = {
        "validation human": "validation human",
        "validation small-ORF (all species)": "validation small-ORF",
        "human held-out": "held-out human",
        "human held-out small-ORF": "held-out small-ORF",
    }
    sets = [ts for ts in validation_sets(args.train_dir, 42, 0.1) if ts.name in wanted]
    sets += [ts for ts in held_out_sets(args.split, args.train_dir) if ts.name in wanted]
    results: dict = {}
    for ts in sets:
        scores, threshold, _ = score_model(args.model, ts.seqs)
        if abs(threshold - 0.5) > 1e-9:
            raise SystemExit(f"{args.model}: expected a pair's 0.5 threshold, found {threshold}")
        short = ts.lengths < SHORT
        y = ts.labels.astype(int)
        name = wanted[ts.name]
        results[name] = {
            "under 1 kb": {f"{t:.2f}": mcc_at(y[short], scores[short], np.ones(short.sum(), bool), t) for t in GRID},
            "all": {f"{t:.2f}": mcc_at(y, scores, short, t) for t in GRID},
        }
    choice = results["validation human"]["under 1 kb"]
    best = max(GRID, key=lambda t: (round(choice[f"{t:.2f}"]["mcc"], 6), t == 0.5))
    payload = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "model": args.model,
        "chosen": best,
        "results": results,
    }
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        f"Model: `{Path(args.model).name}`. MCC (sensitivity / specificity) with transcripts under 1 kb called at "
        "each threshold, longer ones at 0.5. Chosen on validation human under 1 kb: "
        f"**{best:.2f}**. Held-out rows were scored after the choice; their other thresholds chose nothing.",
        "",
        "| set | part | " + " | ".join(f"{t:.2f}" for t in GRID) + " |",
        "|---" * (len(GRID) + 2) + "|",
    ]
    for name, parts in results.items():
        for part, row in parts.items():
            cells = [f"{r['mcc']:.3f} ({r['sensitivity']:.3f} / {r['specificity']:.3f})" for r in row.values()]
            n = next(iter(row.values()))
            lines.append(f"| {name} ({n['n']}, {n['coding']} coding) | {part} | " + " | ".join(cells) + " |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
