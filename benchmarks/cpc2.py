"""CPC2 on a list of sequences, for the benchmarks that put it beside rnaigloo (``pip install ".[bench]"``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def score_cpc2(ids: list[str], seqs: list[str]) -> tuple[np.ndarray, np.ndarray, float] | None:
    exe = shutil.which("cpc2")
    if exe is None:
        print("cpc2 not found (pip install cpc2-standalone): CPC2 left out", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        fa = Path(tmp) / "test.fa"
        with open(fa, "w") as fh:
            fh.writelines(f">{i}\n{s}\n" for i, s in zip(ids, seqs))
        t = time.time()
        subprocess.run([exe, "-i", str(fa), "-o", str(Path(tmp) / "out")], check=True, capture_output=True)
        seconds = time.time() - t
        prob, call = {}, {}
        for line in open(Path(tmp) / "out.txt"):
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            prob[f[0]] = float(f[6])
            call[f[0]] = f[7] == "coding"
    return np.array([prob[i] for i in ids]), np.array([call[i] for i in ids]), seconds
