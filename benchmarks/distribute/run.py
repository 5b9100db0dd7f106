"""Model quality with one device and with MirroredStrategy over two replicas (same seed, same data).

Two logical CPU devices stand in for two GPUs: the strategy code path is the one a
two-GPU node runs (one replica per device, gradients summed, the global batch twice
the per-device batch). What this measures is whether the larger global batch moves
model quality; it says nothing about GPU speed.

    python benchmarks/distribute/run.py [--n 2500] [--epochs 8] [--seeds 1 2]

Data: the first N coding and N non-coding records of ../shared/data for training (10 %
of them for validation, as train does), the next N/2 of each class as a held-out set
(not gene-disjoint: both runs see the same split, which is what the comparison needs).
Writes benchmarks/work/distribute/results.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

from Bio.SeqIO.FastaIO import SimpleFastaParser

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
WORK = ROOT / "benchmarks" / "work" / "distribute"

_TRAIN = """
import sys
import tensorflow as tf
replicas = int(sys.argv[1])
if replicas > 1:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
from rnaigloo.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _subset(src: Path, start: int, n: int, dst: Path) -> Path:
    with gzip.open(src, "rt") as fh, gzip.open(dst, "wt", compresslevel=1) as out:
        for header, seq in islice(SimpleFastaParser(fh), start, start + n):
            out.write(f">{header}\n{seq}\n")
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2500, help="training records per class")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of human_train_*.fa.gz [../shared/data]")
    args = parser.parse_args()
    if not (args.data / "human_train_coding.fa.gz").is_file():
        sys.exit(f"training data not found at {args.data}")
    WORK.mkdir(parents=True, exist_ok=True)
    files = {}
    for label in ("coding", "noncoding"):
        src = args.data / f"human_train_{label}.fa.gz"
        files[f"train_{label}"] = _subset(src, 0, args.n, WORK / f"train_{label}.fa.gz")
        files[f"test_{label}"] = _subset(src, args.n, args.n // 2, WORK / f"test_{label}.fa.gz")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    rows = []
    for seed in args.seeds:
        for replicas in (1, 2):
            model = WORK / f"seed{seed}_replicas{replicas}.keras"
            devices = "all" if replicas == 1 else ",".join(f"cpu:{i}" for i in range(replicas))
            cmd = [
                sys.executable, "-c", _TRAIN, str(replicas), "train",
                "--coding", str(files["train_coding"]), "--noncoding", str(files["train_noncoding"]),
                "-o", str(model), "--epochs", str(args.epochs), "--patience", str(args.epochs),
                "--seed", str(seed), "--devices", devices, "-q",
            ]  # fmt: skip
            t0 = time.time()
            subprocess.run(cmd, check=True, env=env)
            seconds = time.time() - t0
            report = json.loads(model.with_name(model.stem + ".report.json").read_text())
            out = subprocess.run(
                [sys.executable, "-m", "rnaigloo", "evaluate", "--coding", str(files["test_coding"]),
                 "--noncoding", str(files["test_noncoding"]), "-m", str(model), "--json", "-q"],
                check=True, env=env, capture_output=True, text=True,
            ).stdout  # fmt: skip
            held_out = json.loads(out)
            row = {
                "seed": seed,
                "replicas": replicas,
                "global_batch": report["training"]["global_batch_size"],
                "device": report["training"]["device"],
                "best_epoch": report["training"]["best_epoch"],
                "val_mcc": report["validation_metrics"]["mcc"],
                "val_auroc": report["validation_metrics"]["auroc"],
                "test_mcc": held_out["mcc"],
                "test_auroc": held_out["auroc"],
                "seconds": round(seconds, 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    (WORK / "results.json").write_text(json.dumps({"args": {**vars(args), "data": str(args.data)}, "rows": rows}, indent=2) + "\n")
    print("\n| seed | replicas | global batch | best epoch | val MCC | val AUROC | held-out MCC | held-out AUROC | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['replicas']} | {r['global_batch']} | {r['best_epoch']} | {r['val_mcc']:.4f} | "
              f"{r['val_auroc']:.4f} | {r['test_mcc']:.4f} | {r['test_auroc']:.4f} | {r['seconds']} |")


if __name__ == "__main__":
    main()
