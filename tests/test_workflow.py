"""The Snakemake workflow (workflow/Snakefile) end to end, where Snakemake is installed.

CI need not install Snakemake: the split and merge it runs are tested without it
(test_shards.py). Snakemake is found on PATH or at RNAIGLOO_SNAKEMAKE.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli
from test_shards import generated_fasta

SNAKEMAKE = os.environ.get("RNAIGLOO_SNAKEMAKE") or shutil.which("snakemake")


@pytest.mark.skipif(SNAKEMAKE is None, reason="Snakemake not installed (set RNAIGLOO_SNAKEMAKE to its snakemake)")
@pytest.mark.parametrize("model", [None, "human"], ids=["default model", "bundled name"])
def test_snakemake_shards_give_the_single_run_table(tmp_path, model):
    fasta = generated_fasta(tmp_path / "tx.fa", 1200)
    gz = tmp_path / "tx.fa.gz"
    subprocess.run(["gzip", "-k", str(fasta)], check=True)
    single = tmp_path / "single.tsv"
    pick = ["-m", model] if model else []
    assert run_cli("classify", gz, "-o", single, "-q", "-b", "64", *pick).code == 0
    out = tmp_path / "calls.tsv"
    env = dict(os.environ)
    proc = subprocess.run(
        [SNAKEMAKE, "-s", str(ROOT / "workflow" / "Snakefile"), "--cores", "2", "--directory", str(tmp_path),
         "--config", f"input={gz}", f"output={out}", "shards=4", "batch_size=64",
         f"rnaigloo={sys.executable} -m rnaigloo", *([f"model={model}"] if model else [])],
        check=False, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out.read_bytes() == single.read_bytes()
    shards = tmp_path / "calls.tsv.shards"
    assert not list(shards.glob("shard_*"))  # temporary: removed once merged
    assert (shards / "manifest.json").is_file()
