"""Write a model pair: two trained networks beside it, and its validation figures.

Usage (from the repository root)::

    python benchmarks/species/make_pair.py models/default.pair.json \\
        --complete models/complete.keras --partial models/multispecies.keras \\
        [--train-dir benchmarks/work/species] [--short-below 1000 --short-log-odds D]

Both networks must have been trained on the same files with the same seed and
validation share, so that ``rnaigloo train`` kept the same validation rows aside from
both (the script checks their cards); the pair is scored on those rows at its threshold
and the figures go into the pair file (``validation_metrics``). Held-out figures are
added afterwards by ``benchmarks/species/run.py --update-card``. ``--short-below`` and
``--short-log-odds`` give the pair a short-transcript shift (``rnaigloo.network.pair``),
chosen elsewhere (``benchmarks/bisect/crossfit.py``), never on these rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from run import score_model, validation_sets  # noqa: E402 - sibling script

DESCRIPTION = (
    "A network trained with pieces of transcripts reads fragments well and complete short mRNAs badly, one trained "
    "on whole transcripts the other way round (benchmarks/TUNING.md, the bisection); the pair gives each transcript "
    "to the one its longest ORF says it resembles."
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pair", type=Path, help="the pair file to write (NAME.pair.json, beside both networks)")
    ap.add_argument("--complete", type=Path, required=True, help="the network trained on whole transcripts")
    ap.add_argument("--partial", type=Path, required=True, help="the network trained with pieces too")
    ap.add_argument("--train-dir", type=Path, default=ROOT / "benchmarks" / "work" / "species")
    ap.add_argument("--short-below", type=int, help="transcripts shorter than this (nt) get the short shift")
    ap.add_argument("--short-log-odds", type=float, help="the complete network's threshold lowered by this on them")
    ap.add_argument("--short-chosen-on", default="", help="how the shift was chosen (added to the pair's description)")
    args = ap.parse_args()
    if (args.short_below is None) != (args.short_log_odds is None):
        ap.error("--short-below and --short-log-odds go together")

    from rnaigloo.evaluate.metrics import compute_metrics
    from rnaigloo.network.card import read_card
    from rnaigloo.network.pair import PAIR_THRESHOLD, ShortShift, write_pair

    short = None if args.short_below is None else ShortShift(args.short_below, args.short_log_odds)
    extra = {"description": DESCRIPTION + (f" {args.short_chosen_on}" if short and args.short_chosen_on else "")}

    cards = {role: read_card(path) for role, path in (("complete", args.complete), ("partial", args.partial))}
    keys = [
        (c["training_data"].get("files"), c["training_data"].get("validation"), c["training"].get("seed"))
        for c in cards.values()
    ]
    if keys[0] != keys[1]:
        raise SystemExit(f"the two networks were not trained on the same files, split and seed: {keys}")
    seed = cards["complete"]["training"]["seed"]
    sets = [ts for ts in validation_sets(args.train_dir, seed, 0.1) if ts.species]  # whole transcripts only
    seqs = [s for ts in sets for s in ts.seqs]
    labels = np.concatenate([ts.labels for ts in sets])
    n_val = sum(cards["complete"]["training_data"]["validation"].values())
    if len(seqs) != n_val:
        raise SystemExit(f"found {len(seqs)} validation rows in {args.train_dir}, the cards say {n_val}")
    spec = write_pair(args.pair, args.complete, args.partial, short=short, extra=extra)
    scores, _, _ = score_model(str(spec.path), seqs)
    metrics = compute_metrics(labels, scores, PAIR_THRESHOLD)
    write_pair(args.pair, args.complete, args.partial, short=short, extra={**extra, "validation_metrics": metrics})
    print(f"wrote {args.pair}: validation MCC {metrics['mcc']:.4f}, AUROC {metrics['auroc']:.4f} on {len(seqs)} rows")


if __name__ == "__main__":
    main()
