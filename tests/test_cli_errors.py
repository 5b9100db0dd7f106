"""The command line on bad and odd input: one readable error line, the right exit
code, and never a partial output file."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_cli

from rnaigloo.io.files import sha256_of
from rnaigloo.network.paths import card_path

# ---------------------------------------------------------------------------- helpers


def assert_one_error_line(res, *needles: str) -> str:
    """Exit code 1 and exactly one stderr line, 'rnaigloo: error: ...', naming the problem."""
    assert res.code == 1, (res.code, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert line.startswith("rnaigloo: error:"), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def classify_bad(tmp_path: Path, model: Path, data: bytes, name: str, *needles: str) -> None:
    """Classify ``data`` saved as ``name``: it must fail cleanly, leaving no output behind."""
    src = tmp_path / name
    src.write_bytes(data)
    outdir = tmp_path / "out"
    outdir.mkdir()
    res = run_cli("classify", src, "-m", model, "-o", outdir / "out.tsv", "-q")
    assert_one_error_line(res, name, *needles)
    assert list(outdir.iterdir()) == [], "no out.tsv and no temporary file may be left"


def copy_model(model: Path, dest: Path) -> Path:
    """The tiny model and its card, copied into ``dest``."""
    target = dest / model.name
    shutil.copy(model, target)
    shutil.copy(card_path(model), card_path(target))
    return target


# ---------------------------------------------------------------------------- bad input


def test_empty_file(tmp_path, model_file):
    classify_bad(tmp_path, model_file, b"", "empty.fa", "empty input")


def test_not_fasta(tmp_path, model_file):
    classify_bad(tmp_path, model_file, b"just some words\nACGT\n", "words.txt", "not FASTA", "line 1")


def test_fastq(tmp_path, model_file):
    classify_bad(tmp_path, model_file, b"@r1\nACGT\n+\nIIII\n", "reads.fq", "FASTQ")


def test_gtf(tmp_path, model_file):
    line = b'chr1\tHAVANA\texon\t11869\t12227\t.\t+\t.\tgene_id "G1"; transcript_id "T1";\n'
    classify_bad(tmp_path, model_file, line, "genes.gtf", "GTF")


def test_binary(tmp_path, model_file):
    classify_bad(tmp_path, model_file, bytes(range(256)) * 4, "blob.bin")


def test_protein_fasta(tmp_path, model_file):
    data = b">P1 protein\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVK\n"
    classify_bad(tmp_path, model_file, data, "proteins.fa", "protein", "record 1")


def test_truncated_gzip(tmp_path, model_file):
    rng = np.random.default_rng(0)
    text = "".join(f">t{i}\n" + "".join(rng.choice(list("ACGT"), 500)) + "\n" for i in range(50))
    classify_bad(tmp_path, model_file, gzip.compress(text.encode())[:-20], "cut.fa.gz", "ends early")


def test_empty_id(tmp_path, model_file):
    classify_bad(tmp_path, model_file, b">ok\nACGT\n> no id\nACGT\n", "noid.fa", "empty sequence ID", "record 2")


def test_duplicate_ids(tmp_path, model_file):
    classify_bad(tmp_path, model_file, b">a\nACGT\n>a\nGGCC\n", "dup.fa", "duplicate", "'a'", "record 2")


def test_duplicate_ids_across_files(tmp_path, model_file):
    (tmp_path / "one.fa").write_text(">a\nACGT\n")
    (tmp_path / "two.fa").write_text(">b\nACGT\n>a\nGG\n")
    outdir = tmp_path / "out"
    outdir.mkdir()
    res = run_cli("classify", tmp_path / "one.fa", tmp_path / "two.fa", "-m", model_file, "-o", outdir / "o.tsv", "-q")
    assert_one_error_line(res, "two.fa", "duplicate", "record 2")
    assert list(outdir.iterdir()) == []


def test_error_after_many_good_batches_leaves_no_output(tmp_path, model_file):
    good = "".join(f">g{i}\nATGAAACCCGGGTAA\n" for i in range(300))
    classify_bad(tmp_path, model_file, (good + ">bad\nAC1GT\n").encode(), "late.fa", "record 301")


def test_missing_input(tmp_path, model_file):
    outdir = tmp_path / "out"
    outdir.mkdir()
    res = run_cli("classify", tmp_path / "absent.fa", "-m", model_file, "-o", outdir / "out.tsv", "-q")
    assert_one_error_line(res, "absent.fa", "not found")
    assert list(outdir.iterdir()) == []


def test_output_in_missing_directory(tmp_path, model_file):
    (tmp_path / "in.fa").write_text(">a\nACGT\n")
    res = run_cli("classify", tmp_path / "in.fa", "-m", model_file, "-o", tmp_path / "nodir" / "out.tsv", "-q")
    assert_one_error_line(res, "nodir", "does not exist")
    assert not (tmp_path / "nodir").exists()


# ---------------------------------------------------------------------------- bad models


@pytest.fixture
def fasta(tmp_path) -> Path:
    path = tmp_path / "in.fa"
    path.write_text(">a\nATGAAACCCTAA\n")
    return path


def run_with_model(tmp_path: Path, fasta: Path, model: Path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    res = run_cli("classify", fasta, "-m", model, "-o", outdir / "out.tsv", "-q")
    assert list(outdir.iterdir()) == []
    return res


def test_damaged_model(tmp_path, model_file, fasta):
    model = copy_model(model_file, tmp_path)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    res = run_with_model(tmp_path, fasta, model)
    assert_one_error_line(res, str(model), "damaged", "SHA-256")


def test_model_card_missing(tmp_path, model_file, fasta):
    model = tmp_path / "lonely.keras"
    shutil.copy(model_file, model)
    res = run_with_model(tmp_path, fasta, model)
    assert_one_error_line(res, "card", "lonely.card.json")


def test_model_card_other_format_version(tmp_path, model_file, fasta):
    model = copy_model(model_file, tmp_path)
    card = json.loads(card_path(model).read_text())
    card["format_version"] = 99
    card_path(model).write_text(json.dumps(card))
    res = run_with_model(tmp_path, fasta, model)
    assert_one_error_line(res, model.name, "format version 99")


def test_model_of_another_encoding_version(tmp_path, model_file, fasta):
    model = copy_model(model_file, tmp_path)
    card = json.loads(card_path(model).read_text())
    card["encoding"] = {"version": 0, "n_features": 426}
    card_path(model).write_text(json.dumps(card))
    res = run_with_model(tmp_path, fasta, model)
    assert_one_error_line(res, model.name, "encoding version 0", "retrain")


def test_model_file_missing(tmp_path, fasta):
    res = run_with_model(tmp_path, fasta, tmp_path / "ghost.keras")
    assert_one_error_line(res, "ghost.keras", "not found")


def test_not_a_keras_model(tmp_path, model_file, fasta):
    model = tmp_path / "x.keras"
    model.write_bytes(b"this is not a zip archive, let alone a Keras model\n" * 10)
    real = json.loads(card_path(model_file).read_text())
    card = {**real, "sha256": sha256_of(model)}
    card_path(model).write_text(json.dumps(card))
    res = run_with_model(tmp_path, fasta, model)
    assert_one_error_line(res, "cannot load", "x.keras")


# ---------------------------------------------------------------------------- usage errors


def test_unknown_option(fasta):
    res = run_cli("classify", fasta, "--no-such-option")
    assert res.code == 2
    assert res.stderr.startswith("rnaigloo: usage error:") and "--no-such-option" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_input_argument():
    res = run_cli("classify")
    assert res.code == 2
    assert res.stderr.startswith("rnaigloo: usage error:") and "INPUT" in res.stderr
    assert "Traceback" not in res.stderr


# ---------------------------------------------------------------------------- odd but valid input


def test_odd_but_valid_records_get_one_row_each(tmp_path, model_file):
    rng = np.random.default_rng(1)
    big = "".join(rng.choice(list("ACGT"), 200_000))
    entries = [
        ("crlf1 with description", "ATGAAACCCGGGTTTTAA\r\nCCGG", "\r\n"),
        ("lower", "ccatggcgaaacccgggtaacc", "\n"),
        ("rna", "AUGGCUGCUAAAUAAGG", "\n"),
        ("iupac", "ACGT" * 10 + "RYKMS", "\n"),
        ("empty", "", "\n"),
        ("two_nt", "AC", "\n"),
        ("n_only", "N" * 300, "\n"),
        ("big200kb", "\n".join(big[i : i + 70] for i in range(0, len(big), 70)), "\n"),
        ("tabbed\tdescription after a tab", "ATGTTTTGA", "\r\n"),
    ]
    text = "".join(f">{header}{nl}{seq}{nl if seq else ''}" for header, seq, nl in entries)
    src = tmp_path / "odd.fa"
    src.write_bytes(text.encode())
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "out.tsv"
    res = run_cli("classify", src, "-m", model_file, "-o", out, "-q")
    assert res.code == 0, res.stderr
    assert res.stderr == ""
    assert [p.name for p in outdir.iterdir()] == ["out.tsv"]
    lines = out.read_text().splitlines()
    assert lines[0].split("\t")[0] == "sequence_name"
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == 8 for r in rows), rows
    assert [r[0] for r in rows] == [h.replace("\t", " ") for h, _, _ in entries]
    assert all(0.0 <= float(r[1]) <= 1.0 for r in rows)
    assert all(r[2] in ("coding", "noncoding") for r in rows)
    by_name = {r[0]: r for r in rows}
    assert by_name["empty"][3:] == ["NA", "NA", "0", "NA", "NA"]
    assert by_name["two_nt"][3:] == ["NA", "NA", "0", "NA", "NA"]
    assert by_name["rna"][3:6] == ["1", "15", "15"]


# ---------------------------------------------------------------------------- SIGTERM


def _big_fasta(path: Path, n: int = 20_000, length: int = 2_000) -> None:
    rng = np.random.default_rng(2)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as fh:
        for start in range(0, n, 1000):
            block = letters[rng.integers(0, 4, size=(min(1000, n - start), length))]
            fh.write(b"".join(b">r%d\n" % (start + i) + row.tobytes() + b"\n" for i, row in enumerate(block)))


def _default_signals() -> None:
    """As from an interactive shell: a runner that ignores SIGINT (a background job) passes that on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("signum", "code", "word"), [(signal.SIGTERM, 143, b"terminated"), (signal.SIGINT, 130, b"interrupted")]
)
def test_signal_leaves_no_output(tmp_path, model_file, signum, code, word):
    big = tmp_path / "BIG.fa"
    _big_fasta(big)
    out = tmp_path / "out.tsv"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnaigloo", "classify", str(big), "-m", str(model_file), "-o", str(out), "-q"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_signals,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.tsv.*.part")):
            assert proc.poll() is None, f"finished before SIGTERM could be sent: {proc.communicate()}"
            assert time.monotonic() < deadline, "no .part file within 60 s"
            time.sleep(0.05)
        time.sleep(0.5)  # let it get into the work
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, stderr.decode(errors="replace")
    assert word in stderr and b"Traceback" not in stderr
    assert not out.exists()
    assert list(tmp_path.glob("*.part")) == [] and list(tmp_path.glob(".*.part")) == []
