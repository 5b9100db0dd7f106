"""Training under tf.distribute: the --devices choice, and MirroredStrategy on two logical CPUs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, TSV_ENGINE_TOLERANCE, run_cli, tiny_set_args

from rnaigloo.errors import InputError
from rnaigloo.training.devices import parse_devices


def test_devices_choices():
    assert parse_devices("all", 0) is None  # the CPU, default strategy
    assert parse_devices("all", 1) is None  # one GPU, default strategy
    assert parse_devices("all", 3) == ["/gpu:0", "/gpu:1", "/gpu:2"]
    assert parse_devices("cpu", 2) == ["/cpu:0"]
    assert parse_devices("1, 0", 2) == ["/gpu:1", "/gpu:0"]
    assert parse_devices("cpu:0,/CPU:1", 0) == ["/cpu:0", "/cpu:1"]


@pytest.mark.parametrize(
    ("spec", "gpus", "message"),
    [
        ("0,1", 1, "no GPU 1; TensorFlow sees 1 GPU(s) (0-0)"),
        ("0", 0, "no GPU 0; TensorFlow sees 0 GPU(s)"),
        ("gpus", 2, "expected all, cpu, or GPU indices such as 0,1; found 'gpus'"),
        ("0,0", 2, "a device is named twice"),
    ],
)
def test_devices_refusals(spec, gpus, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_devices(spec, gpus)


def test_train_rejects_a_gpu_it_does_not_have(tmp_path):
    res = run_cli(
        "train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", tmp_path / "m.keras", "--devices", "7", "-q",
    )  # fmt: skip
    assert res.code == 1 and "--devices 7: no GPU 7" in res.stderr
    assert not list(tmp_path.iterdir())


def test_train_refuses_a_cluster_of_machines(tmp_path, monkeypatch):
    cluster = {"cluster": {"worker": ["node1:2222", "node2:2222"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    res = run_cli(
        "train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", tmp_path / "m.keras", "-q",
    )  # fmt: skip
    assert res.code == 1
    assert res.stderr.startswith("rnaigloo: error: TF_CONFIG names 2 workers, but training across machines")
    assert res.stderr.count("\n") == 1
    monkeypatch.setenv("TF_CONFIG", "not json")
    res = run_cli("train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
                  "-o", tmp_path / "m.keras", "-q")  # fmt: skip
    assert res.code == 1 and "TF_CONFIG is set but is not TensorFlow's cluster JSON" in res.stderr
    assert not list(tmp_path.iterdir())


# Two logical CPU devices must be set before TensorFlow starts: a process of its own.
_MIRRORED = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from rnaigloo.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_mirrored_training_on_two_logical_cpus(tmp_path):
    out = tmp_path / "mirrored.keras"
    args = [
        "train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", out, "--epochs", "3", "--seed", "1", "-b", "32", "--devices", "cpu:0,cpu:1", "-q", *tiny_set_args(),
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", _MIRRORED, *map(str, args)],
        check=False, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = json.loads(out.with_name("mirrored.card.json").read_text())
    training = card["training"]
    assert training["device"] == "2 CPUs (MirroredStrategy)"
    assert (training["replicas"], training["batch_size"], training["global_batch_size"]) == (2, 32, 64)
    assert training["epochs_run"] == 3
    assert card["validation_metrics"]["auroc"] > 0.8  # it learned (one device: about 0.95 on this data)
    # the saved model loads and scores, in both engines, with the same result
    tables = []
    for engine in ("numpy", "tensorflow"):
        res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", out, "--engine", engine, "-q", "-t", "1")
        assert res.code == 0, res.stderr
        tables.append(res.stdout)
    # the engines agree to within their tolerance; a calibrated score can round either way at the 5th decimal
    numpy_rows, tf_rows = ([line.split("\t") for line in t.splitlines()] for t in tables)
    assert [r[:1] + r[2:] for r in numpy_rows] == [r[:1] + r[2:] for r in tf_rows]
    assert all(abs(float(a[1]) - float(b[1])) <= TSV_ENGINE_TOLERANCE for a, b in zip(numpy_rows[1:], tf_rows[1:]))
    assert tables[0].count("\n") == 41
    assert run_cli("model-info", "-m", out).code == 0
