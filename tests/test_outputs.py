"""Outputs never destroy a user's file: inputs, twice-named outputs, write-protected files,
special files (named pipes, /dev/fd/N, /dev/stdout) and system errors that name the file."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import run_cli
from test_cli_errors import assert_one_error_line

from rnaigloo.network.paths import card_path

FASTA = ">a\nATGAAACCCGGGTTTTAA\n>b\nACGTACGTAC\n"


def _env() -> dict[str, str]:
    """The environment of the rnaigloo under test (the installed one in CI, the checkout with PYTHONPATH)."""
    return dict(os.environ)


def _rnaigloo(*args, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    return subprocess.run(
        [sys.executable, "-m", "rnaigloo", *map(str, args)], env=_env(), timeout=120, check=False, **kwargs
    )


@pytest.fixture
def fasta(tmp_path) -> Path:
    path = tmp_path / "in.fa"
    path.write_text(FASTA)
    return path


@pytest.fixture
def expected_table(tmp_path, tiny_model, fasta) -> str:
    res = run_cli("classify", fasta, "-m", tiny_model, "-q")
    assert res.code == 0, res.stderr
    return res.stdout


def _unchanged(tmp_path: Path, before: dict[str, bytes]) -> None:
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and not p.is_symlink()}
    assert after == before, "a file was changed, added or removed"


def _snapshot(tmp_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and not p.is_symlink()}


# ---------------------------------------------------------------------------- an output that is an input


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotted"])
def test_classify_output_that_is_an_input_is_refused_before_reading(tmp_path, tiny_model, fasta, how):
    target = {"same": fasta, "dotted": tmp_path / "." / "in.fa", "symlink": tmp_path / "link.fa", "hardlink": tmp_path / "hard.fa"}[how]
    if how == "symlink":
        target.symlink_to(fasta)
    elif how == "hardlink":
        os.link(fasta, target)
    before = _snapshot(tmp_path)
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", target, "-q")
    assert_one_error_line(res, f"-o {target}", "is an input", "would destroy it")
    _unchanged(tmp_path, before)


@pytest.mark.parametrize("option", ["-p", "--cds-fasta"])
def test_fasta_outputs_that_are_inputs_or_the_model_are_refused(tmp_path, tiny_model, fasta, option):
    for target in (fasta, card_path(tiny_model), tiny_model):
        before = _snapshot(tmp_path)
        res = run_cli("classify", fasta, "-m", tiny_model, "-o", tmp_path / "o.tsv", option, target, "-q")
        assert_one_error_line(res, str(target), "is an input")
        _unchanged(tmp_path, before)


@pytest.mark.parametrize(
    ("first", "second"), [("x.tsv", "x.tsv"), ("x.tsv", "./x.tsv"), ("x.tsv", "link.tsv"), ("x.tsv", "sub/../x.tsv")]
)
def test_two_outputs_naming_one_file_are_refused(tmp_path, tiny_model, fasta, first, second, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.tsv").symlink_to(tmp_path / "x.tsv")  # dangling until x.tsv exists
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", first, "-p", second, "-q")
    assert_one_error_line(res, "names the same file", "would be lost")
    assert not (tmp_path / "x.tsv").exists()
    (tmp_path / "x.tsv").write_text("old\n")  # the same once the file exists
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", first, "--cds-fasta", second, "-q")
    assert_one_error_line(res, "names the same file")
    assert (tmp_path / "x.tsv").read_text() == "old\n"


def test_two_outputs_to_stdout_are_refused(tiny_model, fasta):
    res = run_cli("classify", fasta, "-m", tiny_model, "-p", "/dev/stdout", "-q")
    assert_one_error_line(res, "-o and --protein-fasta both write to stdout")


def test_evaluate_plot_that_is_an_input_is_refused(tmp_path, tiny_model, fasta):
    before = _snapshot(tmp_path)
    res = run_cli("evaluate", "--coding", fasta, "--noncoding", fasta, "-m", tiny_model, "--plot", fasta, "-q")
    assert_one_error_line(res, f"--plot {fasta}", "is an input")
    _unchanged(tmp_path, before)


def test_train_outputs_that_are_inputs_are_refused_before_tensorflow(tmp_path, fasta):
    (tmp_path / "m.card.json").write_text('{"nuc_len": 600}')
    os.link(fasta, tmp_path / "other.fa")
    cases = [
        (["--coding", tmp_path / "m.keras", "--noncoding", fasta, "-o", tmp_path / "m.keras"], "-o"),
        (["--coding", fasta, "--noncoding", fasta, "--config", tmp_path / "m.card.json", "-o", tmp_path / "m.keras"], "-o (its card)"),
    ]
    (tmp_path / "m.keras").write_bytes(b">a\nACGT\n")
    before = _snapshot(tmp_path)
    for args, option in cases:
        res = run_cli("train", *args, "-q")
        assert_one_error_line(res, option, "is an input")
    _unchanged(tmp_path, before)


# ---------------------------------------------------------------------------- write-protected outputs


@pytest.mark.parametrize("option", ["-o", "-p"])
def test_write_protected_output_is_refused_like_the_shell_does(tmp_path, tiny_model, fasta, option):
    target = tmp_path / "protected.txt"
    target.write_text("keep me\n")
    target.chmod(0o444)
    args = ["-o", target] if option == "-o" else ["-o", tmp_path / "o.tsv", "-p", target]
    res = run_cli("classify", fasta, "-m", tiny_model, *args, "-q")
    assert_one_error_line(res, str(target), "write-protected", "0444")
    assert target.read_text() == "keep me\n" and stat.S_IMODE(target.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.fa", "protected.txt"]


def test_a_writable_existing_output_is_replaced(tmp_path, tiny_model, fasta, expected_table):
    target = tmp_path / "o.tsv"
    target.write_text("old\n")
    assert run_cli("classify", fasta, "-m", tiny_model, "-o", target, "-q").code == 0
    assert target.read_text() == expected_table


def test_an_output_through_a_symlink_replaces_the_file_and_keeps_the_link(tmp_path, tiny_model, fasta, expected_table):
    (tmp_path / "results").mkdir()
    real = tmp_path / "results" / "calls.tsv"
    real.write_text("old\n")
    link = tmp_path / "calls.tsv"
    link.symlink_to(real)
    assert run_cli("classify", fasta, "-m", tiny_model, "-o", link, "-q").code == 0
    assert link.is_symlink() and real.read_text() == expected_table
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["calls.tsv"]


# ---------------------------------------------------------------------------- special files


def test_named_pipe_output_is_written_in_place(tmp_path, tiny_model, fasta, expected_table):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", fifo, "-q")
    reader.join(30)
    assert res.code == 0, res.stderr
    assert got and got[0].decode() == expected_table
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the named pipe was replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.fa", "out.fifo"]


def test_dev_fd_of_a_pipe_is_written_in_place(tmp_path, tiny_model, fasta, expected_table):
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rnaigloo", "classify", str(fasta), "-m", str(tiny_model), "-o", f"/dev/fd/{write_end}", "-q"],
            env=_env(), pass_fds=(write_end,), stderr=subprocess.PIPE,
        )  # fmt: skip
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "rb") as pipe:
            read_end = -1
            data = pipe.read()
        _, err = proc.communicate(timeout=120)
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    assert proc.returncode == 0, err
    assert data.decode() == expected_table
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.fa"]


def test_process_substitution_output(tmp_path, tiny_model, fasta, expected_table):
    script = f'{sys.executable} -m rnaigloo classify in.fa -m "$MODEL" -q -o >(cat > captured.tsv) -p >(cat > captured.faa); wait'
    proc = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env={**_env(), "MODEL": str(tiny_model)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    for _ in range(100):  # the substituted process may finish a moment after bash
        if (tmp_path / "captured.tsv").exists() and (tmp_path / "captured.tsv").read_text() == expected_table:
            break
        threading.Event().wait(0.05)
    assert (tmp_path / "captured.tsv").read_text() == expected_table
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captured.faa", "captured.tsv", "in.fa"]


def test_dev_stdout_is_standard_output(tiny_model, fasta, expected_table):
    proc = _rnaigloo("classify", fasta, "-m", tiny_model, "-o", "/dev/stdout", "-q", text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected_table
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", "/dev/stdout", "-q")  # in-process: main's stdout
    assert res.code == 0 and res.stdout == expected_table


def test_evaluate_plot_to_a_named_pipe(tmp_path, tiny_model, fasta):
    fifo = tmp_path / "plot.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    res = run_cli("evaluate", "--coding", fasta, "--noncoding", tmp_path / "nc.fa", "-m", tiny_model, "--plot", fifo, "-q")
    assert res.code == 1  # nc.fa does not exist: nothing is opened, so the reader is released by hand
    with open(fifo, "wb"):
        pass
    reader.join(10)
    (tmp_path / "nc.fa").write_text(">n\nCCCCCCCCCCGGGGG\n>m\nATGCCCTTTAAA\n")
    got.clear()
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    res = run_cli("evaluate", "--coding", fasta, "--noncoding", tmp_path / "nc.fa", "-m", tiny_model, "--plot", fifo, "-q")
    reader.join(30)
    assert res.code == 0, res.stderr
    assert got and got[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_missing_path_under_dev_is_never_created(tmp_path, tiny_model, fasta):
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", "/dev/rnaigloo-test-no-such-device", "-q")
    assert_one_error_line(res, "/dev/rnaigloo-test-no-such-device", "never created")
    assert not os.path.exists("/dev/rnaigloo-test-no-such-device")


# ---------------------------------------------------------------------------- system errors name the file


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_write_the_system_refuses_names_the_output_and_leaves_nothing(tmp_path, tiny_model):
    big = tmp_path / "big.fa"
    big.write_text("".join(f">r{i}\nATGAAACCCGGGTTTTAA\n" for i in range(400)))
    out = tmp_path / "out.tsv"
    proc = _rnaigloo("classify", big, "-m", tiny_model, "-o", out, "-q", text=True, preexec_fn=_limit_file_size)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rnaigloo: error: cannot write {out}: File too large"), proc.stderr
    assert ".part" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.fa"]


def test_a_refused_temporary_file_is_reported_under_the_users_name(tmp_path, tiny_model, fasta, monkeypatch):
    import tempfile

    import rnaigloo.io.files as files

    def refuse(prefix="", suffix="", dir=None):  # noqa: A002 - tempfile's own argument name
        name = os.path.join(dir, prefix + "x1y2" + suffix)
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", tmp_path / "o.tsv", "-q")
    line = assert_one_error_line(res, f"cannot write {tmp_path / 'o.tsv'}: Permission denied")
    assert ".part" not in line
    monkeypatch.setattr(files.tempfile, "mkstemp", tempfile.mkstemp)

    def replace_refused(src, dst):
        raise PermissionError(13, "Permission denied", str(src))

    monkeypatch.setattr(files.os, "replace", replace_refused)
    res = run_cli("classify", fasta, "-m", tiny_model, "-o", tmp_path / "o.tsv", "-q")
    assert_one_error_line(res, f"cannot write {tmp_path / 'o.tsv'}: Permission denied")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.fa"]
