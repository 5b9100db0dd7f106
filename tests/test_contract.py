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


def _imports(path: Path, package: Path = PACKAGE) -> list[tuple[str, bool]]:
    """(module, at module level?) for every import in a file, lazy ones included.

    ``from rnaigloo import X`` is read as the module ``rnaigloo.X`` when X is a module
    or subpackage, so an import through the package face is judged by what it imports.
    """
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "rnaigloo" and node.level == 0:
            for alias in node.names:
                is_module = (package / alias.name).is_dir() or (package / f"{alias.name}.py").is_file()
                found.append((f"rnaigloo.{alias.name}" if is_module else "rnaigloo", id(node) in top))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def _package_files(package: Path = PACKAGE) -> list[Path]:
    files = sorted(p for p in package.rglob("*.py") if "models" not in p.relative_to(package).parts)
    assert len(files) > 3
    return files


def _is_entry_point(rel: Path) -> bool:
    """The command line (``cli/``) and ``__main__.py`` sit above everything and may import it all."""
    return rel.parts[0] == "cli" or rel.parts == ("__main__.py",)


def _import_rule_breaks(package: Path = PACKAGE) -> list[str]:
    """Every import that goes against :data:`ALLOWED` (the leaves and runtime are open to all)."""
    broken = []
    for path in _package_files(package):
        rel = path.relative_to(package)
        if _is_entry_point(rel):
            continue
        part = rel.parts[0] if len(rel.parts) > 1 else None
        for module, _ in _imports(path, package):
            if not module.startswith("rnaigloo") or module in LEAVES or _part(module) == "runtime":
                continue
            if part is None:  # a leaf (or the face, which may show any part)
                if rel.name != "__init__.py":
                    broken.append(f"{rel} imports {module}")
            elif _part(module) != part and _part(module) not in ALLOWED[part]:
                broken.append(f"{rel} imports {module}")
    return broken


def test_imports_flow_one_way():
    assert not _import_rule_breaks(), _import_rule_breaks()


@pytest.mark.parametrize(
    ("where", "line", "imported"),
    [
        ("io/reader.py", "from rnaigloo import classify", "rnaigloo.classify"),  # upward, through the face
        ("io/reader.py", "from rnaigloo.classify import job", "rnaigloo.classify"),
        ("io/reader.py", "import rnaigloo.training.trainer", "rnaigloo.training.trainer"),
        ("errors.py", "from rnaigloo import network", "rnaigloo.network"),  # a leaf importing a part
        ("encoding/tables.py", "from rnaigloo import io", "rnaigloo.io"),
    ],
)
def test_the_import_rule_catches_upward_imports(tmp_path, where, line, imported):
    fake = tmp_path / "rnaigloo"
    for sub in ("io", "encoding", "classify", "network", "training", "cli"):
        (fake / sub).mkdir(parents=True)
        (fake / sub / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("from rnaigloo import classify, network\n")  # the face may show any part
    (fake / "cli" / "commands.py").write_text("from rnaigloo import classify, training\n")  # so may the command line
    for name in ("errors.py", "io/reader.py", "encoding/tables.py"):
        (fake / name).write_text("from rnaigloo import errors\n")  # a leaf: allowed everywhere
    assert _import_rule_breaks(fake) == []
    (fake / where).write_text(f"def lazily():\n    {line}\n")
    assert _import_rule_breaks(fake) == [f"{where} imports {imported}"]


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


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = ("rnaigloo", *path.relative_to(package).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _circles(package: Path = PACKAGE) -> list[str]:
    """Every import circle among the package's modules, of any length, lazy imports included."""
    files = _package_files(package)
    modules = {_module_name(p, package) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names}
        graph[_module_name(path, package)] = found & modules
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
    return circles


def test_no_import_circle_even_lazily():
    """An import inside a function still makes a circle: the modules in it cannot be
    understood, or changed, one without the others."""
    assert not _circles(), _circles()


def test_the_circle_check_finds_long_and_lazy_circles(tmp_path):
    fake = tmp_path / "rnaigloo"
    (fake / "io").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "io" / "__init__.py").write_text("")
    (fake / "io" / "a.py").write_text("from rnaigloo.io import b\n")
    (fake / "io" / "b.py").write_text("import rnaigloo.io.c\n")
    (fake / "io" / "c.py").write_text("import os\n")
    assert _circles(fake) == []
    (fake / "io" / "c.py").write_text("def later():\n    from rnaigloo.io.a import thing\n")
    assert _circles(fake) == ["rnaigloo.io.a -> rnaigloo.io.b -> rnaigloo.io.c -> rnaigloo.io.a"]


def test_nothing_below_the_cli_imports_it():
    for path in _package_files():
        if not _is_entry_point(path.relative_to(PACKAGE)):
            assert all(not m.startswith("rnaigloo.cli") for m, _ in _imports(path)), path


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
