"""The checked contracts: probe scores in the card, and the one-way flow of imports."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import EXAMPLES, run_cli

import rnaigloo
from rnaigloo.io.files import sha256_of
from rnaigloo.network import probes
from rnaigloo.network.engine import ENGINE_TOLERANCE
from rnaigloo.network.loading import keras_scores, load_model, numpy_scores
from rnaigloo.network.paths import card_path

PACKAGE = Path(rnaigloo.__file__).resolve().parent


def _rewrite_weights(src: Path, dst: Path, change) -> None:
    """Copy a .keras file, applying ``change(h5file)`` to its weights, and re-hash its card."""
    with zipfile.ZipFile(src) as zin:
        blob = io.BytesIO(zin.read("model.weights.h5"))
        with h5py.File(blob, "r+") as h5:
            change(h5)
        with zipfile.ZipFile(dst, "w") as zout:
            for item in zin.infolist():
                data = blob.getvalue() if item.filename == "model.weights.h5" else zin.read(item.filename)
                zout.writestr(item, data)
    card = json.loads(card_path(src).read_text())
    card["sha256"] = sha256_of(dst)  # the hash passes: only the probe scores can tell
    card_path(dst).write_text(json.dumps(card))


def _nudge_head_bias(h5) -> None:
    layers = h5["layers"]
    dense = [name for name in layers if name.startswith("dense")]
    bias = layers[dense[-1]]["vars"]["1"]
    bias[...] = np.asarray(bias) + 0.05


def test_probe_sequences_are_fixed():
    assert probes.probe_sequences() == probes.probe_sequences()
    assert len(probes.probe_sequences()) == 12
    assert probes.probe_sequences()[0] == ""


def test_bundled_model_passes_its_probes_with_both_engines(model_file):
    model = load_model(model_file)
    assert model.numpy_network is not None
    assert model.keras_model is not None
    # the engines themselves, unrounded, agree to within ENGINE_TOLERANCE (the card's probe
    # tolerance is ten times wider)
    args = (model.config, probes.probe_sequences(), model.encoding_version)
    numpy_out, keras_out = numpy_scores(model.numpy_network, *args), keras_scores(model.keras_model, *args)
    assert np.abs(numpy_out - keras_out).max() <= ENGINE_TOLERANCE


def test_tampered_weights_are_refused_in_one_line(model_file, tmp_path):
    bad = tmp_path / "tampered.keras"
    _rewrite_weights(model_file, bad, _nudge_head_bias)
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", bad, "-o", tmp_path / "out.tsv", "-t", "1")
    assert res.code == 1
    assert res.stderr.count("\n") == 1 and "refused" in res.stderr and "probe transcript" in res.stderr
    assert not (tmp_path / "out.tsv").exists()
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", bad, "--engine", "tensorflow")
    assert res.code == 1 and "TensorFlow engine" in res.stderr


def test_edited_probe_score_in_card_is_refused(model_file, tmp_path):
    bad = tmp_path / "edited.keras"
    bad.write_bytes(model_file.read_bytes())
    card = json.loads(card_path(model_file).read_text())
    card["probes"]["scores"][9] += 0.01
    card_path(bad).write_text(json.dumps(card))
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", bad)
    assert res.code == 1 and "probe transcript 10" in res.stderr


def test_card_without_probes_is_refused(model_file, tmp_path):
    bad = tmp_path / "old.keras"
    bad.write_bytes(model_file.read_bytes())
    card = json.loads(card_path(model_file).read_text())
    del card["probes"]
    card_path(bad).write_text(json.dumps(card))
    res = run_cli("model-info", "-m", bad)
    assert res.code == 1 and "lacks 'probes'" in res.stderr


def test_other_architecture_version_is_refused(model_file, tmp_path):
    bad = tmp_path / "future.keras"
    bad.write_bytes(model_file.read_bytes())
    card = json.loads(card_path(model_file).read_text())
    card["architecture"]["version"] = 99
    card_path(bad).write_text(json.dumps(card))
    res = run_cli("model-info", "-m", bad)
    assert res.code == 1 and "architecture version 99" in res.stderr


# --- the one-way flow of imports -------------------------------------------------------

# What each part of the package may import from the package (besides itself).
LEAVES = {"rnaigloo._version", "rnaigloo.errors", "rnaigloo.architecture", "rnaigloo.progress"}
ALLOWED = {
    "runtime": set(),  # the process: signals, CPUs, TensorFlow's start; every part may use it
    "encoding": set(),
    "io": {"encoding"},
    "network": {"encoding", "io"},
    "evaluate": {"io", "encoding"},
    "classify": {"network", "io", "encoding"},
    "training": {"network", "io", "encoding", "evaluate"},
}
TENSORFLOW = ("tensorflow", "keras", "absl")


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at module level?) for every import in a file, lazy ones included."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def _package_files() -> list[Path]:
    files = sorted(p for p in PACKAGE.rglob("*.py") if "models" not in p.relative_to(PACKAGE).parts)
    assert len(files) > 20
    return files


def test_imports_flow_one_way():
    broken = []
    for path in _package_files():
        rel = path.relative_to(PACKAGE)
        part = rel.parts[0] if len(rel.parts) > 1 else None
        if part is None:  # the entry points (cli.py, __main__.py) and the leaves
            if rel.name not in ("cli.py", "__main__.py"):
                for module, _ in _imports(path):
                    if module.startswith("rnaigloo.") and module not in LEAVES and rel.name != "__init__.py" and _part(module) != "runtime":
                        broken.append(f"{rel} imports {module}")
            continue
        for module, _ in _imports(path):
            if not module.startswith("rnaigloo") or module in LEAVES or _part(module) == "runtime":
                continue
            target = _part(module)
            if target != part and target not in ALLOWED[part]:
                broken.append(f"{rel} imports {module}")
    assert not broken, broken


# Inside encoding: what each module may import of the others (no circle; the production
# encoder never depends on the per-transcript reference it is tested against).
ENCODING_ALLOWED = {
    "tables": set(),
    "translation": {"tables"},
    "reference": {"tables", "translation"},
    "encoder": {"tables"},
}


def test_encoding_modules_import_one_way():
    found = {p.stem for p in (PACKAGE / "encoding").glob("*.py") if p.stem != "__init__"}
    assert found == set(ENCODING_ALLOWED), found
    for name, allowed in ENCODING_ALLOWED.items():
        used = {m.split(".")[2] for m, _ in _imports(PACKAGE / "encoding" / f"{name}.py") if m.startswith("rnaigloo.encoding.")}
        assert used <= allowed, (name, used - allowed)


def test_nothing_in_the_package_imports_its_face():
    """``rnaigloo/__init__.py`` is for users; the package's own modules import the module
    that holds a name (``rnaigloo._version`` for the version)."""
    for path in _package_files():
        if path != PACKAGE / "__init__.py":
            assert all(m != "rnaigloo" for m, _ in _imports(path)), path


def _module_name(path: Path) -> str:
    parts = ("rnaigloo", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_two_modules_import_each_other_even_lazily():
    """An import inside a function still makes a circle: the two modules cannot be
    understood, or changed, one without the other."""
    files = _package_files()
    modules = {_module_name(p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names}
        graph[_module_name(path)] = found & modules
    circles = []

    def visit(module: str, chain: list[str]) -> None:
        for target in sorted(graph[module] - {module}):
            if target in chain:
                circles.append(" -> ".join([*chain[chain.index(target) :], target]))
            elif target not in done:
                visit(target, [*chain, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert not circles, circles


def test_nothing_below_the_cli_imports_it():
    for path in _package_files():
        if path.name not in ("cli.py", "__main__.py"):
            assert all(m != "rnaigloo.cli" for m, _ in _imports(path)), path


def test_train_and_classify_do_not_import_each_other():
    for path in _package_files():
        part = path.relative_to(PACKAGE).parts[0]
        for module, _ in _imports(path):
            if part == "training":
                assert not module.startswith("rnaigloo.classify"), (path, module)
            if part == "classify":
                assert not module.startswith("rnaigloo.training"), (path, module)


def test_encoding_never_imports_tensorflow_and_no_module_does_at_import_time():
    for path in _package_files():
        rel = path.relative_to(PACKAGE)
        for module, top_level in _imports(path):
            if module.split(".")[0] in TENSORFLOW:
                assert rel.parts[0] != "encoding", (rel, module)
                # the builder and the layer are Keras by nature; everything else imports it lazily
                # (and the checkpoint callback, which the trainer imports only after its checks)
                keras_by_nature = {("network", "igloo.py"), ("network", "model.py"), ("training", "callbacks.py")}
                assert not top_level or (rel.parts[0], rel.name) in keras_by_nature, (rel, module)


def test_default_classify_never_loads_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from rnaigloo.cli import main\n"
        f"rc = main(['classify', {str(EXAMPLES / 'transcripts.fa.gz')!r}, '-o', {str(tmp_path / 'o.tsv')!r}, '-q'])\n"
        "assert rc == 0, rc\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(','.join(loaded))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


@pytest.mark.parametrize("name", ["Classifier", "read_fasta", "InputError", "ModelError", "RnaiglooError"])
def test_public_names_are_listed(name):
    assert name in dir(rnaigloo)
    assert getattr(rnaigloo, name) is not None


def test_classifier_load_takes_one_path_as_well_as_a_list(model_file):
    from rnaigloo import Classifier

    one = Classifier.load(str(model_file))
    listed = Classifier.load([model_file])
    assert [m.path for m in one.models] == [m.path for m in listed.models] == [model_file]
    scores, _ = one.score_sequences(["ATGAAACCCGGGTTTTAA", ""])
    np.testing.assert_array_equal(scores, listed.score_sequences(["ATGAAACCCGGGTTTTAA", ""])[0])


@pytest.mark.skipif(not os.environ.get("RNAIGLOO_TEST_INSTALLED"), reason="set by .ci/run, which tests the built wheel")
def test_the_installed_wheel_is_what_is_tested():
    repo = Path(__file__).resolve().parents[1]
    assert repo not in PACKAGE.parents, f"tests imported the source tree ({PACKAGE}), not the installed wheel"
    from rnaigloo.network.paths import default_model_path

    assert default_model_path().is_file() and repo not in default_model_path().parents
