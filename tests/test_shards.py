"""split -> classify each shard -> merge gives the table of one classify run, byte for byte."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli

from rnaigloo.io.shards import shard_names, shard_sizes

STOPS = ("TAA", "TAG", "TGA")
SENSE = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in STOPS]


def generated_fasta(path: Path, n: int, seed: int = 7) -> Path:
    """``n`` transcripts: half with a long ORF between random UTRs, half random; odd headers mixed in."""
    rng = random.Random(seed)
    with open(path, "w") as fh:
        for i in range(n):
            utr5 = "".join(rng.choice("ACGT") for _ in range(rng.randint(0, 200)))
            utr3 = "".join(rng.choice("ACGT") for _ in range(rng.randint(0, 300)))
            if i % 2:
                body = "ATG" + "".join(rng.choice(SENSE) for _ in range(rng.randint(50, 400))) + rng.choice(STOPS)
            else:
                body = "".join(rng.choice("ACGTN") for _ in range(rng.randint(100, 1200)))
            seq = (utr5 + body + utr3).lower() if i % 7 == 0 else utr5 + body + utr3
            header = f"tx{i} len={len(seq)}" + ("\tsample=a b" if i % 11 == 0 else "")
            lines = [seq[j : j + 70] for j in range(0, len(seq), 70)]
            fh.write(f">{header}\n" + "\n".join(lines) + "\n")
        fh.write(">empty_record\n>tiny AC\nAC\n")
    return path


def _split_classify_merge(inputs: list[Path], shards: int, work: Path, *extra: str, order=None, batch=256) -> Path:
    res = run_cli("split", *inputs, "-n", str(shards), "-d", work, "-q", "-b", str(batch), *extra)
    assert res.code == 0, res.stderr
    gz = "--gzip" in extra
    names = shard_names(shards, gz)
    assert sorted(p.name for p in work.iterdir()) == sorted([*names, "manifest.json"])
    tables = []
    for name in names:
        table = work / (name.split(".")[0] + ".tsv")
        res = run_cli("classify", work / name, "-o", table, "-q", "-t", "1", "-b", str(batch))
        assert res.code == 0, res.stderr
        tables.append(table)
    if order is not None:
        tables = [tables[i] for i in order]
    merged = work / "merged.tsv"
    res = run_cli("merge", "--manifest", work / "manifest.json", *tables, "-o", merged, "-q")
    assert res.code == 0, res.stderr
    return merged


def test_split_classify_merge_equals_one_run(tmp_path):
    fasta = generated_fasta(tmp_path / "tx.fa", 2000)
    single = tmp_path / "single.tsv"
    assert run_cli("classify", fasta, "-o", single, "-q", "-t", "1").code == 0
    # tables handed over out of order, as a pipeline engine may collect them
    merged = _split_classify_merge([fasta], 4, tmp_path / "shards", order=[2, 0, 3, 1])
    assert merged.read_bytes() == single.read_bytes()
    assert single.read_text().count("\n") == 2003  # header + 2000 + 2 short records
    manifest = json.loads((tmp_path / "shards" / "manifest.json").read_text())
    # whole batches of 256: 2002 records are 8 batches, two a shard, the short one last
    assert [s["records"] for s in manifest["shards"]] == [512, 512, 512, 466]
    names = [line.split("\t")[0] for line in single.read_text().splitlines()[1:]]
    starts = [0, 512, 1024, 1536]
    assert [s["first"].replace("\t", " ") for s in manifest["shards"]] == [names[i] for i in starts]
    assert [s["last"].replace("\t", " ") for s in manifest["shards"]] == [names[i - 1] for i in starts[1:]] + [names[-1]]
    assert manifest["shards"][0]["first"].endswith("\tsample=a b")  # the header as read; the table writes a space


def test_split_gzipped_shards_over_several_inputs(tmp_path):
    inputs = [EXAMPLES / "transcripts.fa.gz", generated_fasta(tmp_path / "more.fa", 30)]
    single = tmp_path / "single.tsv"
    assert run_cli("classify", *inputs, "-o", single, "-q", "-t", "1", "-b", "16").code == 0
    merged = _split_classify_merge(inputs, 3, tmp_path / "shards", "--gzip", batch=16)
    assert merged.read_bytes() == single.read_bytes()
    with gzip.open(tmp_path / "shards" / "shard_0001.fa.gz", "rt") as fh:
        assert fh.readline().startswith(">")


def test_one_shard_and_as_many_shards_as_records(tmp_path):
    fasta = generated_fasta(tmp_path / "tx.fa", 5)  # 7 records
    single = tmp_path / "single.tsv"
    assert run_cli("classify", fasta, "-o", single, "-q", "-t", "1", "-b", "1").code == 0
    for k in (1, 7):
        merged = _split_classify_merge([fasta], k, tmp_path / f"k{k}", batch=1)
        assert merged.read_bytes() == single.read_bytes()


@pytest.mark.parametrize(
    ("total", "shards", "batch", "sizes"),
    [
        (2002, 4, 256, [512, 512, 512, 466]),
        (10, 3, 1, [4, 3, 3]),
        (1000, 3, 256, [512, 256, 232]),
        (256, 1, 256, [256]),
        (257, 2, 256, [256, 1]),
    ],
)
def test_shards_hold_whole_batches(total, shards, batch, sizes):
    assert shard_sizes(total, shards, batch) == sizes


def test_one_blas_thread_means_one(tmp_path):
    # -t 1 scores in the main process; its BLAS must be limited like the workers' (it was
    # not when NumPy loaded after the limit), or scores differ from -t 2 in the last digit
    code = (
        "from rnaigloo.runtime.resources import limit_numpy_threads; limit_numpy_threads(1); "
        "from threadpoolctl import threadpool_info; "
        "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))"
    )
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(var, None)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    assert out.strip() == "[1]"


def test_duplicate_id_across_shards_fails_like_one_run(tmp_path):
    # the two copies of tx1 would land in different shards: split must refuse, as classify does
    a = generated_fasta(tmp_path / "a.fa", 20)
    b = tmp_path / "b.fa"
    b.write_text(">other\nACGT\n>tx1 again\nACGTACGT\n")
    one = run_cli("classify", a, b, "-q", "-t", "1")
    res = run_cli("split", a, b, "-n", "4", "-d", tmp_path / "shards")
    assert one.code == res.code == 1
    assert res.stderr.strip() == one.stderr.strip()
    assert "duplicate sequence ID 'tx1'" in res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "shards").exists()


def test_bad_record_late_in_the_input_leaves_no_shards(tmp_path):
    fasta = generated_fasta(tmp_path / "tx.fa", 50)
    with open(fasta, "a") as fh:
        fh.write(">prot\nMKVLAAGIVGLLLAQWERTYKLMNPQRST\n")
    out = tmp_path / "shards"
    out.mkdir()
    res = run_cli("split", fasta, "-n", "2", "-d", out)
    assert res.code == 1 and "looks like a protein sequence" in res.stderr
    assert list(out.iterdir()) == []


def test_split_refusals(tmp_path):
    fasta = generated_fasta(tmp_path / "tx.fa", 2)  # 4 records
    res = run_cli("split", fasta, "-n", "5", "-d", tmp_path / "s", "-b", "1")
    assert res.code == 1 and "4 record(s) cannot fill 5 shards; ask for 4 shard(s) or fewer" in res.stderr
    res = run_cli("split", fasta, "-n", "2", "-d", tmp_path / "s")
    assert res.code == 1 and "4 record(s) (1 batch(es) of 256) cannot fill 2 shards; ask for 1 shard(s)" in res.stderr
    res = run_cli("split", "-", "-n", "2", "-d", tmp_path / "s")
    assert res.code == 2 and "not '-'" in res.stderr
    res = run_cli("split", tmp_path / "missing.fa", "-n", "2", "-d", tmp_path / "s")
    assert res.code == 1 and "input file not found" in res.stderr
    res = run_cli("split", fasta, "-n", "0", "-d", tmp_path / "s")
    assert res.code == 2
    (tmp_path / "file").write_text("x")
    res = run_cli("split", fasta, "-n", "2", "-d", tmp_path / "file")
    assert res.code == 1 and "not a directory" in res.stderr


@pytest.fixture
def shard_tables(tmp_path):
    fasta = generated_fasta(tmp_path / "tx.fa", 40)
    work = tmp_path / "shards"
    _split_classify_merge([fasta], 3, work, batch=8)
    return work, [work / f"shard_000{i}.tsv" for i in (1, 2, 3)]


def _merge(work: Path, *tables: Path, out: Path | None = None):
    out = out or work / "out.tsv"
    return run_cli("merge", "--manifest", work / "manifest.json", *tables, "-o", out), out


def test_merge_refuses_missing_repeated_and_foreign_tables(shard_tables, tmp_path):
    work, tables = shard_tables
    res, out = _merge(work, tables[0], tables[2])
    assert res.code == 1 and "no table given for 1 of 3 shards (first: shard_0002.fa)" in res.stderr
    res, _ = _merge(work, *tables, tables[1])
    assert res.code == 1 and "both the table of shard_0002.fa" in res.stderr
    foreign = tmp_path / "foreign.tsv"
    run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-o", foreign, "-q", "-t", "1")
    res, _ = _merge(work, tables[0], foreign, tables[2])
    assert res.code == 1 and "starts none of the shards" in res.stderr
    not_a_table = tmp_path / "notes.txt"
    not_a_table.write_text("hello\n")
    res, _ = _merge(work, not_a_table, *tables)
    assert res.code == 1 and "expected a classify table with the header" in res.stderr
    assert not out.exists()


def test_merge_refuses_a_table_missing_rows(shard_tables):
    work, tables = shard_tables
    lines = tables[1].read_text().splitlines(keepends=True)
    tables[1].write_text("".join(lines[:-1]))  # last row lost
    res, out = _merge(work, *tables)
    assert res.code == 1 and "shard_0002.fa" in res.stderr and "was the shard classified completely" in res.stderr
    assert not out.exists()  # nothing half-written under the requested name
    tables[1].write_text("".join(lines)[:-5])  # cut inside the last row
    res, out = _merge(work, *tables)
    assert res.code == 1 and "tab-separated fields and a line end" in res.stderr


def test_merge_refuses_a_foreign_manifest(shard_tables, tmp_path):
    _, tables = shard_tables
    bad = tmp_path / "bad.json"
    bad.write_text('{"shards": []}')
    res = run_cli("merge", "--manifest", bad, *tables)
    assert res.code == 1 and "not a shard manifest" in res.stderr
    res = run_cli("merge", "--manifest", tmp_path / "none.json", *tables)
    assert res.code == 1 and "shard manifest not found" in res.stderr


def test_merge_to_stdout(shard_tables):
    work, tables = shard_tables
    res = run_cli("merge", "--manifest", work / "manifest.json", *tables, "-q")
    assert res.code == 0 and res.stdout == (work / "merged.tsv").read_text()


def test_split_notices_an_input_that_changes_between_its_two_readings(tmp_path, monkeypatch):
    import rnaigloo.io.shards as shards_module

    fasta = generated_fasta(tmp_path / "tx.fa", 6)  # 8 records
    real = shards_module.read_many

    for change, word in ((-1, "fewer"), (1, "more")):
        calls = []

        def read_many(paths, change=change, calls=calls):
            calls.append(1)
            records = list(real(paths))
            if len(calls) == 2:
                records = records[:-1] if change < 0 else [*records, records[-1]]
            return iter(records)

        monkeypatch.setattr(shards_module, "read_many", read_many)
        out = tmp_path / f"shards{change}"
        res = run_cli("split", fasta, "-n", "2", "-b", "1", "-d", out)
        assert res.code == 1 and f"{word} records on the second reading" in res.stderr
        assert not list(out.iterdir())
