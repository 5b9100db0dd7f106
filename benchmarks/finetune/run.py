"""Held-out MCC against the number of species transcripts: fine-tuned vs from scratch;
and shuffled mRNAs vs real lncRNAs as the non-coding class.

Usage (from the repository root):

    python benchmarks/finetune/run.py [--data ../shared/data/species] [--species fly]
        [--sizes 200,500,1000,2000,all] [--out benchmarks/finetune/results.json]

1. The species' transcripts are split by ``kmer_clusters.tsv`` cluster (seed 20261122):
   20 % of the clusters are the held-out test set, never used for training or choices.
2. For each size N, N transcripts are drawn from the rest (seeded, class proportions
   kept) and a model is trained (a) from scratch with the default settings and (b)
   fine-tuned with ``--init-from human --set learning_rate=0.0003``; both with the
   default epochs, patience and validation split.
3. The bundled human model is scored as it is.
4. Shuffle mode: all training mRNAs with ``--noncoding-mode shuffle`` (k = 2 and 4),
   against the same mRNAs with the species' real lncRNAs (the "all" from-scratch run).
   All are tested on the same held-out real mRNAs and lncRNAs.

Every run goes through the command line (``python -m rnaigloo``) and is skipped when
its result is already in the output file, so the script can be stopped and restarted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261122
TEST_FRACTION = 0.2


def read(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt") as fh:
        return list(SimpleFastaParser(fh))


def write(path: Path, records) -> Path:
    with gzip.open(path, "wt") as fh:
        for header, seq in records:
            fh.write(f">{header}\n{seq}\n")
    return path


def cli(*args: str, log: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    with open(log, "a") as fh:
        fh.write("$ rnaigloo " + " ".join(args) + "\n")
        fh.flush()
        subprocess.run([sys.executable, "-m", "rnaigloo", *args], check=True, env=env, stdout=fh, stderr=fh)


def evaluate(model: str | None, test: dict[str, Path], log: Path) -> dict:
    out = test["dir"] / "eval.json"
    args = ["evaluate", "--coding", str(test["coding"]), "--noncoding", str(test["noncoding"]), "--json", "-q"]
    if model:
        args += ["-m", model]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    res = subprocess.run([sys.executable, "-m", "rnaigloo", *args], check=True, env=env, capture_output=True, text=True)
    out.write_text(res.stdout)
    with open(log, "a") as fh:
        fh.write(res.stderr)
    m = json.loads(res.stdout)
    return {k: m[k] for k in ("mcc", "auroc", "accuracy", "f1", "n")}


def markdown(results: dict) -> str:
    """The results as tables: the curve, then the non-coding sets."""
    runs = results["runs"]
    split = results["split"]
    lines = [
        f"Held-out test: {split['test']['coding']} mRNAs + {split['test']['noncoding']} lncRNAs of {split['species']} "
        f"({split['test_clusters']} k-mer clusters, seed {split['seed']}), cluster-disjoint from all training data.",
        "",
        "| species transcripts | from scratch: MCC | AUROC | epochs | s | fine-tuned from human: MCC | AUROC | epochs | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted({k.split("_", 1)[1] for k in runs if k.startswith(("scratch_", "finetune_"))},
                      key=lambda x: float("inf") if x == "all" else int(x)):  # fmt: skip
        cells = []
        for mode in ("scratch", "finetune"):
            r = runs.get(f"{mode}_{key}")
            cells += [f"{r['mcc']:.3f}", f"{r['auroc']:.3f}", str(r["epochs_run"]), f"{r['train_seconds']:.0f}"] if r else ["-"] * 4
        n = runs.get(f"scratch_{key}", runs.get(f"finetune_{key}", {})).get("train_n", key)
        lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
    h = runs.get("human_as_is")
    if h:
        lines += ["", f"Bundled human model as it is: MCC {h['mcc']:.3f}, AUROC {h['auroc']:.3f}."]
    lines += ["", "| non-coding class in training | MCC | AUROC | accuracy |", "|---|---|---|---|"]
    for key, label in (("scratch_all", "real lncRNAs"), ("shuffle2_all", "shuffled mRNAs, k = 2"),
                       ("shuffle4_all", "shuffled mRNAs, k = 4")):  # fmt: skip
        r = runs.get(key)
        if r:
            lines.append(f"| {label} | {r['mcc']:.3f} | {r['auroc']:.3f} | {r['accuracy']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "species"))
    ap.add_argument("--species", default="fly")
    ap.add_argument("--sizes", default="200,500,1000,2000,all")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "finetune" / "results.json"))
    ap.add_argument("--work", default=str(ROOT / "benchmarks" / "work" / "finetune"))
    args = ap.parse_args()
    data, work, out = Path(args.data), Path(args.work), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "log.txt"
    results = json.loads(out.read_text()) if out.is_file() else {}
    results.setdefault("machine", f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    results.setdefault("runs", {})

    clusters = {}
    with open(data / "kmer_clusters.tsv") as fh:
        next(fh)
        for line in fh:
            f, i, c = line.rstrip("\n").split("\t")
            clusters[(f, i)] = c
    recs = {}
    for cls in ("coding", "noncoding"):
        name = f"{args.species}_{cls}.fa.gz"
        recs[cls] = [(h, s, clusters[(name, h.split()[0])]) for h, s in read(data / name)]
    all_clusters = sorted({c for cls in recs.values() for *_, c in cls})
    rng = np.random.default_rng(SEED)
    test_clusters = set(rng.choice(all_clusters, int(TEST_FRACTION * len(all_clusters)), replace=False).tolist())
    test = {"dir": work}
    pool = {}
    for cls, rows in recs.items():
        test[cls] = write(work / f"test_{cls}.fa.gz", [(h, s) for h, s, c in rows if c in test_clusters])
        # the cluster goes into the header so training's validation split is cluster-disjoint too
        pool[cls] = [(f"{h.split()[0]} gene_id={c}", s) for h, s, c in rows if c not in test_clusters]
    n_pool = {k: len(v) for k, v in pool.items()}
    results["split"] = {
        "species": args.species,
        "seed": SEED,
        "test_clusters": len(test_clusters),
        "test": {cls: sum(c in test_clusters for *_, c in rows) for cls, rows in recs.items()},
        "pool": n_pool,
    }
    print(json.dumps(results["split"]))

    def save():
        out.write_text(json.dumps(results, indent=1) + "\n")

    def run(key: str, train_args: list[str]) -> None:
        if key in results["runs"]:
            return
        model = work / f"{key}.keras"
        t = time.time()
        cli("train", *train_args, "-o", str(model), "-q", "-t", "2", log=log)
        seconds = time.time() - t
        card = json.loads((work / f"{key}.card.json").read_text())
        results["runs"][key] = {
            **evaluate(str(model), test, log),
            "train_seconds": round(seconds, 1),
            "epochs_run": card["training"]["epochs_run"],
            "train_n": card["training_data"]["coding"] + card["training_data"]["noncoding"],
        }
        print(key, results["runs"][key], flush=True)
        save()

    if "human_as_is" not in results["runs"]:
        results["runs"]["human_as_is"] = evaluate(None, test, log)
        save()
    total = sum(n_pool.values())
    for size in args.sizes.split(","):
        n = total if size == "all" else int(size)
        files = []
        for cls in ("coding", "noncoding"):
            k = round(n * n_pool[cls] / total)
            pick = np.sort(np.random.default_rng([SEED, n, cls == "coding"]).choice(n_pool[cls], k, replace=False))
            files.append(write(work / f"train_{size}_{cls}.fa.gz", [pool[cls][i] for i in pick]))
        base = ["--coding", str(files[0]), "--noncoding", str(files[1])]
        run(f"scratch_{size}", base)
        run(f"finetune_{size}", [*base, "--init-from", "human", "--set", "learning_rate=0.0003"])
    coding_all = work / "train_all_coding.fa.gz"
    if coding_all.is_file():
        for k in (2, 4):
            run(f"shuffle{k}_all", ["--coding", str(coding_all), "--noncoding-mode", "shuffle", "--shuffle-k", str(k)])
    save()
    out.with_suffix(".md").write_text(markdown(results))


if __name__ == "__main__":
    main()
