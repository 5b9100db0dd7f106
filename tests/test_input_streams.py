"""Input streams: stdin is left open, compressed files leave no open file behind, and a
damaged compressed input gives one wording whichever reader meets it."""

from __future__ import annotations

import bz2
import gc
import gzip
import io
import lzma
import os
import random
import re
import sys
import types
import warnings
from pathlib import Path

import pytest
from synthetic_genome import gtf_text, write_bgzip

from rnaigloo import InputError, read_fasta
from rnaigloo.io.annotation import read_annotation
from rnaigloo.io.genome import Genome

FASTA = b">a first\nACGTACGT\n>b\nTTGGCCAA\n>c\nGGGG\n"
MANY = b"".join(b">r%d\nACGTTGCAACGTAGGT\n" % i for i in range(5000))  # ~100 kB, unique IDs
COMPRESS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _stdin_from(monkeypatch, buffer) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=buffer))


# --- stdin is the caller's: reading '-' never closes it ---------------------------------


@pytest.mark.parametrize("data", [FASTA, gzip.compress(FASTA), bz2.compress(FASTA)], ids=["plain", "gzip", "bzip2"])
def test_reading_stdin_leaves_it_open(monkeypatch, data):
    buffer = io.BufferedReader(io.BytesIO(data))
    _stdin_from(monkeypatch, buffer)
    assert [r.id for r in read_fasta("-")] == ["a", "b", "c"]
    assert not sys.stdin.buffer.closed
    assert sys.stdin.buffer.read() == b""  # still readable


def test_stdin_pipe_stays_open_after_reading(monkeypatch):
    r, w = os.pipe()
    os.write(w, FASTA)
    os.close(w)
    with open(r, "rb") as pipe:
        _stdin_from(monkeypatch, pipe)
        assert len(list(read_fasta("-"))) == 3
        assert not pipe.closed
        assert pipe.read() == b""


def test_stdin_stays_open_when_reading_stops_early_or_fails(monkeypatch):
    _stdin_from(monkeypatch, io.BufferedReader(io.BytesIO(FASTA)))
    records = read_fasta("-")
    assert next(records).id == "a"
    records.close()  # the caller stops after one record
    gc.collect()
    assert not sys.stdin.buffer.closed
    _stdin_from(monkeypatch, io.BufferedReader(io.BytesIO(b">a\nACGT\n>a\nACGT\n")))
    with pytest.raises(InputError, match="duplicate"):
        list(read_fasta("-"))
    gc.collect()
    assert not sys.stdin.buffer.closed


def test_annotation_from_stdin_leaves_it_open(monkeypatch):
    _stdin_from(monkeypatch, io.BufferedReader(io.BytesIO(gzip.compress(gtf_text().encode()))))
    assert read_annotation("-").transcripts
    assert not sys.stdin.buffer.closed
    assert sys.stdin.buffer.read() == b""


# --- a compressed file is closed with its decompressor --------------------------------


def _no_resource_warning(action) -> None:
    """Run ``action``, collect garbage, and fail on any file left for the collector to close."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        action()
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaked, leaked


@needs_proc
@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_compressed_fasta_leaves_no_open_file(tmp_path, kind):
    path = tmp_path / "in.fa.x"
    path.write_bytes(COMPRESS[kind](FASTA))
    before = _open_fds()
    _no_resource_warning(lambda: list(read_fasta(path)))
    records = read_fasta(path)
    next(records)
    records.close()  # stopped after one record
    assert _open_fds() == before


@needs_proc
def test_corrupt_compressed_fasta_leaves_no_open_file(tmp_path):
    path = tmp_path / "cut.fa.gz"
    path.write_bytes(gzip.compress(MANY)[:-30])
    before = _open_fds()
    with pytest.raises(InputError, match="ends early") as err:
        list(read_fasta(path))
    assert _open_fds() == before, "the raw file is still open while the error is held"
    del err
    _no_resource_warning(lambda: pytest.raises(InputError, lambda: list(read_fasta(path))))


@needs_proc
def test_compressed_annotation_leaves_no_open_file(tmp_path):
    path = tmp_path / "a.gtf.gz"
    path.write_bytes(gzip.compress(gtf_text().encode()))
    before = _open_fds()
    _no_resource_warning(lambda: read_annotation(path))
    cut = tmp_path / "cut.gtf.gz"
    cut.write_bytes(gzip.compress(gtf_text().encode() * 50)[:-30])
    with pytest.raises(InputError, match="ends early"):
        read_annotation(cut)
    assert _open_fds() == before


# --- one wording for a damaged compressed input, whichever reader -----------------------


def _genome_text() -> str:
    rng = random.Random(3)
    lines = ["".join(rng.choice("ACGT") for _ in range(60)) for _ in range(3000)]  # ~180 kB: several BGZF blocks
    return ">chr1\n" + "\n".join(lines) + "\n"


def _inputs(tmp_path: Path) -> dict[str, Path]:
    """The same damage done to a FASTA, a GTF and a genome, all bgzip-compressed."""
    return {
        "fasta": write_bgzip(tmp_path / "reads.fa.gz", MANY.decode()),
        "gtf": write_bgzip(tmp_path / "a.gtf.gz", gtf_text() * 400),
        "genome": write_bgzip(tmp_path / "genome.fa.gz", _genome_text()),
    }


def _error(kind: str, path: Path) -> str:
    with pytest.raises(InputError) as err:
        if kind == "fasta":
            list(read_fasta(path, None))
        elif kind == "gtf":
            read_annotation(path)
        else:
            with Genome(path):
                pass
    return str(err.value)


def _without_line(message: str) -> str:
    return re.sub(r" after line \d+", "", message)


def test_truncated_compressed_input_is_one_wording(tmp_path):
    messages = {}
    for kind, path in _inputs(tmp_path).items():
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])  # cut inside a block
        messages[kind] = _without_line(_error(kind, path)).replace(str(path), "FILE")
    assert set(messages.values()) == {"FILE: compressed stream ends early (truncated download?)"}, messages


def test_corrupt_compressed_input_is_one_wording(tmp_path):
    for kind, path in _inputs(tmp_path).items():
        data = bytearray(path.read_bytes())
        data[18] = 0xFF  # the first deflate block header (after the 18-byte BGZF header): a reserved block type
        path.write_bytes(bytes(data))
        message = _error(kind, path)
        assert "\n" not in message
        assert _without_line(message).startswith(f"{path}: corrupt compressed data: "), (kind, message)


def test_genome_missing_its_end_of_file_block_is_truncated(tmp_path):
    path = write_bgzip(tmp_path / "genome.fa.gz", _genome_text())
    path.write_bytes(path.read_bytes()[:-28])  # the empty BGZF block that ends every bgzip file
    assert _error("genome", path) == f"{path}: compressed stream ends early (truncated download?)"


def test_bzip2_corruption_is_worded_as_corrupt(tmp_path):
    data = bytearray(bz2.compress(MANY))
    data[4:10] = bytes(6)  # the first block's magic number
    path = tmp_path / "bad.fa.bz2"
    path.write_bytes(bytes(data))
    assert _without_line(_error("fasta", path)).startswith(f"{path}: corrupt compressed data: ")


def test_other_compressions_are_refused_for_a_genome(tmp_path):
    path = tmp_path / "genome.fa.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(40))
    assert _error("genome", path) == (
        f"{path} is zstd-compressed; decompress it, or recompress it with bgzip (htslib/samtools)"
    )
