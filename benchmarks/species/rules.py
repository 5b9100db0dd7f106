"""Which transcripts should a model pair give to its network trained with pieces?

Usage (from the repository root, after ``prepare.py`` and with both networks trained)::

    python benchmarks/species/rules.py [--complete models/complete.keras] [--partial models/multispecies.keras]

Scores the validation rows the two networks share (``run.py --validation``: each
species, the small-ORF subset, fragments and 5'/3' truncations cut from them) with both
networks once, then combines them by each candidate rule, each network at its own
threshold (what a pair does). A rule reads the longest ORF of encoding 3's search:

* ``incomplete``: the ORF lacks its start codon (a frame open to the 5' end won) or its
  stop codon;
* ``incomplete, ORF >= X of the transcript``: and it covers at least that share of the
  transcript, as an ORF cut out of a CDS does (a lncRNA's open frame is short);
* ``incomplete, ORF >= N nt``: and it is at least that long;
* ``incomplete, transcript < N nt``: and the transcript is shorter than N (a long
  transcript carries enough of its ORF for the complete network; a lncRNA with an open
  end is often long). The validation fragments are 300-1,500 nt windows, all below every
  N tried, so only the 5'/3' truncations and whole transcripts tell these rules apart;
* ``incomplete: mean of both``: those rows get the mean of both networks' log-odds
  (each less its own threshold's), the rest the complete network's;
* ``no start`` / ``no stop`` / ``no start and no stop``: one end open, or both (a
  lncRNA's open frame mostly lacks one end; a piece from inside a CDS lacks both);
* ``incomplete, partial +1`` / ``+2``: the incomplete rule, the partial network's
  threshold raised by 1 or 2 in log-odds on the rows it receives (stricter on them).

Only validation rows are read: this is where the rule is chosen. Writes ``rules.{md,json}``.
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
from run import score_model, validation_sets  # noqa: E402 - sibling script

SHARES = (0.0, 0.3, 0.5, 0.7)
LENGTHS = (300, 450)
TRANSCRIPTS = (1500, 2000, 3000)


def orf_facts(seqs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per transcript, of its encoding-3 longest ORF: incomplete, its length, no start codon, no stop codon."""
    from rnaigloo.encoding.encoder import encode_sequences, incomplete_orfs

    flags = incomplete_orfs(seqs, 3)
    orfs = [o for i in range(0, len(seqs), 512) for o in encode_sequences(seqs[i : i + 512], 3, 3, 3).orfs]
    lengths = np.array([o.length for o in orfs])
    no_start = np.array([o.length > 0 and s[o.start - 1 : o.start + 2].upper() != "ATG" for o, s in zip(orfs, seqs)])
    no_stop = np.array([o.length > 0 and not o.three_prime_complete for o in orfs])
    if not np.array_equal(flags, no_start | no_stop):
        raise SystemExit("orf_facts: the ORF search disagrees with incomplete_orfs")
    return flags, lengths, no_start, no_stop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--complete", default=str(ROOT / "models" / "complete.keras"))
    ap.add_argument("--partial", default=str(ROOT / "models" / "multispecies.keras"))
    ap.add_argument("--train-dir", type=Path, default=ROOT / "benchmarks" / "work" / "species")
    ap.add_argument("--out", type=Path, default=HERE / "rules")
    args = ap.parse_args()
    from sklearn.metrics import matthews_corrcoef, roc_auc_score

    sets = validation_sets(args.train_dir, 42, 0.1)
    seqs = [s for ts in sets for s in ts.seqs]
    (sc, tc, _), (sp, tp, _) = score_model(args.complete, seqs), score_model(args.partial, seqs)
    flags, orf_len, no_start, no_stop = orf_facts(seqs)
    tx_len = np.array([len(s) for s in seqs])
    rules = {"complete only": np.zeros(len(seqs), bool), "partial only": np.ones(len(seqs), bool), "incomplete": flags}
    for share in SHARES[1:]:
        rules[f"incomplete, ORF >= {share:.0%}"] = flags & (orf_len >= share * tx_len)
    for n in LENGTHS:
        rules[f"incomplete, ORF >= {n} nt"] = flags & (orf_len >= n)
    for n in TRANSCRIPTS:
        rules[f"incomplete, transcript < {n} nt"] = flags & (tx_len < n)
    rules["incomplete: mean of both"] = flags  # both networks on those rows, their log-odds averaged
    rules["no start"], rules["no stop"], rules["no start and no stop"] = no_start, no_stop, no_start & no_stop
    offsets = {"incomplete, partial +0.5": 0.5, "incomplete, partial +1": 1.0, "incomplete, partial +2": 2.0}
    for rule in offsets:
        rules[rule] = flags
    results: dict = {}
    start = 0
    for ts in sets:
        rows = slice(start, start + len(ts.seqs))
        start += len(ts.seqs)
        y = ts.labels.astype(int)
        results[ts.name] = {}
        # each network's log-odds less its threshold's: one scale, 0 at each network's threshold
        zp = np.log(sp[rows] + 1e-12) - np.log1p(-sp[rows] + 1e-12) - np.log(tp / (1 - tp))
        zc = np.log(sc[rows] + 1e-12) - np.log1p(-sc[rows] + 1e-12) - np.log(tc / (1 - tc))
        for rule, m in rules.items():
            m = m[rows]
            both = (zp + zc) / 2 if rule.endswith("mean of both") else zp - offsets.get(rule, 0.0)
            z = np.where(m, both, zc)
            calls = z >= 0
            results[ts.name][rule] = {
                "partial_share": float(m.mean()),
                "mcc": float(matthews_corrcoef(y, calls)),
                "specificity": float(1 - calls[y == 0].mean()) if (y == 0).any() else None,
                "sensitivity": float(calls[y == 1].mean()) if (y == 1).any() else None,
                "auroc": float(roc_auc_score(y, z)),
            }
    payload = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
               "complete": args.complete, "partial": args.partial, "results": results}  # fmt: skip
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = ["MCC (AUROC) on the validation rows, each network at its own threshold; [share sent to the partial network];",
             "then specificity / sensitivity", "",
             "| set | " + " | ".join(rules) + " |", "|---" * (len(rules) + 1) + "|"]  # fmt: skip
    for name, row in results.items():
        cells = [f"{r['mcc']:.3f} ({r['auroc']:.3f}) [{r['partial_share']:.2f}]" for r in row.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| set | " + " | ".join(rules) + " |", "|---" * (len(rules) + 1) + "|"]
    for name, row in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{r['specificity']:.3f} / {r['sensitivity']:.3f}" for r in row.values()) + " |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
