"""Where training's time and memory go, phase by phase.

Usage (from the repository root, after ``python benchmarks/training/make_set.py``):

    python benchmarks/training/phases.py [--epochs 2] [--out benchmarks/work/training/phases.json]

Runs ``rnaigloo.training.trainer.train`` in this process on the benchmark set, samples the
process's resident memory every 50 ms, and reports for each phase (TensorFlow start,
reading, encoding, building the model and pipeline, each epoch, scoring the validation
set, saving) its seconds and the peak RSS reached in it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


class Sampler:
    def __init__(self):
        self.proc = psutil.Process()
        self.phase = "import"
        self.t0 = time.time()
        self.phases: dict[str, dict] = {}
        self._enter("import")
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _enter(self, name):
        self.phase = name
        self.phases.setdefault(name, {"start": time.time(), "seconds": 0.0, "peak_rss_mb": 0.0})
        self.phases[name]["start"] = time.time()

    def switch(self, name):
        self._sample()
        p = self.phases[self.phase]
        p["seconds"] += time.time() - p["start"]
        self._enter(name)

    def _sample(self):
        rss = self.proc.memory_info().rss / 2**20
        p = self.phases[self.phase]
        p["peak_rss_mb"] = max(p["peak_rss_mb"], rss)

    def _run(self):
        while not self._stop:
            self._sample()
            time.sleep(0.05)

    def stop(self):
        self.switch("done")
        self._stop = True
        return {k: {"seconds": round(v["seconds"], 1), "peak_rss_mb": round(v["peak_rss_mb"])} for k, v in self.phases.items() if k != "done"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "benchmarks" / "work" / "training"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "work" / "training" / "phases.json"))
    args = ap.parse_args()
    sampler = Sampler()
    from rnaigloo.runtime.tensorflow_start import start_tensorflow

    start_tensorflow(2)
    import keras

    import rnaigloo.training.trainer as run
    from rnaigloo.training.arguments import TrainSettings

    sampler.switch("read")

    def wrap(module, name, phase_before, phase_after=None):
        original = getattr(module, name)

        def wrapped(*a, **k):
            sampler.switch(phase_before)
            out = original(*a, **k)
            if phase_after:
                sampler.switch(phase_after)
            return out

        setattr(module, name, wrapped)

    wrap(run, "encode_sequences", "encode", "model and pipeline")
    wrap(run, "predict_rows", "score validation", "save")

    class EpochPhases(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            sampler.switch(f"epoch {epoch + 1}")

    original_fit = keras.Model.fit

    def fit(self, *a, callbacks=None, **k):
        return original_fit(self, *a, callbacks=[EpochPhases(), *(callbacks or [])], **k)

    keras.Model.fit = fit
    with tempfile.TemporaryDirectory() as tmp:
        t = time.time()
        run.train(
            [os.path.join(args.data, "coding.fa.gz")],
            [os.path.join(args.data, "noncoding.fa.gz")],
            os.path.join(tmp, "m.keras"),
            TrainSettings(epochs=args.epochs, threads=2, verbose=0, log=lambda m: print(m, file=sys.stderr)),
        )
        total = time.time() - t
    phases = sampler.stop()
    result = {"epochs": args.epochs, "train_seconds": round(total, 1), "phases": phases,
              "peak_rss_mb": max(p["peak_rss_mb"] for p in phases.values())}  # fmt: skip
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for k, v in phases.items():
        print(f"{k:20s} {v['seconds']:8.1f} s  peak {v['peak_rss_mb']:6d} MB")
    print(f"peak {result['peak_rss_mb']} MB; train() {total:.1f} s")


if __name__ == "__main__":
    main()
