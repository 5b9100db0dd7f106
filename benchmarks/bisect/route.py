"""Does routing each transcript to one of two models beat either model alone?

Usage (after ``run.py prepare`` and the two runs are trained)::

    python benchmarks/bisect/route.py --complete r01-species-enc4 --partial r02 [--seed 42]

The bisection found that the training pieces (``fragments``) cost the complete short
mRNAs their ranking and buy the fragments theirs. A model trained without pieces
(``--complete``) and one trained with them (``--partial``) are each better on their own
half. This script scores the development sets with both and combines them per
transcript by a rule read off the transcript alone, the way ``classify`` could:

* ``open``: the longest ORF of encoding 3's search (ATG ORFs, and a frame open to the 5'
  end when 1.5 times longer) is 5'-partial or 3'-partial: what a piece cut from a CDS
  looks like. Those go to ``--partial``, the rest (complete ORFs, no ORF) to
  ``--complete``.
* ``incomplete``: the ORF has no start codon (the frame open to the 5' end won) or no
  stop codon; an ATG ORF with no in-frame stop upstream (a short 5' UTR) stays with
  ``--complete``.
* ``mean``: both models on every transcript, their scores averaged (twice the cost).

Calls: each member's own threshold for the transcripts it scored (``own``), or one
threshold for the pair chosen on the pair's scores of the training validation rows
(``pair``, the same rows for both members when they were trained on the same pool with
the same seed). Writes ``route.{md,json}`` beside this script.
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
sys.path.insert(0, str(HERE))
from features import OUT, dev_sets, model_path, read_records  # noqa: E402 - sibling script (loads run.py)

RULES = ("open", "incomplete")


def partial_mask(seqs: list[str], rule: str) -> np.ndarray:
    """True where ``rule`` sends a transcript to the model trained with pieces."""
    from rnaigloo.encoding.encoder import encode_sequences

    out = []
    for i in range(0, len(seqs), 512):
        orfs = encode_sequences(seqs[i : i + 512], 3, 3, 3).orfs
        for seq, o in zip(seqs[i : i + 512], orfs):
            if not o.found:
                out.append(False)
            elif rule == "open":
                out.append(not o.five_prime_complete or not o.three_prime_complete)
            else:  # no start codon (a frame open to the 5' end won) or no stop codon
                out.append(seq[o.start - 1 : o.start + 2].upper().replace("U", "T") != "ATG" or not o.three_prime_complete)
    return np.array(out, dtype=bool)


def scores_of(path: Path, seqs: list[str]) -> tuple[np.ndarray, float]:
    from rnaigloo.classify.classifier import Classifier

    clf = Classifier.load([str(path)])
    parts = [clf.score_sequences(seqs[i : i + 256])[0] for i in range(0, len(seqs), 256)]
    return np.concatenate(parts) if parts else np.zeros(0), clf.threshold


def validation_rows() -> tuple[list[str], np.ndarray]:
    """The validation rows ``rnaigloo train`` kept aside from the run's pool (seed 42)."""
    from rnaigloo.io.labelled import gene_key
    from rnaigloo.training.data import split_validation

    recs = [(1, h, s) for h, s in read_records(OUT / "species_coding.fa.gz")]
    recs += [(0, h, s) for h, s in read_records(OUT / "species_noncoding.fa.gz")]
    y = np.array([r[0] for r in recs])
    _, val = split_validation(y, [gene_key(h, h.split()[0]) for _, h, _ in recs], 0.1, 42)
    return [recs[i][2] for i in val], y[val]


def best_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    from rnaigloo.evaluate.metrics import best_mcc_threshold

    return float(best_mcc_threshold(y, scores)[0])


def figures(y: np.ndarray, calls: np.ndarray, scores: np.ndarray) -> dict:
    from sklearn.metrics import matthews_corrcoef, roc_auc_score

    both = len(set(y.tolist())) == 2
    return {
        "n": int(len(y)),
        "mcc": float(matthews_corrcoef(y, calls)) if both else None,
        "auroc": float(roc_auc_score(y, scores)) if both else None,
        "sensitivity": float(calls[y == 1].mean()) if (y == 1).any() else None,
        "specificity": float(1 - calls[y == 0].mean()) if (y == 0).any() else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--complete", required=True, help="run trained without pieces (or a .keras file)")
    ap.add_argument("--partial", required=True, help="run trained with pieces (or a .keras file)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=HERE / "route")
    args = ap.parse_args()
    members = {
        k: Path(run) if run.endswith(".keras") else model_path(run, args.seed)
        for k, run in (("complete", args.complete), ("partial", args.partial))
    }
    sets = dev_sets()
    val_seqs, val_y = validation_rows()
    seqs = [s for ts in sets for s in ts.seqs] + val_seqs
    scored = {k: scores_of(p, seqs) for k, p in members.items()}
    masks = {rule: partial_mask(seqs, rule) for rule in RULES}
    n_val = len(val_seqs)
    tools: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (scores, calls) over seqs
    for k, (s, t) in scored.items():
        tools[f"{k} ({args.complete if k == 'complete' else args.partial})"] = (s, s >= t)
    (sc, tc), (sp, tp) = scored["complete"], scored["partial"]
    for rule, m in masks.items():
        s = np.where(m, sp, sc)
        tools[f"route {rule}, own thresholds"] = (s, np.where(m, sp >= tp, sc >= tc))
        t = best_threshold(val_y, s[-n_val:])
        tools[f"route {rule}, pair threshold {t:.3f}"] = (s, s >= t)
    mean = (sc + sp) / 2
    t = best_threshold(val_y, mean[-n_val:])
    tools[f"mean, pair threshold {t:.3f}"] = (mean, mean >= t)

    results: dict = {}
    start = 0
    named = [(ts.name, ts.labels, ts.lengths, len(ts.seqs)) for ts in sets] + [("validation rows", val_y, None, n_val)]
    for name, y, lengths, n in named:
        rows = slice(start, start + n)
        start += n
        bins = [("all", np.ones(n, dtype=bool))]
        if lengths is not None and name in ("dev human", "human held-out"):
            bins += [("< 1 kb", lengths < 1000), ("1-3 kb", (lengths >= 1000) & (lengths < 3000)), ("> 3 kb", lengths >= 3000)]
        for label, b in bins:
            key = f"{name} {label}".replace(" all", "")
            results[key] = {f"{rule} share": float(masks[rule][rows][b].mean()) for rule in RULES}
            for tool, (s, c) in tools.items():
                results[key][tool] = figures(y[b].astype(int), c[rows][b].astype(int), s[rows][b])
    payload = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "members": {k: str(p) for k, p in members.items()},
        "results": results,
    }
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        f"Routing between `{args.complete}` (no pieces) and `{args.partial}` (pieces), seed {args.seed}: "
        "MCC (AUROC); the shares are the transcripts each rule sends to the partial model.\n",
        "| set | " + " | ".join(f"{r} share" for r in RULES) + " | " + " | ".join(tools) + " |",
        "|---" * (len(tools) + len(RULES) + 1) + "|",
    ]
    for key, row in results.items():
        cells = [
            "-" if row[t]["mcc"] is None else f"{row[t]['mcc']:.3f} ({row[t]['auroc']:.3f})" for t in tools
        ]
        shares = " | ".join(f"{row[f'{r} share']:.2f}" for r in RULES)
        lines.append(f"| {key} | {shares} | " + " | ".join(cells) + " |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
