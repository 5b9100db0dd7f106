"""Fine-tuning on a tenth of a species' data against training from scratch on all of it,
and the learning rate ``--init-from`` should default to.

Usage (from the repository root, after ``benchmarks/species/prepare.py``; the
``complete-loso`` base needs the species' leave-one-out ``complete`` network,
``benchmarks/work/runs/loso_complete_SPECIES.keras``, trained as ``models/README.md`` says
on ``benchmarks/work/species/loso_SPECIES``)::

    python benchmarks/finetune/species.py [--species fly chlamydomonas citrus]
        [--bases human complete-loso] [--rates 0.0001 0.0003 0.001 0.003]

For each species of ``benchmarks/work/species`` (its training clusters, the same split
as the species benchmark):

* **tenth**: a tenth of the species' training records, drawn by whole cluster per class
  (seed ``SEED``), so that no cluster is on both sides;
* **choice set**: the rest of the species' training records: the learning rate and the
  base are chosen on it, never on the test set;
* **test**: the species' test clusters (``benchmarks/work/species/test``), read once per
  model for the figures, used for no choice.

Runs, each one ``rnaigloo train`` command with the default epochs (30), patience (4) and
validation split: from scratch on all the species' training records (the default
recipe: what a user gets training their species alone), and fine-tuned on the tenth
from each base model at each learning rate, and once more at ``--patient-rate`` with
60 epochs and patience 8 (a tenth keeps few validation rows, so its loss is noisy);
``--train-seed`` repeats the trained runs at another seed (the tenth stays the same). The
bases must never have seen the species: ``human`` is the bundled 0.1 model (human data only), ``complete-loso`` the bundled
``complete`` recipe trained without the species (what a user whose species is not in the
bundled model's data starts from; its hexamer table is learned again from the tenth).
Results: ``benchmarks/finetune/species.{json,md}``; a run already in
the JSON is not run again.
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
from collections import defaultdict
from pathlib import Path

import numpy as np
from Bio.SeqIO.FastaIO import SimpleFastaParser

ROOT = Path(__file__).resolve().parents[2]
SPECIES_WORK = ROOT / "benchmarks" / "work" / "species"
WORK = ROOT / "benchmarks" / "work" / "finetune_species"
OUT = Path(__file__).resolve().parent / "species.json"
SEED = 20261205
SHARE = 0.1
BASES = {
    "human": "{root}/models/human.keras",
    "complete-loso": "{root}/benchmarks/work/runs/loso_complete_{species}.keras",
}
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}


def read(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt") as fh:
        return list(SimpleFastaParser(fh))


def write(path: Path, records: list[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with gzip.open(tmp, "wt", compresslevel=3) as fh:
        for header, seq in records:
            fh.write(f">{header}\n{seq}\n")
    os.replace(tmp, path)
    return path


def tag(header: str, key: str) -> str | None:
    words = [w for w in header.split() if w.startswith(key + "=")]
    return words[0].split("=", 1)[1] if words else None


def split_species(species: str) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """The tenth and the choice set of a species' training records, by whole cluster per class."""
    out: dict[str, dict[str, list]] = {"tenth": {}, "choice": {}, "all": {}}
    for cls in ("coding", "noncoding"):
        records = [r for r in read(SPECIES_WORK / f"train_{cls}.fa.gz") if tag(r[0], "species") == species]
        by_cluster = defaultdict(list)
        for r in records:
            by_cluster[tag(r[0], "gene")].append(r)
        order = sorted(by_cluster)
        np.random.default_rng([SEED, cls == "coding", len(species)]).shuffle(order)
        tenth, taken = set(), 0
        for cluster in order:
            if taken >= SHARE * len(records):
                break
            tenth.add(cluster)
            taken += len(by_cluster[cluster])
        out["tenth"][cls] = [r for r in records if tag(r[0], "gene") in tenth]
        out["choice"][cls] = [r for r in records if tag(r[0], "gene") not in tenth]
        out["all"][cls] = records
    return out


def train(model: Path, coding: Path, noncoding: Path, extra: list[str], log: Path) -> float:
    args = ["train", "--coding", str(coding), "--noncoding", str(noncoding), "-o", str(model), "-q", *extra]
    t = time.time()
    with open(log, "a") as fh:
        fh.write("$ rnaigloo " + " ".join(args) + "\n")
        fh.flush()
        subprocess.run([sys.executable, "-m", "rnaigloo", *args], check=True, env=ENV, stdout=fh, stderr=fh)
    return time.time() - t


def evaluate(model: Path, coding: Path, noncoding: Path) -> dict:
    args = ["evaluate", "-m", str(model), "--coding", str(coding), "--noncoding", str(noncoding), "--json", "-q"]
    res = subprocess.run([sys.executable, "-m", "rnaigloo", *args], check=True, env=ENV, capture_output=True, text=True)
    m = json.loads(res.stdout)
    return {k: m[k] for k in ("mcc", "auroc", "sensitivity", "specificity", "n")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--species", nargs="+", default=["fly", "chlamydomonas", "citrus"])
    ap.add_argument("--bases", nargs="+", default=list(BASES))
    ap.add_argument("--rates", nargs="+", type=float, default=[0.0001, 0.0003, 0.001, 0.003])
    ap.add_argument(
        "--patient-rate", type=float, default=0.001, help="also fine-tune at this rate with --epochs 60 --patience 8"
    )
    ap.add_argument(
        "--train-seed", type=int, default=42, help="rnaigloo train --seed; runs at another seed are named NAME-sSEED"
    )
    ap.add_argument("--no-patient", action="store_true", help="leave out the --patient-rate run")
    args = ap.parse_args()
    suffix = "" if args.train_seed == 42 else f"-s{args.train_seed}"
    results = json.loads(OUT.read_text()) if OUT.is_file() else {}
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    results["seed"], results["share"] = SEED, SHARE
    runs = results.setdefault("runs", {})
    sizes = results.setdefault("sizes", {})
    log = WORK / "log.txt"

    def save() -> None:
        OUT.write_text(json.dumps(results, indent=1) + "\n")

    for species in args.species:
        files = {}
        for part, by_class in split_species(species).items():
            files[part] = [write(WORK / species / f"{part}_{cls}.fa.gz", by_class[cls]) for cls in ("coding", "noncoding")]
            sizes.setdefault(species, {})[part] = {cls: len(v) for cls, v in by_class.items()}
        test = [SPECIES_WORK / "test" / f"{species}_{cls}.fa.gz" for cls in ("coding", "noncoding")]
        plan = [("scratch-all", files["all"], [])]
        for base in args.bases:
            path = BASES[base].format(root=ROOT, species=species)
            if not Path(path).is_file():
                print(f"{species}: no base model {path}; {base} left out", file=sys.stderr)
                continue
            plan += [(f"{base}-as-is", None, path)]
            plan += [(f"{base}-lr{rate:g}", files["tenth"], ["--init-from", path, "--set", f"learning_rate={rate:g}"])
                     for rate in args.rates]  # fmt: skip
            patient = ["--init-from", path, "--set", f"learning_rate={args.patient_rate:g}"]
            patient += ["--epochs", "60", "--patience", "8"]
            plan += [] if args.no_patient else [(f"{base}-lr{args.patient_rate:g}-p8", files["tenth"], patient)]
        for name, data, extra in plan:
            if data is not None:
                name += suffix
            elif suffix:
                continue  # a base as it is does not depend on the seed
            key = f"{species}/{name}"
            if key in runs:
                continue
            if data is None:  # a base model as it is: nothing trained
                model, seconds, card = Path(extra), 0.0, None
            else:
                model = WORK / species / f"{name}.keras"
                model.unlink(missing_ok=True)
                seconds = train(model, *data, [*extra, "--seed", str(args.train_seed)], log)
                card = json.loads(model.with_name(model.stem + ".card.json").read_text())
            runs[key] = {
                "test": evaluate(model, *test),
                "choice": evaluate(model, *files["choice"]) if data is not files["all"] else None,
                "train_seconds": round(seconds, 1),
                "epochs_run": card["training"]["epochs_run"] if card else None,
                "best_epoch": card["training"]["best_epoch"] if card else None,
            }
            print(key, json.dumps(runs[key]), flush=True)
            save()
    save()
    (OUT.with_suffix(".md")).write_text(markdown(results))
    print(markdown(results))


def markdown(results: dict) -> str:
    runs, sizes = results["runs"], results["sizes"]
    species = list(sizes)
    names = sorted({k.split("/", 1)[1] for k in runs}, key=lambda n: (n != "scratch-all", n))
    lines = [
        f"Machine: {results['machine']}. Tenth: {results['share']:.0%} of each species' training records by "
        f"whole cluster (seed {results['seed']}); choice set: the rest of its training records; test: its test "
        "clusters (benchmarks/work/species/test), used for no choice.",
        "",
        "| species | all (coding / non-coding) | tenth | choice set | test |",
        "|---|---|---|---|---|",
    ]
    for s in species:
        z = sizes[s]
        cells = [f"{z[p]['coding']} / {z[p]['noncoding']}" for p in ("all", "tenth", "choice")]
        lines.append(f"| {s} | " + " | ".join(cells) + f" | {runs.get(f'{s}/scratch-all', {}).get('test', {}).get('n', '')} |")
    lines += ["", "Test MCC (AUROC); choice-set MCC in brackets; epochs run (best):", ""]
    lines += ["| run | " + " | ".join(species) + " | mean test MCC | mean choice MCC |", "|---" * (len(species) + 3) + "|"]
    for name in names:
        cells, tests, choices = [], [], []
        for s in species:
            r = runs.get(f"{s}/{name}")
            if not r:
                cells.append("-")
                continue
            t, c = r["test"], r["choice"]
            tests.append(t["mcc"])
            cell = f"{t['mcc']:.3f} ({t['auroc']:.3f})"
            if c:
                choices.append(c["mcc"])
                cell += f" [{c['mcc']:.3f}]"
            if r["epochs_run"]:
                cell += f", {r['epochs_run']} ({r['best_epoch']}), {r['train_seconds']:.0f} s"
            cells.append(cell)
        mean_c = f"{np.mean(choices):.3f}" if len(choices) == len(species) else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {np.mean(tests):.3f} | {mean_c} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
