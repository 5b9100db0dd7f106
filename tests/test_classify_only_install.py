"""An install without TensorFlow (the classify image): classify works, the rest says what is missing.

Each case runs in a fresh interpreter where TensorFlow, Keras, scikit-learn and matplotlib
cannot be imported, as in an install of requirements-classify.txt plus
``pip install --no-deps``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import packages_distributions

import pytest
from conftest import EXAMPLES, ROOT

REQUIREMENTS = ROOT / "requirements-classify.txt"
GOLDEN = ROOT / "tests" / "data" / "example_calls.tsv"
LEFT_OUT = ("tensorflow", "keras", "sklearn", "matplotlib")

# Runs the CLI with the left-out packages unimportable; prints the third-party modules it loaded.
_RUNNER = f"""
import json, sys
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {LEFT_OUT!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Blocked())
before = set(sys.modules)
from rnaigloo.cli import main
code = main(sys.argv[1:])
new = {{m.split(".")[0] for m in set(sys.modules) - before}} - set(sys.stdlib_module_names)
# modules from files only (Cython registers file-less helper modules too)
loaded = sorted(m for m in new if getattr(sys.modules.get(m), "__file__", None))
print(json.dumps({{"code": code, "modules": loaded}}), file=sys.stderr)
"""


def _run(*args: str, image: str | None = None) -> tuple[int, str, list[str]]:
    env = dict(os.environ)  # the rnaigloo this test run imports (the installed one in CI)
    env.pop("RNAIGLOO_IMAGE", None)
    if image:
        env["RNAIGLOO_IMAGE"] = image
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, *map(str, args)], check=False, capture_output=True, text=True, env=env, timeout=300
    )
    *messages, last = proc.stderr.rstrip("\n").split("\n")
    report = json.loads(last)
    return report["code"], "\n".join(messages), report["modules"]


def _requirements() -> dict[str, str]:
    lines = [ln.strip() for ln in REQUIREMENTS.read_text().splitlines()]
    return {re.split(r"[<>=!~\[ ]", ln, maxsplit=1)[0].lower(): ln for ln in lines if ln and not ln.startswith("#")}


def test_classify_without_tensorflow_gives_the_golden_table(tmp_path):
    out = tmp_path / "calls.tsv"
    code, messages, modules = _run("classify", EXAMPLES / "transcripts.fa.gz", "-o", out, "-q", "-t", "1")
    assert code == 0, messages
    assert out.read_bytes() == GOLDEN.read_bytes()
    # everything classify loaded comes from the packages the classify image installs
    dists = packages_distributions()
    needed = {d.lower() for m in modules if m != "rnaigloo" for d in dists.get(m, [m])}
    assert needed <= set(_requirements()), f"classify imports packages missing from {REQUIREMENTS.name}"
    assert not needed & {"tensorflow", "keras", "scikit-learn", "matplotlib"}


def test_model_info_without_tensorflow():
    code, messages, _ = _run("model-info")
    assert code == 0, messages


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
          "-o", "OUT"), "TensorFlow"),
        (("classify", EXAMPLES / "transcripts.fa.gz", "--engine", "tensorflow"), "TensorFlow"),
        (("evaluate", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz", "-t", "1"),
         "scikit-learn"),
    ],
)  # fmt: skip
def test_commands_that_need_tensorflow_say_so_in_one_line(args, name, tmp_path):
    out = tmp_path / "never.keras"
    args = [out if a == "OUT" else a for a in args]
    code, messages, _ = _run(*args)
    assert code == 1
    assert messages == f"rnaigloo: error: this command needs {name}, which is not installed here; install it " + (
        f"(pip install {name.lower()})"
    )
    code, messages, _ = _run(*args, image="classify")
    assert code == 1
    assert messages == (
        f"rnaigloo: error: this image has no {name} (it runs classify with the NumPy engine only); use the full image"
    )
    assert not out.exists()


def test_classify_requirements_repeat_the_project_lower_bounds():
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0].lower(): d for d in project["dependencies"]}
    for name, line in _requirements().items():
        assert declared.get(name) == line, f"{REQUIREMENTS.name}: {line!r} differs from pyproject.toml's {declared.get(name)!r}"
    assert not set(_requirements()) & {"tensorflow", "keras", "scikit-learn", "matplotlib"}
