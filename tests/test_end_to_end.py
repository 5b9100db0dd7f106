"""train -> classify -> evaluate through the command line, on real and on example data."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from Bio.SeqIO.FastaIO import SimpleFastaParser
from conftest import EXAMPLES, TSV_ENGINE_TOLERANCE, run_cli, tiny_set_args


def _take(src: Path, dest: Path, n: int) -> int:
    with gzip.open(src, "rt") as fh, open(dest, "w") as out:
        count = 0
        for header, seq in SimpleFastaParser(fh):
            if count == n:
                break
            out.write(f">{header}\n{seq}\n")
            count += 1
    return count


# The table's columns as users and RNAsamba-compatible scripts read them: written out here,
# not taken from the code, so that a change to the writer fails this test.
HEADER = [
    "sequence_name", "coding_score", "classification",
    "orf_start", "orf_end", "orf_length", "orf_5prime", "orf_3prime",
]  # fmt: skip


def _rows(tsv: str) -> list[list[str]]:
    lines = tsv.splitlines()
    assert lines[0].split("\t") == HEADER
    return [line.split("\t") for line in lines[1:]]


def test_real_data_train_classify_evaluate(shared_data, tmp_path):
    coding, noncoding = tmp_path / "coding.fa", tmp_path / "noncoding.fa"
    assert _take(shared_data / "human_train_coding.fa.gz", coding, 200) == 200
    assert _take(shared_data / "human_train_noncoding.fa.gz", noncoding, 200) == 200
    model = tmp_path / "real.keras"
    res = run_cli(
        "train", "--coding", coding, "--noncoding", noncoding, "-o", model,
        "--epochs", "4", "--seed", "3", "--val-fraction", "0.2", "-q", *tiny_set_args(),
    )  # fmt: skip
    assert res.code == 0, res.stderr

    card = json.loads((tmp_path / "real.card.json").read_text())
    report = json.loads((tmp_path / "real.report.json").read_text())
    assert card["training_data"]["coding"] == 200 and card["training_data"]["noncoding"] == 200
    assert card["training"]["seed"] == 3 and 0 < card["threshold"] < 1
    assert len(report["history"]) == card["training"]["epochs_run"] >= 1
    assert {"loss", "val_loss"} <= set(report["history"][0])
    assert (tmp_path / "real.report.png").stat().st_size > 0
    assert not (tmp_path / "real.checkpoint").exists()

    out = tmp_path / "calls.tsv"
    res = run_cli("classify", coding, noncoding, "-m", model, "-o", out, "-q")
    assert res.code == 0, res.stderr
    rows = _rows(out.read_text())
    assert len(rows) == 400
    with open(coding) as fh:
        first = next(SimpleFastaParser(fh))[0]
    assert rows[0][0] == first

    res = run_cli("evaluate", "--coding", coding, "--noncoding", noncoding, "-m", model, "--json", "-q")
    assert res.code == 0, res.stderr
    metrics = json.loads(res.stdout)
    assert metrics["n"] == 400
    # 4 epochs of a tiny network on real data learn the longest-ORF signal at least
    assert metrics["auroc"] > 0.8
    # the same calls as classify made, counted
    coding_calls = sum(r[2] == "coding" for r in rows)
    assert metrics["tp"] + metrics["fp"] == coding_calls


def test_classify_example_data_rows_in_input_order(tiny_model, tmp_path):
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-q")
    assert res.code == 0, res.stderr
    rows = _rows(res.stdout)
    with gzip.open(EXAMPLES / "transcripts.fa.gz", "rt") as fh:
        headers = [h for h, _ in SimpleFastaParser(fh)]
    assert [r[0] for r in rows] == headers
    for r in rows:
        assert 0.0 <= float(r[1]) <= 1.0
        assert r[2] in ("coding", "noncoding")


def test_threshold_option_decides_the_call(tiny_model):
    low = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "--threshold", "0", "-q").stdout)
    high = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "--threshold", "1", "-q").stdout)
    assert all(r[2] == "coding" for r in low)
    assert all(r[2] == "noncoding" for r in high if float(r[1]) < 1.0)


def test_ensemble_of_one_model_twice_gives_the_same_scores(tiny_model):
    one = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-q").stdout)
    two = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-m", tiny_model, "-q").stdout)
    np.testing.assert_allclose([float(r[1]) for r in one], [float(r[1]) for r in two], atol=2e-5)


def test_protein_and_cds_fasta_hold_the_coding_calls(tiny_model, tmp_path):
    faa, fna = tmp_path / "p.faa", tmp_path / "c.fna"
    res = run_cli(
        "classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "--threshold", "0",
        "-p", faa, "--cds-fasta", fna, "-o", tmp_path / "o.tsv", "-q",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    rows = _rows((tmp_path / "o.tsv").read_text())
    with open(faa) as fh:
        proteins = list(SimpleFastaParser(fh))
    with open(fna) as fh:
        cds = list(SimpleFastaParser(fh))
    with_orf = [r for r in rows if r[3] != "NA"]
    assert len(proteins) == len(cds) == len(with_orf)
    for (ph, prot), (ch, nt), row in zip(proteins, cds, with_orf):
        assert ph.split()[0] == ch.split()[0] == row[0].split()[0]
        assert (prot.startswith("M") or row[6] == "partial") and len(nt) == int(row[5])  # 5'-open: any first codon
        assert len(prot) == (len(nt) - 3 if row[7] == "complete" else len(nt)) // 3


def test_evaluate_table_and_plot(tiny_model, tmp_path):
    plot = tmp_path / "curves.png"
    res = run_cli(
        "evaluate", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-m", tiny_model, "--plot", plot, "-q",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    for name in ("accuracy", "sensitivity", "specificity", "precision", "f1", "mcc", "auroc", "auprc"):
        assert any(line.startswith(name) for line in res.stdout.splitlines()), name
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_api_matches_cli(tiny_model):
    from rnaigloo import Classifier, read_fasta

    clf = Classifier.load([tiny_model])
    rows = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-b", "16", "-q").stdout)
    same_batches = list(clf.predict(read_fasta(EXAMPLES / "transcripts.fa.gz"), batch_size=16))
    assert [f"{p.score:.5f}" for p in same_batches] == [r[1] for r in rows]
    # other batches group the transcripts differently (BLAS sums in another order): the
    # fifth decimal may differ by one, as between CLI runs with different -b
    other_batches = list(clf.predict(read_fasta(EXAMPLES / "transcripts.fa.gz"), batch_size=7))
    np.testing.assert_allclose([p.score for p in other_batches], [float(r[1]) for r in rows], atol=2e-5)


def test_batch_size_does_not_change_scores(tiny_model):
    a = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-b", "1", "-q").stdout)
    b = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-b", "64", "-q").stdout)
    np.testing.assert_allclose([float(r[1]) for r in a], [float(r[1]) for r in b], atol=2e-5)


def test_mixed_precision_classify_is_close_to_float32(tiny_model):
    exact = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-q").stdout)
    mixed = _rows(
        run_cli(
            "classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "--engine", "tensorflow", "--mixed-precision", "-q"
        ).stdout
    )
    assert [r[0] for r in exact] == [r[0] for r in mixed]
    np.testing.assert_allclose([float(r[1]) for r in exact], [float(r[1]) for r in mixed], atol=0.02)


def test_mixed_precision_training_writes_a_usable_model(tmp_path):
    model = tmp_path / "mp.keras"
    res = run_cli(
        "train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", model, "--epochs", "1", "--mixed-precision", "-q", *tiny_set_args(),
    )  # fmt: skip
    assert res.code == 0, res.stderr
    card = json.loads((tmp_path / "mp.card.json").read_text())
    assert card["training"]["precision"].startswith("mixed_")
    import keras

    assert keras.mixed_precision.global_policy().name == "float32"  # restored after training
    rows = _rows(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", model, "-q").stdout)
    assert len(rows) == 40 and all(0 <= float(r[1]) <= 1 for r in rows)


def test_model_info_checks_and_prints_the_card(tiny_model, tmp_path):
    res = run_cli("model-info", "-m", tiny_model)
    assert res.code == 0, res.stderr
    card = json.loads(tiny_model.with_name("tiny.card.json").read_text())
    assert card["sha256"] in res.stdout and "(checked)" in res.stdout
    md = run_cli("model-info", "-m", tiny_model, "--markdown").stdout
    assert md.startswith("### Model card: tiny") and "| validation |" in md
    assert json.loads(run_cli("model-info", "-m", tiny_model, "--json").stdout)["threshold"] == card["threshold"]


def test_numpy_and_tensorflow_engines_agree(tiny_model):
    args = ("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-q")
    numpy_rows = _rows(run_cli(*args).stdout)
    tf_rows = _rows(run_cli(*args, "--engine", "tensorflow").stdout)
    assert [r[0] for r in numpy_rows] == [r[0] for r in tf_rows]
    np.testing.assert_allclose([float(r[1]) for r in numpy_rows], [float(r[1]) for r in tf_rows], atol=TSV_ENGINE_TOLERANCE)
    assert [r[3:] for r in numpy_rows] == [r[3:] for r in tf_rows]


def test_worker_processes_give_the_same_table_as_one_process(tiny_model, monkeypatch):
    from rnaigloo.classify import workers
    from rnaigloo.runtime.resources import available_cores

    if available_cores() < 2:
        pytest.skip(f"-t 2 needs 2 CPUs to start workers; this process may use {available_cores()}")
    pools, answered = [], []
    start, receive = workers.WorkerPool.__init__, workers.WorkerPool.receive

    def started(self, *args, **kwargs):
        start(self, *args, **kwargs)
        pools.append(self)

    def received(self, i):
        answered.append(i % self.n)
        return receive(self, i)

    monkeypatch.setattr(workers.WorkerPool, "__init__", started)
    monkeypatch.setattr(workers.WorkerPool, "receive", received)
    one = run_cli("classify", EXAMPLES / "train_coding.fa.gz", "-m", tiny_model, "-t", "1", "-b", "16", "-q")
    assert one.code == 0 and pools == [], one.stderr  # -t 1 scores in this process
    two = run_cli("classify", EXAMPLES / "train_coding.fa.gz", "-m", tiny_model, "-t", "2", "-b", "16", "-q")
    assert two.code == 0, two.stderr
    assert len(pools) == 1 and [p.pid is not None for p in pools[0].procs] == [True, True]
    assert sorted(set(answered)) == [0, 1] and len(answered) == 13  # 201 records in batches of 16, both workers
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) == 201


def test_mixed_precision_needs_the_tensorflow_engine(tiny_model):
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "--mixed-precision", "-q")
    assert res.code == 2 and "--engine tensorflow" in res.stderr


def test_output_files_get_ordinary_permissions(tiny_model, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", tiny_model, "-o", tmp_path / "o.tsv", "-q")
    finally:
        os.umask(old)
    assert res.code == 0, res.stderr
    assert stat.S_IMODE((tmp_path / "o.tsv").stat().st_mode) == 0o644
