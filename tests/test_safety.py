"""Never a silent wrong answer: thresholds, model settings, cards that disagree with their
network, nucleotide alphabets, and messages that say which file is at fault."""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from test_cli_errors import assert_one_error_line, copy_model

from rnaigloo.network.config import SETTINGS, check_threshold, resolve_config
from rnaigloo.network.paths import card_path


def _env() -> dict[str, str]:
    """The environment of the rnaigloo under test (the installed one in CI, the checkout with PYTHONPATH)."""
    return dict(os.environ)


def edit_card(model: Path, **changes) -> Path:
    card = json.loads(card_path(model).read_text())
    for key, value in changes.items():
        if key in card.get("config", {}):
            card["config"][key] = value
        else:
            card[key] = value
    card_path(model).write_text(json.dumps(card))
    return model


@pytest.fixture
def fasta(tmp_path) -> Path:
    path = tmp_path / "in.fa"
    path.write_text(">a\nATGAAACCCTAA\n>b\nATGRYKMSWNNNACGTBDHVTAA\n")
    return path


# ---------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1.5", "-0.1", "x"])
@pytest.mark.parametrize("command", ["classify", "evaluate"])
def test_threshold_option_must_be_a_finite_number_in_0_1(tmp_path, fasta, value, command):
    args = [fasta] if command == "classify" else ["--coding", fasta, "--noncoding", fasta]
    res = run_cli(command, *args, "--threshold", value, "-o" if command == "classify" else "-q", tmp_path / "o.tsv")
    assert res.code == 2, res.stderr
    assert "--threshold" in res.stderr and "[0, 1]" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o.tsv").exists()


@pytest.mark.parametrize("value", [1.5, -0.2, float("nan"), float("inf"), "0.5", None, True])
def test_card_threshold_gets_the_same_check(tmp_path, tiny_model, fasta, value):
    model = edit_card(copy_model(tiny_model, tmp_path), threshold=value)
    res = run_cli("classify", fasta, "-m", model, "-o", tmp_path / "o.tsv", "-q")
    assert_one_error_line(res, str(card_path(model)), "threshold", "finite number in [0, 1]")
    assert not (tmp_path / "o.tsv").exists()
    info = run_cli("model-info", "-m", model)
    assert_one_error_line(info, "threshold")


def test_threshold_check_accepts_the_ends():
    assert check_threshold(0, "x") == 0.0 and check_threshold(1, "x") == 1.0
    with pytest.raises(ValueError, match="found nan"):
        check_threshold(math.nan, "x")


# ---------------------------------------------------------------------------- model settings


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_has_a_range_that_holds_its_default(name):
    setting = SETTINGS[name]
    assert setting.contains(setting.default)
    low_bad = setting.low if setting.low_open else setting.low - 1
    with pytest.raises(ValueError, match=rf"{name}=.*out of range: expected {re.escape(setting.describe())}"):
        resolve_config({name: low_bad})
    with pytest.raises(ValueError, match=name):
        resolve_config({name: float("nan") if setting.kind is float else "many"})


_ARGUMENT_CASES = [
    (["--set", "nuc_len=0"], ["nuc_len=0", "from 50 to 100000"]),
    (["--set", "prot_stacks=0"], ["prot_stacks=0", "from 1 to 8"]),
    (["--set", "dropout=1"], ["dropout=1.0", "[0, 1)"]),
    (["--set", "learning_rate=0"], ["learning_rate=0.0", "(0, 1]"]),
    (["--set", "patch_size=1.5"], ["patch_size=1.5", "integer"]),
    (["--set", "colour=red"], ["unknown model setting 'colour'"]),
    (["--seed", "-1"], ["--seed", "from 0"]),
    (["--val-fraction", "0.5"], ["--val-fraction", "between 0 and 0.5"]),
    (["--val-fraction", "nan"], ["--val-fraction"]),
    (["-o", "{tmp}/model.h5"], ["must end in .keras"]),
    (["-o", "{tmp}/nodir/m.keras"], ["nodir", "does not exist"]),
    (["-o", "{tmp}/adir.keras"], ["adir.keras", "directory"]),
    (["--coding", "{tmp}/absent.fa"], ["absent.fa", "not found"]),
]


def test_train_checks_every_argument_before_tensorflow(tmp_path):
    """Each bad argument gets one line naming it, and TensorFlow is never imported (one subprocess)."""
    (tmp_path / "a.fa").write_text(">a\nACGT\n")
    (tmp_path / "adir.keras").mkdir()
    script = """
import io, json, sys
from rnaigloo.cli import main
out = []
for extra in json.loads(sys.argv[1]):
    base = {"--coding": sys.argv[2], "--noncoding": sys.argv[2], "-o": sys.argv[3] + "/m.keras"}
    args = ["train"]
    for key, value in base.items():
        if key not in extra:
            args += [key, value]
    err = io.StringIO()
    code = main(args + extra, stdout=io.StringIO(), stderr=err)
    out.append([code, err.getvalue()])
print(json.dumps({"results": out, "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}))
"""
    cases = [[a.replace("{tmp}", str(tmp_path)) for a in args] for args, _ in _ARGUMENT_CASES]
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(cases), str(tmp_path / "a.fa"), str(tmp_path)],
        env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert not report["tensorflow"] and not report["keras"], "TensorFlow was imported before the arguments were checked"
    for (args, needles), (code, stderr) in zip(_ARGUMENT_CASES, report["results"]):
        lines = stderr.splitlines()
        assert code == 1 and len(lines) == 1 and lines[0].startswith("rnaigloo: error:"), (args, code, stderr)
        for needle in needles:
            assert needle in lines[0], (args, needle, lines[0])
    assert list(tmp_path.glob("m.*")) == []


# ---------------------------------------------------------------------------- card against network


@pytest.mark.parametrize(
    ("setting", "value"),
    [("nuc_len", 1000), ("prot_len", 300), ("nuc_stacks", 1), ("prot_stacks", 3), ("nuc_patches", 17), ("patch_size", 3)],
)
@pytest.mark.parametrize("engine", ["numpy", "tensorflow"])
def test_card_settings_that_disagree_with_the_weights_are_named(tmp_path, tiny_model, fasta, setting, value, engine):
    model = edit_card(copy_model(tiny_model, tmp_path), **{setting: value})
    res = run_cli("classify", fasta, "-m", model, "--engine", engine, "-o", tmp_path / "o.tsv", "-q")
    line = assert_one_error_line(res, str(model), f"{setting}={value}", "disagrees with the network")
    assert "IndexError" not in line and not (tmp_path / "o.tsv").exists()


def test_card_setting_out_of_range_is_named(tmp_path, tiny_model, fasta):
    model = edit_card(copy_model(tiny_model, tmp_path), nuc_len=-5)
    res = run_cli("model-info", "-m", model)
    assert_one_error_line(res, str(card_path(model)), "nuc_len=-5", "out of range")


@pytest.mark.parametrize("engine", ["numpy", "tensorflow"])
def test_a_card_made_before_training_pieces_reads_as_trained_without_them(tmp_path, tiny_model, fasta, engine):
    """0.1's cards have no ``fragments``: it reads as 0, not as today's default (0.8 + 0.3 would be refused)."""
    model = edit_card(copy_model(tiny_model, tmp_path), augment=0.8)
    card = json.loads(card_path(model).read_text())
    del card["config"]["fragments"]
    card_path(model).write_text(json.dumps(card))
    assert SETTINGS["augment"].default + SETTINGS["fragments"].default <= 1 < 0.8 + SETTINGS["fragments"].default
    res = run_cli("classify", fasta, "-m", model, "--engine", engine, "-o", tmp_path / "o.tsv", "-q")
    assert res.code == 0, res.stderr


# ---------------------------------------------------------------------------- alphabets and formats


def test_a_file_of_iupac_coded_transcripts_is_classified(tmp_path, tiny_model, fasta):
    out = tmp_path / "o.tsv"
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", out, "-q")
    assert res.code == 0, res.stderr
    assert [row.split("\t")[0] for row in out.read_text().splitlines()[1:]] == ["a", "b"]


def test_protein_fasta_is_refused_naming_the_letters(tmp_path, tiny_model):
    path = tmp_path / "prot.fa"
    path.write_text(">p1\nMKTAYIAKQRQISFVKSHFSRQLEERLG\n")
    res = run_cli("classify", path, "-m", tiny_model, "-o", tmp_path / "o.tsv", "-q")
    assert_one_error_line(res, "prot.fa", "record 1", "protein", "no nucleotide alphabet has")


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x28\xb5\x2f\xfd" + bytes(30), "zstd-compressed: decompress it first"),
        (gzip.compress(gzip.compress(b">a\nACGT\n")), "gzip-compressed data inside gzip"),
    ],
)
def test_compressions_that_are_not_read_are_named(tmp_path, tiny_model, data, needle):
    path = tmp_path / "in.fa.gz"
    path.write_bytes(data)
    res = run_cli("classify", path, "-m", tiny_model, "-o", tmp_path / "o.tsv", "-q")
    line = assert_one_error_line(res, "in.fa.gz", needle)
    assert "binary" not in line


def test_readme_settings_table_gives_each_settings_range():
    """The README's table of training settings states the ranges the code checks."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| setting | meaning | valid |") :].split("\n\n", 1)[0]
    described: dict[str, str] = {}
    for row in table.splitlines()[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        for name in re.findall(r"`(\w+)`", cells[0]):
            described[name] = cells[-1]
    assert set(described) == set(SETTINGS) - {"seed"}
    for name, valid in described.items():
        assert valid == SETTINGS[name].describe(), name
