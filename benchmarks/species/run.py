"""Held-out figures for models, CPC2 and the longest ORF, on every set, in one run.

Usage (from the repository root, after ``benchmarks/accuracy/split.py`` and
``benchmarks/species/prepare.py``):

    python benchmarks/species/run.py -m 0.1=models/human.keras -m new=models/multispecies.keras \\
        --loso new=benchmarks/work/runs/loso_{species}.keras [--out benchmarks/species/results]

(0.1's model is bundled as ``models/human.keras``; the leave-one-species-out models are
trained as ``models/README.md`` says.)

Sets (all held out, never trained or tuned on):

* human held-out genes (``benchmarks/work/split/test_*``), all and by length
  (< 1 kb, 1-3 kb, > 3 kb), and their small-ORF subset (mRNAs whose longest ATG ORF has
  fewer than 100 codons, lncRNAs whose longest has 30-99);
* human fragments (one 300-1,500 nt window of each held-out transcript), 5'- and
  3'-truncated held-out transcripts (``prepare.py``);
* the test clusters of fly, Chlamydomonas and citrus; a ``--loso NAME=PATTERN`` row
  scores each species with the model trained without it (``{species}`` in PATTERN);
* all rat lncRNAs (specificity only: no coding partner).

Each tool is scored at its own threshold: a model at its card's, CPC2 at its own call,
the ORF baseline at a longest ATG-initiated ORF >= 300 nt (it ranks by ORF length for
AUROC). The Brier score is given for tools whose score is a probability. Writes
``OUT.md`` and ``OUT.json``.

With ``--validation`` it scores the validation split that ``rnaigloo train`` kept
aside from ``--train-dir`` (same seed and fraction), per species, and fragments and
truncations of it: the figures used to choose settings.
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
from Bio.SeqIO.FastaIO import SimpleFastaParser

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "species"))
sys.path.insert(0, str(ROOT / "benchmarks"))  # cpc2.py, shared with accuracy/run.py
from prepare import SPECIES, derived  # noqa: E402 - a sibling script, not a package

BINS = (("all", 0, float("inf")), ("< 1 kb", 0, 1000), ("1-3 kb", 1000, 3000), ("> 3 kb", 3000, float("inf")))
ORF_CUTOFF = 300
# The small-ORF set (the bisection's development set too, benchmarks/bisect/run.py): mRNAs
# whose longest ATG ORF has fewer than 100 codons, against lncRNAs whose longest has 30-99.
SMALL_ORF_CODONS = (30, 100)


class TestSet:
    def __init__(self, name: str, seqs: list[str], labels: np.ndarray, species: str = ""):
        self.name, self.seqs, self.labels, self.species = name, seqs, labels, species
        self.lengths = np.array([len(s) for s in seqs])


def read_pair(coding: Path | None, noncoding: Path) -> tuple[list[str], np.ndarray]:
    seqs, labels = [], []
    for label, path in ((1, coding), (0, noncoding)):
        if path is None:
            continue
        with gzip.open(path, "rt") as fh:
            for _, s in SimpleFastaParser(fh):
                seqs.append(s)
                labels.append(label)
    return seqs, np.array(labels)


def atg_orf_codons(seqs: list[str]) -> np.ndarray:
    """Codons of each transcript's longest ATG-initiated ORF, the stop not counted (0.1's search)."""
    from rnaigloo.encoding.reference import longest_orf
    from rnaigloo.encoding.translation import nucleotide_tokens

    out = []
    for s in seqs:
        orf = longest_orf(nucleotide_tokens(s), five_prime_open=False)
        out.append(orf.length // 3 - (1 if orf.three_prime_complete else 0))
    return np.array(out)


def small_orf_mask(codons: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Which transcripts belong to the small-ORF set, from :func:`atg_orf_codons`."""
    lo, hi = SMALL_ORF_CODONS
    return ((labels == 1) & (codons < hi)) | ((labels == 0) & (codons >= lo) & (codons < hi))


def small_orf_set(name: str, seqs: list[str], labels: np.ndarray) -> TestSet:
    """The small-ORF transcripts of a labelled set."""
    keep = small_orf_mask(atg_orf_codons(seqs), labels)
    return TestSet(name, [s for s, k in zip(seqs, keep) if k], labels[keep])


def held_out_sets(split: Path, work: Path) -> list[TestSet]:
    sets = [TestSet("human held-out", *read_pair(split / "test_coding.fa.gz", split / "test_noncoding.fa.gz"))]
    sets.append(small_orf_set("human held-out small-ORF", sets[0].seqs, sets[0].labels))
    test = work / "test"
    for kind, name in (("fragments", "human fragments 300-1,500 nt"), ("trunc5", "human 5'-truncated"), ("trunc3", "human 3'-truncated")):
        sets.append(TestSet(name, *read_pair(test / f"human_{kind}_coding.fa.gz", test / f"human_{kind}_noncoding.fa.gz")))
    for sp in SPECIES:
        sets.append(TestSet(sp, *read_pair(test / f"{sp}_coding.fa.gz", test / f"{sp}_noncoding.fa.gz"), species=sp))
    sets.append(TestSet("rat lncRNAs", *read_pair(None, test / "rat_noncoding.fa.gz"), species="rat"))
    return sets


def validation_sets(train_dir: Path, seed: int, fraction: float) -> list[TestSet]:
    """The validation rows ``rnaigloo train`` keeps aside from train_dir's files, per species, + pieces."""
    from rnaigloo.io.labelled import gene_key, iter_labelled
    from rnaigloo.training.data import split_validation

    # the records in the order and with the groups that read_labelled gives train
    seqs, labels, groups, species = [], [], [], []
    for label, _, rec in iter_labelled([str(train_dir / "train_coding.fa.gz")], [str(train_dir / "train_noncoding.fa.gz")]):
        seqs.append(rec.sequence)
        labels.append(label)
        groups.append(gene_key(rec.header, rec.id))
        tag = [w for w in rec.header.split() if w.startswith("species=")]
        species.append(tag[0].split("=", 1)[1] if tag else "human")
    labels = np.asarray(labels, dtype=np.int64)
    _, val_idx = split_validation(labels, groups, fraction, seed)
    sp = np.array([species[i] for i in val_idx])
    seqs = [seqs[i] for i in val_idx]
    y = labels[val_idx]
    sets = []
    for name in ("human", *SPECIES):
        mask = sp == name
        if mask.any():
            sets.append(TestSet(f"validation {name}", [s for s, m in zip(seqs, mask) if m], y[mask], species=name))
    sets.append(small_orf_set("validation small-ORF (all species)", seqs, y))
    records = [(f"v{i}", s) for i, s in enumerate(seqs)]
    for kind in ("fragments", "trunc5", "trunc3"):
        pieces = derived(records, kind, seed + 7)
        keep = np.array([int(h.split("_")[0][1:]) for h, _ in pieces])
        sets.append(TestSet(f"validation {kind} (all species)", [s for _, s in pieces], y[keep]))
    return sets


def score_model(path: str, seqs: list[str]) -> tuple[np.ndarray, float, float]:
    from rnaigloo.classify.classifier import Classifier

    clf = Classifier.load([path])
    t = time.time()
    scores = [clf.score_sequences(seqs[i : i + 256])[0] for i in range(0, len(seqs), 256)]
    return np.concatenate(scores), clf.threshold, time.time() - t


def score_cpc2(seqs: list[str]) -> tuple[np.ndarray, np.ndarray, float] | None:
    from cpc2 import score_cpc2 as run_cpc2

    return run_cpc2([f"s{i}" for i in range(len(seqs))], seqs)


def orf_lengths(seqs: list[str]) -> np.ndarray:
    """Longest ATG-initiated ORF (0.1's search), the baseline's score."""
    from rnaigloo.encoding.reference import longest_orf
    from rnaigloo.encoding.translation import nucleotide_tokens

    return np.array([longest_orf(nucleotide_tokens(s), five_prime_open=False).length for s in seqs], dtype=float)


def metrics(y: np.ndarray, calls: np.ndarray, scores: np.ndarray, probability: bool) -> dict:
    """A tool's figures on one set: its own calls (1 coding), and its scores for AUROC and Brier."""
    from sklearn.metrics import roc_auc_score

    from rnaigloo.evaluate.metrics import brier_score, compute_metrics

    y = y.astype(int)
    names = ("sensitivity", "specificity", "accuracy", "mcc", "auroc", "brier")
    if not len(y):
        return {"n": 0, "coding": 0, **dict.fromkeys(names)}
    m = compute_metrics(y, calls.astype(float), 0.5)  # scores of 0/1 at 0.5: the calls as made
    m["auroc"] = float(roc_auc_score(y, scores)) if m["auroc"] is not None else None
    m["brier"] = brier_score(y, scores) if probability else None
    return {"n": len(y), "coding": int(y.sum()), **{k: m[k] for k in names}}


def subsets(ts: TestSet, bins: bool) -> list[tuple[str, np.ndarray]]:
    out = [("all", np.ones(len(ts.labels), dtype=bool))]
    if bins:
        out += [(label, (ts.lengths >= lo) & (ts.lengths < hi)) for label, lo, hi in BINS[1:]]
    return out


def evaluate_all(
    sets: list[TestSet], models: dict[str, str], loso: dict[str, str], cpc2: bool
) -> tuple[dict, dict, dict]:
    """results[set][bin][tool] = metrics; timing[tool] = seconds; per_tool[tool][set index] = (calls, scores, prob)."""
    seqs = [s for ts in sets for s in ts.seqs]
    offsets = np.cumsum([0] + [len(ts.seqs) for ts in sets])
    per_tool: dict[str, list[tuple[np.ndarray, np.ndarray, bool] | None]] = {}
    timing: dict[str, float] = {}

    def by_set(calls, scores, probability, only=None):
        return [
            (calls[a:b], scores[a:b], probability) if only is None or only(ts) else None
            for ts, a, b in zip(sets, offsets[:-1], offsets[1:])
        ]

    for name, path in models.items():
        scores, threshold, secs = score_model(path, seqs)
        per_tool[name] = by_set(scores >= threshold, scores, True)
        timing[name] = secs
    for name, pattern in loso.items():
        rows: list = [None] * len(sets)
        for sp in SPECIES:
            idx = [i for i, ts in enumerate(sets) if ts.species == sp]
            if not Path(pattern.format(species=sp)).is_file():
                print(f"--loso {name}: no {pattern.format(species=sp)}; {sp} left out of that row", file=sys.stderr)
                continue
            if not idx:
                continue
            scores, threshold, _ = score_model(pattern.format(species=sp), [s for i in idx for s in sets[i].seqs])
            start = 0
            for i in idx:
                n = len(sets[i].seqs)
                rows[i] = (scores[start : start + n] >= threshold, scores[start : start + n], True)
                start += n
        per_tool[f"{name} (species left out)"] = rows
    if cpc2:
        res = score_cpc2(seqs)
        if res is not None:
            per_tool["CPC2"] = by_set(res[1], res[0], True)
            timing["CPC2"] = res[2]
    orf = orf_lengths(seqs)
    per_tool[f"longest ORF >= {ORF_CUTOFF} nt"] = by_set(orf >= ORF_CUTOFF, orf, False)

    results: dict = {}
    for i, ts in enumerate(sets):
        results[ts.name] = {}
        for label, mask in subsets(ts, bins=ts.name in ("human held-out",) or ts.species in SPECIES or ts.name.startswith(("validation", "dev "))):
            if not mask.any():
                continue
            results[ts.name][label] = {}
            for tool, rows in per_tool.items():
                if rows[i] is None:
                    continue
                calls, scores, prob = rows[i]
                results[ts.name][label][tool] = metrics(ts.labels[mask], calls[mask], scores[mask], prob)
    return results, timing, per_tool


def update_card(path: str, sets: list[TestSet], own: list, left_out: list | None, loso_pattern: str | None) -> None:
    """Write the model's held-out figures into its card (the human held-out genes by length, and the rest)."""
    from rnaigloo.evaluate.metrics import compute_metrics
    from rnaigloo.io.files import write_json_atomic
    from rnaigloo.network.card import read_card
    from rnaigloo.network.pair import PAIR_THRESHOLD, read_pair
    from rnaigloo.network.paths import card_path, is_pair_path

    def threshold_of(model: str) -> float:  # a pair calls at its own threshold, each network at its card's
        return PAIR_THRESHOLD if is_pair_path(model) else float(read_card(model)["threshold"])

    card = read_pair(path).data if is_pair_path(path) else read_card(path)
    by_length, other = {}, {}
    for i, ts in enumerate(sets):
        rows = own if ts.species not in SPECIES else left_out
        if rows is None or rows[i] is None:
            continue
        scores = rows[i][1]
        if ts.species in SPECIES:  # each left-out model at its own threshold
            threshold = threshold_of(loso_pattern.format(species=ts.species))
        else:
            threshold = threshold_of(path)
        if ts.name == "human held-out":
            for label, mask in subsets(ts, bins=True):
                by_length[label] = compute_metrics(ts.labels[mask], scores[mask], threshold)
        else:
            label = f"{ts.name} (left out of training)" if ts.species in SPECIES else ts.name
            other[label] = compute_metrics(ts.labels, scores, threshold)
    card["held_out_metrics"] = {
        "description": "Held-out test set: 10% of the genes of ../shared/data (benchmarks/accuracy/split.py, "
        "seed 20261121), gene-disjoint from training and never used for tuning; reproduced by "
        "benchmarks/species/run.py.",
        "by_length": by_length,
    }
    card["other_held_out_metrics"] = {
        "description": "Other held-out sets (benchmarks/species/prepare.py, seed 20261122; never trained or tuned on): "
        "one 300-1,500 nt window, or a 20-80 % 5'/3' truncation, of each held-out human transcript; each species' "
        "test clusters (20 % of kmer_clusters.tsv clusters) scored by a model trained with the same command "
        "without that species (leave one species out); all rat lncRNAs (specificity only). "
        "Reproduced by "
        "benchmarks/species/run.py.",
        "sets": other,
    }
    write_json_atomic(path if is_pair_path(path) else card_path(path), card)


def _f(v, digits=3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def summary(results: dict) -> str:
    """One table: MCC of every tool on every set (specificity where there is one class)."""
    tools = list(dict.fromkeys(t for by_bin in results.values() for tools in by_bin.values() for t in tools))
    lines = ["| set | n (coding) | " + " | ".join(tools) + " |", "|---|---|" + "---|" * len(tools)]
    for set_name, by_bin in results.items():
        for label, row in by_bin.items():
            if label != "all" and set_name != "human held-out":
                continue
            first = next(iter(row.values()))
            one_class = first["coding"] == 0 or first["coding"] == first["n"]
            key = "specificity" if first["coding"] == 0 else ("sensitivity" if one_class else "mcc")
            name = set_name if label == "all" else f"{set_name}, {label}"
            if one_class and key not in name:
                name += f" ({key})"
            cells = [_f(row[t][key]) if t in row else "" for t in tools]
            lines.append(f"| {name} | {first['n']} ({first['coding']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(results: dict) -> str:
    lines = ["MCC (specificity for the lncRNA-only set):", "", summary(results), "Each set in full:", ""]
    for set_name, by_bin in results.items():
        lines += [f"### {set_name}", ""]
        specificity_only = all(m["coding"] == 0 for tools in by_bin.values() for m in tools.values())
        if specificity_only:
            lines += ["| tool | n | specificity | Brier |", "|---|---|---|---|"]
            for tool, m in by_bin["all"].items():
                lines.append(f"| {tool} | {m['n']} | {_f(m['specificity'])} | {_f(m['brier'])} |")
        else:
            lines += [
                "| tool | length | n (coding) | MCC | sensitivity | specificity | AUROC | Brier |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for label, tools in by_bin.items():
                for tool, m in tools.items():
                    lines.append(
                        f"| {tool} | {label} | {m['n']} ({m['coding']}) | {_f(m['mcc'])} | {_f(m['sensitivity'])} | "
                        f"{_f(m['specificity'])} | {_f(m['auroc'])} | {_f(m['brier'])} |"
                    )
        lines.append("")
    return "\n".join(lines)


def _named(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise SystemExit(f"{what} expects NAME=PATH, found {v!r}")
        name, path = v.split("=", 1)
        out[name] = path
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", "--model", action="append", default=[], metavar="NAME=PATH", help="a model to score")
    ap.add_argument(
        "--loso", action="append", default=[], metavar="NAME=PATTERN", help="leave-one-out models, {species} in PATTERN"
    )
    ap.add_argument("--split", type=Path, default=ROOT / "benchmarks" / "work" / "split")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "species")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "species" / "results")
    ap.add_argument("--no-cpc2", action="store_true", help="leave CPC2 out")
    ap.add_argument("--validation", action="store_true", help="score the training validation split instead")
    ap.add_argument("--train-dir", type=Path, help="with --validation: the folder of train_*.fa.gz [--work]")
    ap.add_argument(
        "--update-card", metavar="NAME", help="write the held-out figures of model NAME (and of --loso NAME) into its card"
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    args = ap.parse_args()
    models, loso = _named(args.model, "-m"), _named(args.loso, "--loso")

    from rnaigloo.runtime.tensorflow_start import start_tensorflow

    start_tensorflow()
    if args.validation:
        sets = validation_sets(args.train_dir or args.work, args.seed, args.val_fraction)
    else:
        if not (args.work / "test" / "fly_coding.fa.gz").is_file():
            raise SystemExit(f"no test sets in {args.work}: run benchmarks/species/prepare.py first")
        sets = held_out_sets(args.split, args.work)
    t = time.time()
    results, timing, per_tool = evaluate_all(sets, models, loso, not args.no_cpc2)
    table = markdown(results)
    print(table)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"
    payload = {
        "kind": "validation" if args.validation else "held-out",
        "models": models,
        "loso": loso,
        "machine": machine,
        "scoring_seconds": timing,
        "total_seconds": round(time.time() - t, 1),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    head = "Validation" if args.validation else "Held-out"
    names = ", ".join(f"{k} = `{v}`" for k, v in {**models, **{f'{k} (left out)': v for k, v in loso.items()}}.items())
    args.out.with_suffix(".md").write_text(f"# {head} figures\n\nModels: {names}. Machine: {machine}.\n\n{table}")
    if args.update_card and not args.validation:
        if args.update_card not in models:
            raise SystemExit(f"--update-card {args.update_card}: no such -m model")
        update_card(
            models[args.update_card],
            sets,
            per_tool[args.update_card],
            per_tool.get(f"{args.update_card} (species left out)"),
            loso.get(args.update_card),
        )


if __name__ == "__main__":
    main()
