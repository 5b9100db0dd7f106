"""Shared fixtures: paths, an in-process CLI runner and a tiny trained model."""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from rnaigloo.network.engine import ENGINE_TOLERANCE

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "example_data"
SHARED_DATA = ROOT.parent / "shared" / "data"
# Two engines' scores as the TSV prints them (5 decimals): the engines' tolerance, plus
# one step of the fifth decimal, which either may round the other way.
TSV_ENGINE_TOLERANCE = ENGINE_TOLERANCE + 1e-5

# Small enough to train in seconds on 2 CPU cores.
TINY_SETTINGS = {
    "nuc_len": 600,
    "prot_len": 200,
    "nuc_filters": 8,
    "nuc_patches": 16,
    "prot_filters": 8,
    "prot_patches": 16,
    "feature_units": 8,
    "head_units": 8,
}


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    """Run ``rnaigloo ARGS`` in-process, capturing both streams."""
    from rnaigloo.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], stdout=out, stderr=err)
    return CliResult(code, out.getvalue(), err.getvalue())


def tiny_set_args() -> list[str]:
    args: list[str] = []
    for key, value in TINY_SETTINGS.items():
        args += ["--set", f"{key}={value}"]
    return args


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny model trained on the synthetic example data (2 epochs, seeded)."""
    out = tmp_path_factory.mktemp("model") / "tiny.keras"
    res = run_cli(
        "train",
        "--coding", EXAMPLES / "train_coding.fa.gz",
        "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", out, "--epochs", "2", "--seed", "1", "-q",
        *tiny_set_args(),
    )  # fmt: skip
    assert res.code == 0, res.stderr
    return out


@pytest.fixture(scope="session")
def model_file(tmp_path_factory) -> Path:
    """A copy of a bundled network (``multispecies``) and its card in a private directory
    (no training needed)."""
    from rnaigloo.network.paths import card_path, resolve_model

    src = resolve_model("multispecies")
    out = tmp_path_factory.mktemp("bundled") / src.name
    shutil.copyfile(src, out)
    shutil.copyfile(card_path(src), card_path(out))
    return out


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    """Tests that need the trained tiny model are slow: ``-m "not slow"`` is the quick loop."""
    for item in items:
        if "tiny_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The team's real human training data, beside the clone; skipped when absent."""
    if not (SHARED_DATA / "human_train_coding.fa.gz").is_file():
        pytest.skip(f"real training data not found at {SHARED_DATA} (it sits beside the clone in CI only)")
    return SHARED_DATA
